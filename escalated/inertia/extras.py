"""The admin pages of what this project has beyond the contract's core: webhooks and their
deliveries, macros, API tokens and business hours; and a page for the sidebar's links to
features it does not have.

Those links answer with the component :data:`UNAVAILABLE_COMPONENT`, which the demo's
frontend provides (the shared package has no page for "not available"): it renders inside the
layout and reads ``feature``, ``title`` and ``message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from escalated.inertia.admin import by_id, crud_forms, delete_input, redirect_to, resource_urls
from escalated.inertia.forms import Form, as_bool, blank_none, upper
from escalated.inertia.pages import Page, Prop, constant, take
from escalated.inertia.shape import gid
from escalated.inertia.views import endpoint, page_view, url

UNAVAILABLE_COMPONENT = "EscalatedDjango/Unavailable"

# Sidebar and navigation links (contract §0.4) to features this project does not have.
UNAVAILABLE = {
    "admin/kb-articles/": ("escalated.admin.kb-articles.index", "Knowledge base"),
    "admin/workflows/": ("escalated.admin.workflows.index", "Workflows"),
    "admin/custom-fields/": ("escalated.admin.custom-fields.index", "Custom fields"),
    "admin/statuses/": ("escalated.admin.statuses.index", "Custom statuses"),
    "admin/newsletters/": ("escalated.admin.newsletters.index", "Newsletters"),
    "admin/skills/": ("escalated.admin.skills.index", "Skills"),
    "admin/roles/": ("escalated.admin.roles.index", "Roles"),
    "admin/users/": ("escalated.admin.users.index", "Users"),
    "admin/capacity/": ("escalated.admin.capacity.index", "Capacity"),
    "admin/audit-log/": ("escalated.admin.audit-log", "Audit log"),
    "admin/custom-objects/": ("escalated.admin.custom-objects.index", "Custom objects"),
    "admin/plugins/": ("escalated.admin.plugins.index", "Plugins"),
    "admin/import/": ("escalated.admin.import.index", "Import"),
    "kb/": ("escalated.customer.kb.index", "Knowledge base"),
}


def _unavailable(title: str, audience: str) -> Page:
    return Page(
        UNAVAILABLE_COMPONENT,
        None,
        {
            "feature": constant(title),
            "title": constant(title),
            "message": constant(
                f"{title} is not part of Escalated for Django. Everything else in this menu "
                "works; see the README for what the helpdesk offers."
            ),
        },
        audience=audience,
    )


# --- webhooks ---------------------------------------------------------------------------------


def _event_names() -> dict[str, str]:
    """The API's enum values (TICKET_STATUS_CHANGED) and the events' names the page shows
    and sends (ticket.status_changed)."""
    from escalated.services.webhooks import WEBHOOK_EVENTS

    return {name.upper().replace(".", "_"): name for name in WEBHOOK_EVENTS}


def _event_name(value: str) -> str:
    return _event_names().get(value, value)


def _event_value(name: Any) -> Any:
    return str(name).replace(".", "_").upper() if name else name


def _events() -> list[str]:
    return list(_event_names().values())


def _webhook(raw: Any) -> Any:
    if not raw:
        return raw
    return {**raw, "events": [_event_name(e) for e in raw.get("events", [])], "deliveries": []}


def _webhook_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "url": body.get("url"),
        "events": [_event_value(e) for e in body.get("events") or []],
        "active": as_bool(body.get("active", True)),
    }
    if body.get("secret"):
        fields["secret"] = body["secret"]
    return {"id": gid("Webhook", kwargs["id"]), **fields} if "id" in kwargs else fields


def _deliveries(rows: Any) -> dict[str, Any]:
    return {
        "data": [
            {**d, "response_code": d.get("last_status_code"), "success": d["status"] == "delivered"}
            for d in rows or []
        ]
    }


WEBHOOKS = Page(
    "Escalated/Admin/Webhooks/Index",
    "AdminWebhookList",
    {"webhooks": take("webhooks", lambda rows: [_webhook(w) for w in rows or []])},
    audience="admin",
)
WEBHOOK_NEW = Page(
    "Escalated/Admin/Webhooks/Form",
    None,
    {"webhook": constant(None), "availableEvents": Prop(lambda _context: _events())},
    audience="admin",
)
WEBHOOK_EDIT = Page(
    "Escalated/Admin/Webhooks/Form",
    "AdminWebhook",
    {"webhook": take("webhook", _webhook), "availableEvents": Prop(lambda _context: _events())},
    audience="admin",
    variables=by_id("Webhook"),
    required=("webhook",),
)
WEBHOOK_DELIVERIES = Page(
    "Escalated/Admin/Webhooks/DeliveryLog",
    "AdminWebhookDeliveries",
    {"webhook": take("webhook", _webhook), "deliveries": take("deliveries", _deliveries)},
    audience="admin",
    variables=by_id("Webhook"),
    required=("webhook",),
)

# --- macros -----------------------------------------------------------------------------------

# The page's action types and the API's, with the field each one's value goes to.
MACRO_ACTIONS = {
    "status": ("SET_STATUS", "status"),
    "priority": ("SET_PRIORITY", "priority"),
    "assign": ("SET_ASSIGNEE", "assigneeId"),
    "tags": ("ADD_TAGS", "tagIds"),
    "department": ("SET_DEPARTMENT", "departmentId"),
    "reply": ("ADD_REPLY", "body"),
    "note": ("ADD_NOTE", "body"),
}
_FROM_API = {api: (page, field) for page, (api, field) in MACRO_ACTIONS.items()}


def _macro_action_input(action: dict[str, Any]) -> dict[str, Any]:
    api_type, field = MACRO_ACTIONS.get(str(action.get("type")), ("", "body"))
    value = action.get("value")
    if field in ("status", "priority"):
        value = upper(value)
    elif field == "assigneeId":
        value = gid("User", value) if blank_none(value) is not None else None
    elif field == "departmentId":
        value = gid("Department", value) if blank_none(value) is not None else None
    elif field == "tagIds":
        value = [gid("Tag", t) for t in (value if isinstance(value, list) else [value]) if t]
    return {"type": api_type or str(action.get("type", "")).upper(), field: value}


def _macro_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields = {
        "name": body.get("name"),
        "description": body.get("description") or "",
        "isShared": as_bool(body.get("is_shared", True)),
        "actions": [
            _macro_action_input(a) for a in body.get("actions") or [] if isinstance(a, dict)
        ],
    }
    return {"id": gid("Macro", kwargs["id"]), **fields} if "id" in kwargs else fields


def _macro(raw: dict[str, Any]) -> dict[str, Any]:
    actions = []
    for order, action in enumerate(raw.get("actions", [])):
        page_type, field = _FROM_API.get(str(action["type"]).upper(), (action["type"], "body"))
        value = action.get(
            {"assigneeId": "assignee_id", "departmentId": "department_id", "tagIds": "tag_ids"}.get(
                field, field
            )
        )
        actions.append({"type": page_type, "value": value, "order": order})
    return {**raw, "actions": actions, "creator": raw.get("owner"), "user": raw.get("owner")}


MACROS = Page(
    "Escalated/Admin/Macros/Index",
    "AdminMacroList",
    {"macros": take("macros", lambda rows: [_macro(m) for m in rows or []])},
    audience="admin",
)

# --- API tokens ---------------------------------------------------------------------------------


def _token(raw: dict[str, Any]) -> dict[str, Any]:
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    expires = parse_datetime(raw["expires_at"]) if raw.get("expires_at") else None
    return {
        **raw,
        "user_name": (raw.get("user") or {}).get("name"),
        "abilities": [s.lower() for s in raw.get("scopes", [])],
        "is_expired": bool(raw.get("revoked_at")) or bool(expires and expires <= timezone.now()),
    }


API_TOKENS = Page(
    "Escalated/Admin/ApiTokens/Index",
    "AdminApiTokenList",
    {
        "tokens": take("tokens", lambda rows: [_token(t) for t in rows or []]),
        "users": take("users"),
        "api_enabled": Prop(lambda _context: True),
    },
    audience="admin",
)


def _token_input(body: dict[str, Any], _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    days = blank_none(body.get("expires_in_days"))
    user = blank_none(body.get("user_id"))
    return {
        "name": body.get("name"),
        "userId": gid("User", user) if user is not None else None,
        # The page offers 'agent' and 'admin' abilities; this API's tokens act with their
        # user's own role, so a page-made token may read and write as that user.
        "scopes": ["READ", "WRITE"],
        "expiresAt": (timezone.now() + timedelta(days=int(days))).isoformat()
        if str(days or "").isdigit()
        else None,
    }


def _token_shown(request: HttpRequest, payload: dict[str, Any], _kwargs: Any) -> str:
    """The new token is shown once, on the next page (``flash.plain_text_token``)."""
    from escalated.inertia.shared import show_token_once

    show_token_once(request, payload.get("token") or "")
    return url("escalated.admin.api-tokens.index")


# --- business hours -------------------------------------------------------------------------

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _schedule(raw: Any) -> Any:
    if not raw:
        return raw
    week: dict[str, dict[str, str]] = {day: {"start": "", "end": ""} for day in WEEKDAYS}
    for interval in raw.get("intervals", []):
        week[str(interval["weekday"]).lower()] = {
            "start": str(interval["start"])[:5],
            "end": str(interval["end"])[:5],
        }
    holidays = [
        {"name": h["name"], "date": h["date"], "recurring": h["yearly"]}
        for h in raw.get("holidays", [])
    ]
    return {**raw, "schedule": week, "holidays": holidays, "is_default": False}


def _schedule_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    given = body.get("schedule")
    week: dict[str, Any] = given if isinstance(given, dict) else {}
    intervals = [
        {"weekday": day.upper(), "start": hours["start"], "end": hours["end"]}
        for day, hours in week.items()
        if day in WEEKDAYS and isinstance(hours, dict) and hours.get("start") and hours.get("end")
    ]
    holidays = [
        {"date": h.get("date"), "name": h.get("name") or "", "yearly": as_bool(h.get("recurring"))}
        for h in body.get("holidays") or []
        if isinstance(h, dict)
    ]
    fields = {
        "name": body.get("name"),
        "timezone": body.get("timezone") or "UTC",
        "intervals": intervals,
        "holidays": holidays,
    }
    return {"id": gid("BusinessSchedule", kwargs["id"]), **fields} if "id" in kwargs else fields


SCHEDULES = Page(
    "Escalated/Admin/BusinessHours/Index",
    "AdminScheduleList",
    {"schedules": take("schedules", lambda rows: [_schedule(s) for s in rows or []])},
    audience="admin",
)


def _timezones(_context: Any) -> list[str]:
    from zoneinfo import available_timezones

    return sorted(available_timezones())


SCHEDULE_NEW = Page(
    "Escalated/Admin/BusinessHours/Form",
    None,
    {"schedule": constant(None), "timezones": Prop(_timezones)},
    audience="admin",
)
SCHEDULE_EDIT = Page(
    "Escalated/Admin/BusinessHours/Form",
    "AdminSchedule",
    {"schedule": take("schedule", _schedule), "timezones": Prop(_timezones)},
    audience="admin",
    variables=by_id("BusinessSchedule"),
    required=("schedule",),
)


WEBHOOK_FORMS = crud_forms("webhooks", "Webhook", _webhook_input, "Webhook", general_field="url")
MACRO_FORMS = crud_forms("macros", "Macro", _macro_input, "Macro", general_field="name")
SCHEDULE_FORMS = crud_forms(
    "business-hours", "BusinessSchedule", _schedule_input, "Schedule", general_field="name"
)
TOKEN_FORMS = {
    "store": Form(
        "ApiTokenStore",
        "apiTokenCreate",
        _token_input,
        _token_shown,
        "Token created; copy it now, it is shown only once.",
        audience="admin",
        fields={"userId": "user_id", "expiresAt": "expires_in_days"},
        general_field="name",
    ),
    "destroy": Form(
        "ApiTokenDestroy",
        "apiTokenRevoke",
        delete_input("ApiToken"),
        redirect_to("escalated.admin.api-tokens.index"),
        "Token revoked.",
        audience="admin",
        general_field="name",
    ),
}

A = "escalated.admin"


urlpatterns = [
    *resource_urls("webhooks", WEBHOOK_FORMS, WEBHOOKS, WEBHOOK_NEW, WEBHOOK_EDIT),
    *endpoint(
        "admin/webhooks/<int:id>/deliveries/",
        GET=(f"{A}.webhooks.deliveries", page_view(WEBHOOK_DELIVERIES)),
    ),
    *resource_urls("macros", MACRO_FORMS, MACROS),
    *resource_urls("api-tokens", TOKEN_FORMS, API_TOKENS),
    *resource_urls("business-hours", SCHEDULE_FORMS, SCHEDULES, SCHEDULE_NEW, SCHEDULE_EDIT),
    *(
        pattern
        for route, (name, title) in UNAVAILABLE.items()
        for pattern in endpoint(
            route,
            GET=(
                name,
                page_view(
                    _unavailable(title, "admin" if route.startswith("admin/") else "signed_in")
                ),
            ),
        )
    ),
]
