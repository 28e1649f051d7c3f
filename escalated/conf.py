"""Escalated's settings: one table of options, each with its default, its check and its meaning.

A host configures the helpdesk with a single dict in its Django settings::

    ESCALATED = {"REFERENCE_PREFIX": "HELP", "AGENT_SCOPE": "all"}

Every key is read through :data:`escalated_settings`, which merges the host's values over the
defaults at the moment of reading (so ``override_settings`` in tests works). The system check in
:mod:`escalated.checks` refuses unknown keys and bad values at start-up, naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

Check = Callable[[Any], str | None]

PRIORITIES = ("low", "medium", "high", "urgent", "critical")
STATUSES = (
    "open",
    "in_progress",
    "waiting_on_customer",
    "waiting_on_agent",
    "escalated",
    "resolved",
    "closed",
    "reopened",
)


@dataclass(frozen=True)
class Option:
    default: Any
    check: Check
    doc: str
    # For dict options: the sub-options, merged one level deep over the defaults.
    children: Mapping[str, Option] | None = None


# --- value checks: each returns a description of the problem, or None -------------------------


def _is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _is_str(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _is_optional_str(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or None"


def _is_optional_bool(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else "must be True, False or None"


def _positive_int(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return None if ok else "must be a positive integer"


def _optional_positive_int(value: Any) -> str | None:
    return None if value is None else _positive_int(value)


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _list_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple):
            return "must be a list"
        unknown = [v for v in value if v not in choices]
        return (
            f"has unknown entries {unknown!r}; allowed: {', '.join(choices)}" if unknown else None
        )

    return check


def _reference_prefix(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", value):
        return None
    return "must be 1-10 upper-case letters or digits, starting with a letter (e.g. 'ESC')"


def _table_prefix(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,30}", value):
        return None
    return "must be lower-case letters, digits and underscores (e.g. 'escalated_')"


def _route_prefix(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_\-/]*", value):
        return None
    return "must be a URL path segment such as 'support'"


def _time_of_day(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return None
    return "must be a time of day as 'HH:MM'"


def _timezone(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an IANA time zone name such as 'Europe/Berlin'"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a known IANA time zone: {value!r}"
    return None


def _iso_weekdays(value: Any) -> str | None:
    ok = (
        isinstance(value, list | tuple)
        and all(isinstance(d, int) and 1 <= d <= 7 for d in value)
        and len(set(value)) == len(value)
    )
    return None if ok else "must be a list of distinct ISO weekdays, 1 (Monday) to 7 (Sunday)"


def _dotted_path_or_none(value: Any) -> str | None:
    if value is None or callable(value):
        return None
    if isinstance(value, str) and re.fullmatch(r"[\w.]+\.\w+", value):
        return None
    return "must be a dotted path to a callable, a callable, or None"


def _transitions(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return "must be a dict of {status: [statuses it may move to]}"
    for source, targets in value.items():
        if source not in STATUSES:
            return f"has unknown status {source!r}"
        if not isinstance(targets, list | tuple) or any(t not in STATUSES for t in targets):
            return f"[{source!r}] must be a list of statuses drawn from {', '.join(STATUSES)}"
    return None


def _dict(value: Any) -> str | None:
    return None if isinstance(value, Mapping) else "must be a dict"


def _origins(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(o, str) for o in value):
        return "must be a list of origins such as 'https://app.example.com', or ['*']"
    from strawberry.http.websocket_origin import normalize_allowed_origins

    try:
        normalize_allowed_origins(value)
    except ValueError as error:
        return str(error)
    return None


# --- the options ------------------------------------------------------------------------------

BUSINESS_HOURS = {
    "START": Option("09:00", _time_of_day, "Start of the default working day."),
    "END": Option("17:00", _time_of_day, "End of the default working day."),
    "TIMEZONE": Option("UTC", _timezone, "IANA time zone of the default schedule."),
    "DAYS": Option([1, 2, 3, 4, 5], _iso_weekdays, "Working ISO weekdays (1 = Monday)."),
}

SLA = {
    "ENABLED": Option(True, _is_bool, "Compute SLA clocks for tickets."),
    "TARGETED": Option(False, _is_bool, "Only tickets matched by a policy get a clock."),
    "BUSINESS_HOURS_ONLY": Option(False, _is_bool, "Default targets count business hours."),
    "BUSINESS_HOURS": Option({}, _dict, "The default business schedule.", BUSINESS_HOURS),
}

OPTIONS: dict[str, Option] = {
    "MODE": Option(
        "self_hosted",
        _one_of("self_hosted", "synced", "cloud"),
        "Hosting mode: run on this database, sync to a hub, or proxy through it.",
    ),
    "TABLE_PREFIX": Option("escalated_", _table_prefix, "Prefix of every Escalated table."),
    "ROUTE_PREFIX": Option("support", _route_prefix, "URL prefix the host mounts Escalated under."),
    "DEFAULT_PRIORITY": Option(
        "medium", _one_of(*PRIORITIES), "Priority of a new ticket when none is given."
    ),
    "ALLOW_CUSTOMER_CLOSE": Option(True, _is_bool, "Customers may close their own tickets."),
    "AUTO_CLOSE_RESOLVED_AFTER_DAYS": Option(
        7, _optional_positive_int, "Days after which resolved tickets are closed (None: never)."
    ),
    "MAX_ATTACHMENTS": Option(5, _positive_int, "Attachments allowed on one message."),
    "MAX_ATTACHMENT_SIZE_KB": Option(10240, _positive_int, "Largest attachment, in KiB."),
    "SLA": Option({}, _dict, "Service level settings.", SLA),
    "NOTIFICATION_CHANNELS": Option(
        ["email"], _list_of("email", "webhook", "realtime"), "Channels notifications use."
    ),
    "WEBHOOK_URL": Option(None, _is_optional_str, "A URL every webhook event is also sent to."),
    "HOSTED_API_URL": Option(
        "https://cloud.escalated.dev/api/v1", _is_str, "The hub's API, for synced/cloud modes."
    ),
    "HOSTED_API_KEY": Option(None, _is_optional_str, "The hub's API key."),
    # Options this version adds.
    "REFERENCE_PREFIX": Option("ESC", _reference_prefix, "Prefix of ticket references."),
    "REFERENCE_DIGITS": Option(5, _positive_int, "Zero-padded width of the reference number."),
    "AGENT_SCOPE": Option(
        "departments",
        _one_of("departments", "all"),
        "'departments': agents see their departments' tickets and those in no department; "
        "'all': agents see every ticket.",
    ),
    "ROLE_RESOLVER": Option(
        None,
        _dotted_path_or_none,
        "Dotted path to a callable(user) -> escalated.access.Role that replaces the default rule.",
    ),
    "STATUS_TRANSITIONS": Option(
        None,
        _transitions,
        "Overrides of the allowed status transitions: {status: [statuses it may move to]}.",
    ),
    "GRAPHIQL": Option(None, _is_optional_bool, "Serve GraphiQL (None: follow DEBUG)."),
    "INTROSPECTION": Option(True, _is_bool, "Allow GraphQL introspection queries."),
    "MAX_PAGE_SIZE": Option(100, _positive_int, "Largest first/last on a connection."),
    "MAX_QUERY_DEPTH": Option(12, _positive_int, "Deepest GraphQL selection allowed."),
    "MAX_QUERY_TOKENS": Option(5000, _positive_int, "Largest GraphQL document, in tokens."),
    "MAX_ALIASES": Option(30, _positive_int, "Most aliases in one GraphQL operation."),
    "MASK_ERRORS": Option(
        None, _is_optional_bool, "Hide unexpected exception messages (None: when not DEBUG)."
    ),
    "API_TOKEN_EXPIRY_DAYS": Option(
        None, _optional_positive_int, "Default lifetime of new API tokens (None: no expiry)."
    ),
    # Live queues (GraphQL subscriptions over websockets) and presence.
    "WEBSOCKET_ALLOWED_ORIGINS": Option(
        [],
        _origins,
        "Other origins whose pages may open the GraphQL websocket with the user's cookies "
        "(same-origin pages and clients sending no Origin header are always allowed).",
    ),
    "PRESENCE_TTL_SECONDS": Option(
        30,
        _positive_int,
        "How long a ticketPresence entry lives unless renewed; clients repeat VIEWING or TYPING "
        "well within it.",
    ),
    "REALTIME_ACCESS_RECHECK_SECONDS": Option(
        30,
        _positive_int,
        "How often an open subscription re-reads its subscriber's role and departments (the "
        "ticket itself is re-checked on every event).",
    ),
}


def _merge(options: Mapping[str, Option], user: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name, option in options.items():
        value = user.get(name, option.default)
        if option.children is not None and isinstance(value, Mapping):
            value = _merge(option.children, value)
        merged[name] = value
    return merged


class EscalatedSettings:
    """Attribute access to the merged ESCALATED settings, e.g. ``escalated_settings.MODE``."""

    def __getattr__(self, name: str) -> Any:
        if name not in OPTIONS:
            raise AttributeError(f"ESCALATED has no setting {name!r}")
        return self.as_dict()[name]

    def as_dict(self) -> dict[str, Any]:
        return _merge(OPTIONS, getattr(settings, "ESCALATED", {}) or {})


escalated_settings = EscalatedSettings()


def table_name(suffix: str) -> str:
    """The database table for ``suffix`` under the configured TABLE_PREFIX."""
    return f"{escalated_settings.TABLE_PREFIX}{suffix}"


def setting_problems(
    user: Any, options: Mapping[str, Option] = OPTIONS, path: str = "ESCALATED"
) -> list[str]:
    """Every problem with the host's ESCALATED dict, each naming the offending key."""
    if not isinstance(user, Mapping):
        return [f"{path} must be a dict"]
    problems: list[str] = []
    for key in user:
        if key not in options:
            known = ", ".join(sorted(options))
            problems.append(f"{path}[{key!r}] is not a known setting (known: {known})")
    for key, option in options.items():
        if key not in user:
            continue
        value = user[key]
        problem = option.check(value)
        if problem:
            problems.append(f"{path}[{key!r}] {problem}")
        elif option.children is not None:
            problems.extend(setting_problems(value, option.children, f"{path}[{key!r}]"))
    return problems
