"""GraphQL results reshaped into what the shared pages read.

The general rule (:func:`shape`): camelCase keys become snake_case, a connection becomes the
list of its nodes, a global id becomes the number the pages put in URLs, and enum values become
the lowercase strings the pages compare against. The page-specific pieces (a ticket's SLA
fields, a reply's files, an activity's sentence) are the small functions below.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from django.utils.timesince import timesince

ENUM_KEYS = frozenset(
    {"status", "priority", "ticketType", "channel", "trigger", "role", "assignmentMode"}
)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def pk(global_id: str | None) -> int | str | None:
    """The primary key a global id names (an int for the door's integer keys)."""
    if global_id is None:
        return None
    try:
        _, _, key = base64.b64decode(global_id, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return global_id
    return int(key) if key.isdigit() else key


def gid(type_name: str, key: Any) -> str:
    """The global id of ``type_name`` ``key``, for an input a form sends numbers for."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def shape(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if "edges" in value and isinstance(value["edges"], list):
            return [shape(edge["node"]) for edge in value["edges"]]
        return {snake(k): shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(item, key) for item in value]
    if key == "id" and isinstance(value, str):
        return pk(value)
    if key in ENUM_KEYS and isinstance(value, str):
        return value.lower()
    return value


# --- tickets ------------------------------------------------------------------------------


def attachment(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["id"],
        "original_filename": raw["filename"],
        "mime_type": raw["content_type"],
        "size": raw["size"],
        "url": raw["url"],
    }


def ticket_row(raw: dict[str, Any]) -> dict[str, Any]:
    """A ticket as TicketList reads it; the SLA clocks flattened into its four fields."""
    ticket = dict(raw)
    sla = ticket.pop("sla", None) or {}
    first, resolution = sla.get("first_response") or {}, sla.get("resolution") or {}
    ticket.update(
        first_response_due_at=first.get("due_at"),
        resolution_due_at=resolution.get("due_at"),
        sla_first_response_breached=bool(first.get("breached")),
        sla_resolution_breached=bool(resolution.get("breached")),
        snoozed_until=None,
        assigned_to=(ticket.get("assignee") or {}).get("id"),
    )
    if "tags" in ticket:
        ticket["tags"] = [{"id": t["id"], "name": t["name"]} for t in ticket["tags"]]
    return ticket


def reply(raw: dict[str, Any]) -> dict[str, Any]:
    item = dict(raw)
    author = item.pop("author", None)
    label = item.pop("author_label", "")
    item["author"] = {"id": author["id"], "name": author["name"]} if author else {"name": label}
    item["attachments"] = [attachment(a) for a in item.get("attachments", [])]
    return item


def ticket_detail(raw: dict[str, Any]) -> dict[str, Any]:
    """A ticket as Customer/Show, Guest/Show and Agent/TicketShow read it."""
    ticket = ticket_row(raw)
    ticket["replies"] = [reply(r) for r in ticket.get("replies", [])]
    # The API lists every file on the ticket; the opening message's are those no reply holds.
    on_replies = {a["id"] for r in ticket["replies"] for a in r["attachments"]}
    ticket["attachments"] = [
        attachment(a) for a in ticket.get("attachments", []) if a["id"] not in on_replies
    ]
    return ticket


def activity(raw: dict[str, Any], now: datetime) -> dict[str, Any]:
    created = datetime.fromisoformat(raw["created_at"])
    recent = (now - created).total_seconds() < 60
    return {
        "id": raw["id"],
        "description": activity_description(raw),
        "created_at": raw["created_at"],
        "created_at_human": "just now"
        if recent
        else f"{timesince(created, now).split(',')[0]} ago",
    }


def _said(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("name") or value.get("label") or next(iter(value.values()), "")
    return str(value).replace("_", " ") if value not in (None, "") else "none"


def activity_description(raw: dict[str, Any]) -> str:
    """One line for the timeline: who did what, with the change's before and after."""
    who = (raw.get("actor") or {}).get("name") or raw.get("actor_label") or "System"
    verb = str(raw.get("verb", "")).replace("_", " ")
    before, after = raw.get("before") or {}, raw.get("after") or {}
    changes = [
        f"{field.replace('_', ' ')} from {_said(before.get(field))} to {_said(after[field])}"
        for field in after
        if field in before
    ]
    return f"{who}: {verb}" + (f" ({'; '.join(changes)})" if changes else "")
