"""The agent's pages: the dashboard, the queue, one ticket and everything done on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from escalated.inertia.customer import reply_input, ticket_only
from escalated.inertia.execute import run
from escalated.inertia.forms import Form, blank_none, upper
from escalated.inertia.pages import Context, Page, Prop, constant, take
from escalated.inertia.queue import queue_filter, queue_filters
from escalated.inertia.shape import activity, gid, shape, ticket_detail, ticket_row
from escalated.inertia.views import endpoint, form_view, json_view, page_view, url


def _rows(rows: Any) -> list[dict[str, Any]]:
    return [ticket_row(r) for r in rows or []]


def _stats(stats: Any) -> dict[str, int]:
    stats = stats or {}
    return {
        "open": stats.get("open", 0),
        "my_assigned": stats.get("mine", 0),
        "unassigned": stats.get("unassigned", 0),
        "sla_breached": stats.get("sla_breached", 0),
        "resolved_today": stats.get("resolved_today", 0),
    }


def _needs_attention(context: Context) -> dict[str, Any]:
    return {
        "sla_breaching": context.data.get("breaching") or [],
        "unassigned_urgent": context.data.get("unassigned_urgent") or [],
    }


DASHBOARD = Page(
    "Escalated/Agent/Dashboard",
    "AgentDashboard",
    {
        "stats": take("stats", _stats),
        "recentTickets": take("recent", _rows),
        "needsAttention": Prop(_needs_attention, ("breaching", "unassigned_urgent")),
        # The API counts what the agent resolved today; the week is not kept apart yet.
        "myPerformance": take(
            "stats", lambda s: {"resolved_today": (s or {}).get("mine_resolved_today", 0)}
        ),
    },
    audience="staff",
)


def _names(rows: Any) -> list[dict[str, Any]]:
    return [{"id": r["id"], "name": r["name"]} for r in rows or []]


def _queue_variables(request: HttpRequest, _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"filter": queue_filter(request.GET)}


INDEX = Page(
    "Escalated/Agent/TicketIndex",
    "AgentTicketIndex",
    {
        "tickets": take("tickets", lambda rows: {"data": _rows(rows)}),
        "filters": Prop(lambda context: queue_filters(context.request.GET)),
        "departments": take("departments", _names),
        "tags": take("tags"),
    },
    audience="staff",
    variables=_queue_variables,
)


def agent_ticket(raw: dict[str, Any], context: Context) -> dict[str, Any]:
    ticket = ticket_detail(raw)
    ticket["activities"] = [activity(a, context.now) for a in ticket.get("activities", [])]
    ticket["pinned_notes"] = [
        {k: r[k] for k in ("id", "body", "author", "created_at")}
        for r in ticket["replies"]
        if r["is_internal_note"] and r["is_pinned"]
    ]
    ticket.update(
        chat_session_id=None,
        chat_messages=[],
        subjects=[],
        related_tickets=[],
    )
    return ticket


SHOW = Page(
    "Escalated/Agent/TicketShow",
    "AgentTicketShow",
    {
        "ticket": Prop(lambda c: agent_ticket(c.data["ticket"], c), ("ticket",)),
        "departments": take("departments", _names),
        "tags": take("tags"),
        "cannedResponses": take("canned_responses"),
        "macros": take("macros"),
        "customActions": constant([]),
        "is_following": take("ticket.is_following", bool),
        "followers_count": take("ticket.followers_count", lambda n: n or 0),
    },
    audience="staff",
    variables=lambda _request, kwargs: {"reference": kwargs["ticket"]},
    required=("ticket",),
)


# --- forms on one ticket --------------------------------------------------------------------


def _status(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticketId": kwargs["ticket_id"], "status": upper(body.get("status"))}


def _priority(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticketId": kwargs["ticket_id"], "priority": upper(body.get("priority"))}


def _optional_gid(type_name: str, value: Any) -> str | None:
    value = blank_none(value)
    return gid(type_name, value) if value is not None else None


def _assign(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ticketId": kwargs["ticket_id"],
        "assigneeId": _optional_gid("User", body.get("agent_id")),
    }


def _department(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ticketId": kwargs["ticket_id"],
        "departmentId": _optional_gid("Department", body.get("department_id")),
    }


def _tags(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    tags = body.get("tag_ids") or body.get("tags") or []
    return {"ticketId": kwargs["ticket_id"], "tagIds": [gid("Tag", t) for t in tags]}


def _macro(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "macroId": _optional_gid("Macro", body.get("macro_id")) or "",
        "ticketIds": [kwargs["ticket_id"]],
    }


def _pin(_body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"replyId": kwargs["reply_id"], "pinned": not kwargs["is_pinned"]}


def _show(_request: HttpRequest, _payload: dict[str, Any], kwargs: Mapping[str, Any]) -> str:
    return url("escalated.agent.tickets.show", kwargs["ticket"])


def _back(kwargs: Mapping[str, Any]) -> str:
    return url("escalated.agent.tickets.show", kwargs["ticket"])


def _ticket_form(operation: str, payload: str, build: Any, flash: str, **options: Any) -> Form:
    return Form(operation, payload, build, _show, flash, audience="staff", **options)


REPLY = _ticket_form(
    "TicketReplyPost", "ticketReply", reply_input, "Reply sent.", general_field="body"
)
NOTE = _ticket_form(
    "TicketNotePost", "ticketNoteAdd", reply_input, "Note added.", general_field="body"
)
STATUS = _ticket_form(
    "TicketStatusPost", "ticketStatusChange", _status, "Status changed.", general_field="status"
)
PRIORITY = _ticket_form(
    "TicketPriorityPost",
    "ticketPriorityChange",
    _priority,
    "Priority changed.",
    general_field="priority",
)
ASSIGN = _ticket_form(
    "TicketAssignPost",
    "ticketAssign",
    _assign,
    "Ticket assigned.",
    fields={"assigneeId": "agent_id"},
    general_field="agent_id",
)
DEPARTMENT = _ticket_form(
    "TicketDepartmentPost",
    "ticketDepartmentChange",
    _department,
    "Department changed.",
    fields={"departmentId": "department_id"},
    general_field="department_id",
)
TAGS = _ticket_form(
    "TicketTagsPost",
    "ticketTagsAdd",
    _tags,
    "Tags added.",
    fields={"tagIds": "tag_ids"},
    general_field="tag_ids",
)
MACRO = _ticket_form(
    "TicketMacroPost",
    "macroApply",
    _macro,
    "Macro applied.",
    fields={"macroId": "macro_id"},
    general_field="macro_id",
)
PIN = _ticket_form("TicketPinPost", "ticketNotePin", _pin, "Note pin changed.")
FOLLOW = _ticket_form("TicketFollowPost", "ticketFollow", ticket_only, "You follow this ticket.")
UNFOLLOW = _ticket_form(
    "TicketUnfollowPost", "ticketUnfollow", ticket_only, "You no longer follow this ticket."
)


def _follow(request: HttpRequest, **kwargs: Any) -> Any:
    """The Follow button toggles: follow, or stop following when already following."""
    following = run(request, "TicketFollowState", {"reference": kwargs["ticket"]})["ticket"]
    form = UNFOLLOW if following and following["isFollowing"] else FOLLOW
    return form_view(form, _back)(request, **kwargs)


def _pin_toggle(request: HttpRequest, **kwargs: Any) -> Any:
    """Pin, or unpin a pinned note; a reply the viewer cannot see is a payload error."""
    kwargs["reply_id"] = gid("Reply", kwargs["reply"])
    found = run(request, "ReplyPinState", {"id": kwargs["reply_id"]})["node"] or {}
    kwargs["is_pinned"] = bool(found.get("isPinned"))
    return form_view(PIN, _back)(request, **kwargs)


def _presence(request: HttpRequest, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Say the agent is viewing the ticket; answer who else is (PresenceIndicator's poll)."""
    variables = {"input": {"ticketId": kwargs["ticket_id"], "state": "VIEWING"}}
    result = run(request, "TicketPresencePost", variables)["ticketPresence"]
    return {"viewers": [shape(v["user"]) for v in result["viewers"]]}


# --- the queue's bulk actions ---------------------------------------------------------------

BULK_FIELDS = {
    "status": lambda v: {"status": upper(v)},
    "priority": lambda v: {"priority": upper(v)},
    "assign": lambda v: {"assigneeId": _optional_gid("User", v)},
    "department": lambda v: {"departmentId": _optional_gid("Department", v)},
}


def _bulk(body: dict[str, Any], _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    ids = [gid("Ticket", t) for t in body.get("ticket_ids") or []]
    change = BULK_FIELDS.get(str(body.get("action")))
    # "delete" and unknown actions change nothing: the API has no ticket deletion, and an
    # empty change is refused by the mutation with a payload error.
    return {"ticketIds": ids, **(change(body.get("value")) if change else {})}


def _queue(_request: HttpRequest, _payload: dict[str, Any], _kwargs: Mapping[str, Any]) -> str:
    return url("escalated.agent.tickets.index")


BULK = Form(
    "TicketsBulkPost",
    "ticketsBulkUpdate",
    _bulk,
    _queue,
    "Tickets updated.",
    fields={"ticketIds": "ticket_ids"},
    general_field="action",
    audience="staff",
)


def agent_search(request: HttpRequest, _kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The @mention list: ``[{id, name, email}]``."""
    found = run(request, "AgentSearch", {"search": request.GET.get("q", "")[:100]})
    return shape(found["agents"])


N = "escalated.agent.tickets"
T = "agent/tickets/<str:ticket>"
urlpatterns = [
    *endpoint("agent/", GET=("escalated.agent.dashboard", page_view(DASHBOARD))),
    *endpoint("agent/tickets/", GET=(f"{N}.index", page_view(INDEX))),
    *endpoint(
        "agent/tickets/bulk/", POST=(f"{N}.bulk", form_view(BULK, lambda _k: url(f"{N}.index")))
    ),
    *endpoint(f"{T}/", GET=(f"{N}.show", page_view(SHOW))),
    *endpoint(f"{T}/reply/", POST=(f"{N}.reply", form_view(REPLY, _back))),
    *endpoint(f"{T}/note/", POST=(f"{N}.note", form_view(NOTE, _back))),
    *endpoint(f"{T}/status/", POST=(f"{N}.status", form_view(STATUS, _back))),
    *endpoint(f"{T}/priority/", POST=(f"{N}.priority", form_view(PRIORITY, _back))),
    *endpoint(f"{T}/assign/", POST=(f"{N}.assign", form_view(ASSIGN, _back))),
    *endpoint(f"{T}/department/", POST=(f"{N}.department", form_view(DEPARTMENT, _back))),
    *endpoint(f"{T}/tags/", POST=(f"{N}.tags", form_view(TAGS, _back))),
    *endpoint(f"{T}/macro/", POST=(f"{N}.macro", form_view(MACRO, _back))),
    *endpoint(f"{T}/follow/", POST=(f"{N}.follow", _follow)),
    *endpoint(f"{T}/replies/<int:reply>/pin/", POST=(f"{N}.pin", _pin_toggle)),
    *endpoint(f"{T}/presence/", POST=(f"{N}.presence", json_view("staff", _presence))),
    # useMentions asks /support/admin/agents/search whatever the prefix; agents use it too.
    *endpoint(
        "agent/admin/agents/search",
        GET=("escalated.agent.agents.search", json_view("staff", agent_search)),
    ),
    *endpoint(
        "admin/agents/search",
        GET=("escalated.admin.agents.search", json_view("staff", agent_search)),
    ),
]
