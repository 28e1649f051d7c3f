"""The queue pages' filters: TicketFilters' query parameters as the API's TicketFilter input.

The keys are the ones the pages send (``status``, ``priority``, ``assigned_to``,
``department_id``, ``search``, ``following``, ``unassigned``, ``sla_breached``, ``tag``,
``requester``, ``ticket_type``, ``created_after``, ``created_before``); each maps onto one
field of the API's filter, so the queue is filtered by the same FilterSet as the API's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from escalated.conf import PRIORITIES, STATUSES
from escalated.inertia.forms import as_bool
from escalated.inertia.shape import gid

TICKET_TYPES = ("question", "problem", "incident", "task")
FILTER_KEYS = (
    "status",
    "priority",
    "assigned_to",
    "department_id",
    "search",
    "following",
    "unassigned",
    "sla_breached",
    "tag",
    "requester",
    "ticket_type",
    "created_after",
    "created_before",
)


def queue_filters(query: Mapping[str, Any]) -> dict[str, Any]:
    """The filters the page is showing, echoed back for TicketFilters to seed from."""
    return {key: query[key] for key in FILTER_KEYS if query.get(key) not in (None, "")}


def _number(value: Any) -> str | None:
    text = str(value).strip()
    return text if text.isdigit() else None


def queue_filter(query: Mapping[str, Any]) -> dict[str, Any]:
    """The TicketFilter input for the page's query parameters; unknown values are dropped
    (a stale bookmark shows the whole queue, not an error)."""
    given = queue_filters(query)
    result: dict[str, Any] = {}
    if given.get("status") in STATUSES:
        result["status"] = [given["status"].upper()]
    if given.get("priority") in PRIORITIES:
        result["priority"] = [given["priority"].upper()]
    if given.get("ticket_type") in TICKET_TYPES:
        result["ticketType"] = [given["ticket_type"].upper()]
    for key, field, type_name in (
        ("assigned_to", "assignee", "User"),
        ("department_id", "department", "Department"),
        ("tag", "tag", "Tag"),
        ("requester", "requester", "User"),
    ):
        number = _number(given.get(key, ""))
        if number is not None:
            result[field] = gid(type_name, number)
    for key, field in (
        ("following", "following"),
        ("unassigned", "unassigned"),
        ("sla_breached", "slaBreached"),
    ):
        if key in given and as_bool(given[key]):
            result[field] = True
    if given.get("search"):
        result["search"] = str(given["search"])[:200]
    for key, field in (("created_after", "createdAfter"), ("created_before", "createdBefore")):
        if key in given:
            result[field] = _datetime(str(given[key]))
    return {k: v for k, v in result.items() if v is not None}


def _datetime(value: str) -> str | None:
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            return f"{day.isoformat()}T00:00:00+00:00" if day else None
    except ValueError:
        return None
    return parsed.isoformat() if parsed.tzinfo else f"{parsed.isoformat()}+00:00"
