"""Building blocks for the SLA tests: policies and schedules in a line, a frozen clock, and
reading a ticket's clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalated.models import BusinessSchedule, Metric, Priority, SlaClock, SlaPolicy, Ticket

NY = ZoneInfo("America/New_York")
HOUR = 3600


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def targets(
    *,
    first: float | None = None,
    next_: float | None = None,
    resolution: float | None = None,
    business: bool = False,
    priorities: tuple[str, ...] = tuple(Priority.values),
) -> dict[str, Any]:
    """A policy's targets JSON: the same hours for every priority given."""
    chosen = {
        Metric.FIRST_RESPONSE: first,
        Metric.NEXT_RESPONSE: next_,
        Metric.RESOLUTION: resolution,
    }
    return {
        metric: {p: {"seconds": int(hours * HOUR), "business_hours": business} for p in priorities}
        for metric, hours in chosen.items()
        if hours is not None
    }


def make_policy(name: str = "Standard", *, is_default: bool = True, **fields: Any) -> SlaPolicy:
    departments = fields.pop("departments", [])
    tags = fields.pop("tags", [])
    policy = SlaPolicy.objects.create(name=name, is_default=is_default, **fields)
    policy.departments.set(departments)
    policy.tags.set(tags)
    return policy


def new_york_office(**fields: Any) -> BusinessSchedule:
    """Weekdays 09:00-17:00 in New York."""
    return BusinessSchedule.objects.create(
        name="New York office",
        timezone="America/New_York",
        intervals=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)],
        **fields,
    )


def clocks(ticket: Ticket, *, current: bool = True) -> dict[str, SlaClock]:
    """The ticket's clocks by metric (the current cycle of each, unless ``current`` is False:
    then by "metric#cycle")."""
    rows = SlaClock.objects.filter(ticket=ticket).order_by("metric", "cycle")
    if current:
        return {c.metric: c for c in rows.filter(is_current=True)}
    return {f"{c.metric}#{c.cycle}": c for c in rows}


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    """Time stands still at Monday 3 March 2025, 09:00 in New York, until the test moves it."""
    with time_machine.travel(ny(2025, 3, 3, 9), tick=False) as traveller:
        yield traveller
