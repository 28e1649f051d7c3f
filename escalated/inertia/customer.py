"""The customer's pages: their tickets, a new ticket, one ticket and its forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from escalated.conf import PRIORITIES
from escalated.inertia.forms import Form, blank_none, upper
from escalated.inertia.pages import Page, Prop, take
from escalated.inertia.queue import queue_filter, queue_filters
from escalated.inertia.shape import gid, ticket_detail, ticket_row
from escalated.inertia.shared import viewer
from escalated.inertia.views import endpoint, form_view, page_view, url


def _mine(request: HttpRequest, _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's own tickets, even for staff (whose API scope is wider)."""
    user = viewer(request)["user"]
    mine = {"requester": gid("User", user["id"])} if user else {}
    return {"filter": {**queue_filter(request.GET), **mine}}


INDEX = Page(
    "Escalated/Customer/Index",
    "CustomerTicketIndex",
    {
        "tickets": take("tickets", lambda rows: {"data": [ticket_row(r) for r in rows or []]}),
        "filters": Prop(build=lambda context: queue_filters(context.request.GET)),
    },
    variables=_mine,
)


def departments_offered(rows: Any) -> list[dict[str, Any]]:
    """The departments a new ticket may go to: the active ones."""
    return [{"id": d["id"], "name": d["name"]} for d in rows or [] if d.get("is_active", True)]


CREATE = Page(
    "Escalated/Customer/Create",
    "CustomerTicketCreate",
    {
        "departments": take("departments", departments_offered),
        "priorities": Prop(build=lambda _context: list(PRIORITIES)),
    },
)

SHOW = Page(
    "Escalated/Customer/Show",
    "CustomerTicketShow",
    {"ticket": take("ticket", ticket_detail)},
    variables=lambda _request, kwargs: {"reference": kwargs["ticket"]},
    required=("ticket",),
)


def ticket_create_input(body: dict[str, Any], _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    department = blank_none(body.get("department_id"))
    return {
        "subject": body.get("subject"),
        "description": body.get("description") or "",
        "priority": upper(body.get("priority")),
        "ticketType": upper(body.get("ticket_type")),
        "departmentId": gid("Department", department) if department is not None else None,
        "attachments": body.get("attachments") or None,
    }


def reply_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ticketId": kwargs["ticket_id"],
        "body": body.get("body"),
        "attachments": body.get("attachments") or None,
    }


def ticket_only(_body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticketId": kwargs["ticket_id"]}


def rate_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    try:
        rating = int(body.get("rating") or 0)
    except (TypeError, ValueError):
        rating = 0
    return {"ticketId": kwargs["ticket_id"], "rating": rating, "comment": body.get("comment") or ""}


def _show(_request: HttpRequest, _payload: dict[str, Any], kwargs: Mapping[str, Any]) -> str:
    return url("escalated.customer.tickets.show", kwargs["ticket"])


def _show_created(_request: HttpRequest, payload: dict[str, Any], _kwargs: Any) -> str:
    return url("escalated.customer.tickets.show", payload["ticket"]["reference"])


STORE = Form(
    "TicketStore",
    "ticketCreate",
    ticket_create_input,
    _show_created,
    "Your ticket has been opened.",
    fields={"departmentId": "department_id", "ticketType": "ticket_type"},
    general_field="subject",
)
REPLY = Form(
    "TicketReplyPost",
    "ticketReply",
    reply_input,
    _show,
    "Your reply was sent.",
    general_field="body",
)
CLOSE = Form("TicketClosePost", "ticketClose", ticket_only, _show, "The ticket is closed.")
REOPEN = Form("TicketReopenPost", "ticketReopen", ticket_only, _show, "The ticket is open again.")
RATE = Form(
    "TicketRatePost",
    "ticketRate",
    rate_input,
    _show,
    "Thank you for your rating.",
    general_field="rating",
)


def _back_to_ticket(kwargs: Mapping[str, Any]) -> str:
    return url("escalated.customer.tickets.show", kwargs["ticket"])


def _back_to_create(_kwargs: Mapping[str, Any]) -> str:
    return url("escalated.customer.tickets.create")


N = "escalated.customer.tickets"
urlpatterns = [
    *endpoint("", GET=(f"{N}.index", page_view(INDEX))),
    *endpoint(
        "tickets/",
        GET=(f"{N}.index.tickets", page_view(INDEX)),
        POST=(f"{N}.store", form_view(STORE, _back_to_create)),
    ),
    *endpoint("tickets/create/", GET=(f"{N}.create", page_view(CREATE))),
    *endpoint("tickets/<str:ticket>/", GET=(f"{N}.show", page_view(SHOW))),
    *endpoint(
        "tickets/<str:ticket>/reply/", POST=(f"{N}.reply", form_view(REPLY, _back_to_ticket))
    ),
    *endpoint(
        "tickets/<str:ticket>/close/", POST=(f"{N}.close", form_view(CLOSE, _back_to_ticket))
    ),
    *endpoint(
        "tickets/<str:ticket>/reopen/", POST=(f"{N}.reopen", form_view(REOPEN, _back_to_ticket))
    ),
    *endpoint("tickets/<str:ticket>/rate/", POST=(f"{N}.rate", form_view(RATE, _back_to_ticket))),
]
