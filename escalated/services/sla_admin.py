"""Managing SLA policies and business schedules (admins).

Changes apply to each ticket from its next change on (as in the commercial helpdesks): clocks
are recomputed when something happens to a ticket, not when a policy is edited.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars
from django.db import transaction

from escalated.access import require_admin
from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode, Problem, collect
from escalated.models import (
    BusinessSchedule,
    Department,
    Metric,
    Priority,
    SlaPolicy,
    Status,
    Tag,
    TicketType,
)
from escalated.services.business_time import WorkingInterval, overlapping
from escalated.services.common import UNSET, Unset, choice
from escalated.services.sla import schedule_intervals
from escalated.services.text import MAX_BODY, optional_text, required_text

# Longest target accepted: a year.
MAX_TARGET_SECONDS = 366 * 24 * 3600


@dataclass(frozen=True)
class TargetSpec:
    """One target as a client gives it."""

    metric: str
    priority: str
    seconds: int
    business_hours: bool


@dataclass(frozen=True)
class HolidaySpec:
    day: date
    name: str = ""
    yearly: bool = False


# --- business schedules ---------------------------------------------------------------------


def business_schedule_create(
    *,
    actor: Any,
    name: str | None,
    timezone: str | None = "UTC",
    intervals: Iterable[WorkingInterval] = (),
    holidays: Iterable[HolidaySpec] = (),
    holiday_country: str | None = "",
    holiday_subdivision: str | None = "",
) -> BusinessSchedule:
    require_admin(actor)
    schedule = BusinessSchedule()
    return _schedule_save(
        schedule,
        name=name,
        timezone=timezone,
        intervals=list(intervals),
        holidays=list(holidays),
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )


def business_schedule_update(
    *,
    actor: Any,
    schedule: BusinessSchedule,
    name: str | Unset | None = UNSET,
    timezone: str | Unset | None = UNSET,
    intervals: Iterable[WorkingInterval] | Unset = UNSET,
    holidays: Iterable[HolidaySpec] | Unset = UNSET,
    holiday_country: str | Unset | None = UNSET,
    holiday_subdivision: str | Unset | None = UNSET,
) -> BusinessSchedule:
    require_admin(actor)
    return _schedule_save(
        schedule,
        name=schedule.name if name is UNSET else name,
        timezone=schedule.timezone if timezone is UNSET else timezone,
        intervals=schedule_intervals(schedule) if intervals is UNSET else list(intervals),
        holidays=_stored_holidays(schedule) if holidays is UNSET else list(holidays),
        holiday_country=schedule.holiday_country if holiday_country is UNSET else holiday_country,
        holiday_subdivision=(
            schedule.holiday_subdivision if holiday_subdivision is UNSET else holiday_subdivision
        ),
    )


def business_schedule_delete(*, actor: Any, schedule: BusinessSchedule) -> None:
    """Delete a schedule no policy uses."""
    require_admin(actor)
    users = list(schedule.policies.values_list("name", flat=True)[:3])
    if users:
        raise DomainError(
            f"Policies use this schedule ({', '.join(users)}); give them another one first.",
            code=ErrorCode.IN_USE,
            field="id",
        )
    schedule.delete()


def _schedule_save(
    schedule: BusinessSchedule,
    *,
    name: str | None,
    timezone: str | None,
    intervals: list[WorkingInterval],
    holidays: list[HolidaySpec],
    holiday_country: str | None,
    holiday_subdivision: str | None,
) -> BusinessSchedule:
    country = (holiday_country or "").strip().upper()
    subdivision = (holiday_subdivision or "").strip().upper()
    collect(
        [
            *required_text(name, field="name", max_length=120),
            *timezone_problems(timezone, field="timezone"),
            *interval_problems(intervals),
            *[
                problem
                for holiday in holidays
                for problem in optional_text(holiday.name, field="holidays", max_length=100)
            ],
            *holiday_calendar_problems(country, subdivision),
        ]
    )
    schedule.name = (name or "").strip()
    schedule.timezone = timezone or ""
    schedule.intervals = [
        {"weekday": iv.weekday, "start": _hhmm(iv.start), "end": _hhmm(iv.end)}
        for iv in sorted(intervals)
    ]
    schedule.holidays = [
        {"date": h.day.isoformat(), "name": h.name.strip(), "yearly": h.yearly}
        for h in sorted(holidays, key=lambda h: h.day)
    ]
    schedule.holiday_country = country
    schedule.holiday_subdivision = subdivision
    schedule.save()
    return schedule


def _hhmm(t: Any) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _stored_holidays(schedule: BusinessSchedule) -> list[HolidaySpec]:
    return [
        HolidaySpec(date.fromisoformat(h["date"]), h.get("name", ""), bool(h.get("yearly")))
        for h in schedule.holidays
    ]


def timezone_problems(value: str | None, *, field: str) -> list[Problem]:
    if not value or not value.strip():
        return [
            Problem("Give an IANA time zone, e.g. America/New_York.", ErrorCode.REQUIRED, field)
        ]
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            Problem(
                f"{value!r} is not an IANA time zone; use a name such as America/New_York.",
                ErrorCode.INVALID_TIMEZONE,
                field,
            )
        ]
    return []


def interval_problems(intervals: list[WorkingInterval]) -> list[Problem]:
    if not intervals:
        return [Problem("Give at least one working interval.", ErrorCode.REQUIRED, "intervals")]
    clashes = overlapping(intervals)
    if not clashes:
        return []
    a, b = clashes[0]
    return [
        Problem(
            f"Working intervals overlap: {_describe(a)} and {_describe(b)}.",
            ErrorCode.OVERLAPPING_INTERVALS,
            "intervals",
        )
    ]


def _describe(interval: WorkingInterval) -> str:
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return f"{day[interval.weekday - 1]} {_hhmm(interval.start)}-{_hhmm(interval.end)}"


def holiday_calendar_problems(country: str, subdivision: str) -> list[Problem]:
    if not country:
        if subdivision:
            return [
                Problem("A subdivision needs a country.", ErrorCode.REQUIRED, "holiday_country")
            ]
        return []
    supported = holiday_calendars.list_supported_countries()
    if country not in supported:
        return [
            Problem(
                f"No public-holiday calendar for {country!r}; use an ISO country code such as US.",
                ErrorCode.INVALID,
                "holiday_country",
            )
        ]
    if subdivision and subdivision not in supported[country]:
        return [
            Problem(
                f"{country} has no subdivision {subdivision!r}.",
                ErrorCode.INVALID,
                "holiday_subdivision",
            )
        ]
    return []


# --- policies -----------------------------------------------------------------------------------


def sla_policy_create(
    *,
    actor: Any,
    name: str | None,
    description: str | None = "",
    is_active: bool = True,
    is_default: bool = False,
    position: int = 0,
    schedule: BusinessSchedule | None = None,
    departments: Iterable[Department] = (),
    ticket_types: Iterable[str] = (),
    tags: Iterable[Tag] = (),
    requester_is_guest: bool | None = None,
    targets: Iterable[TargetSpec] | Unset = UNSET,
    pause_statuses: Mapping[str, Iterable[str]] | None = None,
    first_response_hours: Any = UNSET,
    resolution_hours: Any = UNSET,
    business_hours_only: bool | Unset = UNSET,
) -> SlaPolicy:
    """Create a policy. Targets come either as ``targets`` or in the admin form's shape:
    ``first_response_hours`` and ``resolution_hours`` as {priority: hours} (or that as JSON
    text) with ``business_hours_only``."""
    require_admin(actor)
    policy = SlaPolicy()
    return _policy_save(
        policy,
        fields={
            "name": name,
            "description": description,
            "is_active": is_active,
            "is_default": is_default,
            "position": position,
            "schedule": schedule,
            "ticket_types": list(ticket_types),
            "requester_is_guest": requester_is_guest,
            "pause_statuses": dict(pause_statuses or {}),
        },
        departments=list(departments),
        tags=list(tags),
        targets=targets,
        form_hours={"first_response": first_response_hours, "resolution": resolution_hours},
        business_hours_only=business_hours_only,
    )


def sla_policy_update(
    *,
    actor: Any,
    policy: SlaPolicy,
    name: str | Unset | None = UNSET,
    description: str | Unset | None = UNSET,
    is_active: bool | Unset = UNSET,
    is_default: bool | Unset = UNSET,
    position: int | Unset = UNSET,
    schedule: BusinessSchedule | Unset | None = UNSET,
    departments: Iterable[Department] | Unset = UNSET,
    ticket_types: Iterable[str] | Unset = UNSET,
    tags: Iterable[Tag] | Unset = UNSET,
    requester_is_guest: bool | Unset | None = UNSET,
    targets: Iterable[TargetSpec] | Unset = UNSET,
    pause_statuses: Mapping[str, Iterable[str]] | Unset = UNSET,
    first_response_hours: Any = UNSET,
    resolution_hours: Any = UNSET,
    business_hours_only: bool | Unset = UNSET,
) -> SlaPolicy:
    """Change what is given; ``targets`` (or each form map) replaces what it covers."""
    require_admin(actor)
    given = {
        "name": name,
        "description": description,
        "is_active": is_active,
        "is_default": is_default,
        "position": position,
        "schedule": schedule,
        "ticket_types": ticket_types if ticket_types is UNSET else list(ticket_types),
        "requester_is_guest": requester_is_guest,
        "pause_statuses": pause_statuses if pause_statuses is UNSET else dict(pause_statuses),
    }
    return _policy_save(
        policy,
        fields={key: value for key, value in given.items() if value is not UNSET},
        departments=None if departments is UNSET else list(departments),
        tags=None if tags is UNSET else list(tags),
        targets=targets,
        form_hours={"first_response": first_response_hours, "resolution": resolution_hours},
        business_hours_only=business_hours_only,
    )


def sla_policy_delete(*, actor: Any, policy: SlaPolicy) -> None:
    """Delete a policy. Tickets keep their clocks until their next change re-selects a policy."""
    require_admin(actor)
    policy.delete()


def _policy_save(
    policy: SlaPolicy,
    *,
    fields: dict[str, Any],
    departments: list[Department] | None,
    tags: list[Tag] | None,
    targets: Iterable[TargetSpec] | Unset,
    form_hours: dict[str, Any],
    business_hours_only: bool | Unset,
) -> SlaPolicy:
    problems: list[Problem] = []
    if "name" in fields:
        problems += required_text(fields["name"], field="name", max_length=120)
        fields["name"] = (fields["name"] or "").strip()
    if "description" in fields:
        problems += optional_text(fields["description"], field="description", max_length=MAX_BODY)
        fields["description"] = fields["description"] or ""
    for ticket_type in fields.get("ticket_types", []):
        problems += choice(ticket_type, TicketType, field="ticket_types")
    problems += _pause_problems(fields.get("pause_statuses", {}))
    if fields.get("position", 0) < 0:
        problems.append(Problem("Position must be 0 or more.", ErrorCode.INVALID, "position"))
    stored, target_problems = _targets(policy, targets, form_hours, business_hours_only)
    problems += target_problems
    collect(problems)
    with transaction.atomic():
        for key, value in fields.items():
            setattr(policy, key, value)
        policy.targets = stored
        if policy.is_default:
            SlaPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
        policy.save()
        if departments is not None:
            policy.departments.set(departments)
        if tags is not None:
            policy.tags.set(tags)
    return policy


def _pause_problems(pauses: Mapping[str, Iterable[str]]) -> list[Problem]:
    problems = []
    for metric, statuses in pauses.items():
        problems += choice(metric, Metric, field="pause_statuses")
        for status in statuses:
            problems += choice(status, Status, field="pause_statuses")
    return problems


def _targets(
    policy: SlaPolicy,
    targets: Iterable[TargetSpec] | Unset,
    form_hours: dict[str, Any],
    business_hours_only: bool | Unset,
) -> tuple[dict[str, Any], list[Problem]]:
    """The policy's targets JSON after this change, and the problems with the input."""
    form_given = {metric: v for metric, v in form_hours.items() if v is not UNSET}
    if targets is not UNSET and form_given:
        return {}, [
            Problem(
                "Give targets or the first/resolution hour maps, not both.",
                ErrorCode.INVALID,
                "targets",
            )
        ]
    stored: dict[str, Any] = json.loads(json.dumps(policy.targets or {}))
    problems: list[Problem] = []
    if targets is not UNSET:
        stored, problems = _structured_targets(list(targets))
    default_business = escalated_settings.SLA["BUSINESS_HOURS_ONLY"]
    form_business = default_business if business_hours_only is UNSET else business_hours_only
    for metric, hours in form_given.items():
        parsed, hour_problems = _form_map(hours, field=f"{metric}_hours")
        problems += hour_problems
        stored[metric] = {
            priority: {"seconds": seconds, "business_hours": form_business}
            for priority, seconds in parsed.items()
        }
    if business_hours_only is not UNSET and targets is UNSET:
        # The form's one switch covers every target of the policy.
        for per_priority in stored.values():
            for target in per_priority.values():
                target["business_hours"] = business_hours_only
    return {metric: per for metric, per in stored.items() if per}, problems


def _structured_targets(targets: list[TargetSpec]) -> tuple[dict[str, Any], list[Problem]]:
    stored: dict[str, Any] = {}
    problems: list[Problem] = []
    for target in targets:
        problems += choice(target.metric, Metric, field="targets")
        problems += _priority_problems(target.priority, field="targets")
        problems += _seconds_problems(target.seconds, field="targets")
        per_priority = stored.setdefault(target.metric, {})
        if target.priority in per_priority:
            problems.append(
                Problem(
                    f"Two targets for {target.metric} at {target.priority} priority.",
                    ErrorCode.DUPLICATE,
                    "targets",
                )
            )
        per_priority[target.priority] = {
            "seconds": target.seconds,
            "business_hours": target.business_hours,
        }
    return stored, problems


def _form_map(value: Any, *, field: str) -> tuple[dict[str, int], list[Problem]]:
    """The admin form's {priority: hours} (or that as JSON text) as {priority: seconds}; empty
    entries (null, "") mean no target."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            return {}, [
                Problem("Must be a JSON object of {priority: hours}.", ErrorCode.INVALID, field)
            ]
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        return {}, [Problem("Must be an object of {priority: hours}.", ErrorCode.INVALID, field)]
    parsed: dict[str, int] = {}
    problems: list[Problem] = []
    for priority, hours in value.items():
        problems += _priority_problems(priority, field=field)
        if hours is None or hours == "":
            continue
        try:
            seconds = round(float(hours) * 3600)
        except (TypeError, ValueError):
            problems.append(
                Problem(f"{hours!r} is not a number of hours.", ErrorCode.INVALID, field)
            )
            continue
        problems += _seconds_problems(seconds, field=field)
        parsed[str(priority)] = seconds
    return parsed, problems


def _priority_problems(priority: Any, *, field: str) -> list[Problem]:
    if priority in Priority.values:
        return []
    return [
        Problem(
            f"Unknown priority {priority!r}; use one of {', '.join(Priority.values)}.",
            ErrorCode.UNKNOWN_PRIORITY,
            field,
        )
    ]


def _seconds_problems(seconds: int, *, field: str) -> list[Problem]:
    if seconds <= 0:
        return [Problem("A target must be longer than zero.", ErrorCode.INVALID_TARGET, field)]
    if seconds > MAX_TARGET_SECONDS:
        return [Problem("A target can be at most a year.", ErrorCode.INVALID_TARGET, field)]
    return []
