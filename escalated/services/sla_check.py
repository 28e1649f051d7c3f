"""The sweep behind ``check_sla``: announce every clock that has run out or is about to.

The work is set-based: one UPDATE claims every breached clock, one every clock entering its
warning window, and each claim marks the rows it takes (``breached_at``, ``warned_at``), so a
clock is announced once per cycle however often the sweep runs. The statements issued do not
depend on how many tickets are open.

On PostgreSQL the claim takes rows with ``FOR UPDATE SKIP LOCKED``, so sweeps started at the
same moment on several machines split the work instead of announcing anything twice; it also
skips tickets a person is changing right now (their clocks are being recomputed under the
ticket's lock), which the next sweep picks up. Elsewhere (SQLite) the database serialises
writers and a plain ``UPDATE … RETURNING`` is enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from escalated import events
from escalated.access import SystemActor
from escalated.conf import escalated_settings
from escalated.models import SlaClock, Ticket
from escalated.services.sla import clock_remaining

SLA_ACTOR = SystemActor("sla")


@dataclass(frozen=True)
class Announced:
    """One announcement of a run: a breach or a warning of one clock of one ticket."""

    kind: str  # "breach" or "warning"
    reference: str
    metric: str


@dataclass(frozen=True)
class SlaCheckResult:
    breaches: int
    warnings: int
    announced: tuple[Announced, ...] = ()


def sla_check(
    *, now: datetime | None = None, warning_threshold: timedelta | None = None
) -> SlaCheckResult:
    """Announce new breaches and warnings. ``warning_threshold`` (default: the setting
    SLA['WARNING_THRESHOLD_MINUTES']) is how long before its due instant a clock is warned
    about; zero turns warnings off for this run."""
    if not escalated_settings.SLA["ENABLED"]:
        return SlaCheckResult(0, 0)
    now = now or timezone.now()
    if warning_threshold is None:
        warning_threshold = timedelta(minutes=escalated_settings.SLA["WARNING_THRESHOLD_MINUTES"])
    with transaction.atomic():
        breached = _claim(
            "breached_at = due_at", [], "c.breached_at IS NULL AND c.due_at <= %s", [now]
        )
        warned: list[int] = []
        if warning_threshold > timedelta(0):
            warned = _claim(
                "warned_at = %s",
                [now],
                "c.breached_at IS NULL AND c.warned_at IS NULL AND NOT c.is_paused "
                "AND c.due_at > %s AND c.due_at <= %s",
                [now, now + warning_threshold],
            )
        if not breached and not warned:
            return SlaCheckResult(0, 0)
        claimed = (
            SlaClock.objects.filter(pk__in=[*breached, *warned])
            # The announcements' notifications address each ticket's assignee and department.
            .select_related("ticket__assignee", "ticket__department", "policy__schedule")
            .order_by("ticket_id", "metric", "cycle")
        )
        newly_breached = set(breached)
        announced = tuple(
            Announced(
                "breach" if clock.pk in newly_breached else "warning",
                clock.ticket.reference,
                clock.metric,
            )
            for clock in claimed
        )
        batch = [_announcement(clock, clock.pk in newly_breached, now) for clock in claimed]
        events.record_many(batch)
    return SlaCheckResult(len(breached), len(warned), announced)


def _announcement(clock: SlaClock, breached: bool, now: datetime) -> events.TicketEvent:
    assert clock.due_at is not None  # claimed clocks are running towards a due instant
    ticket, metric, due_at = clock.ticket, clock.metric, clock.due_at
    if breached:
        return events.SlaBreached(ticket=ticket, actor=SLA_ACTOR, metric=metric, due_at=due_at)
    remaining = clock_remaining(clock, now) or timedelta(0)
    return events.SlaWarning(
        ticket=ticket, actor=SLA_ACTOR, metric=metric, due_at=due_at, remaining=remaining
    )


def _claim(
    assignment: str, assignment_params: list[Any], condition: str, condition_params: list[Any]
) -> list[int]:
    """Set ``assignment`` on the unmet clocks matching ``condition`` (the clocks table is ``c``)
    and return their ids."""
    ops = connection.ops
    clocks = ops.quote_name(SlaClock._meta.db_table)
    tickets = ops.quote_name(Ticket._meta.db_table)
    where = f"c.met_at IS NULL AND {condition}"
    # Only quoted table names and this module's constant fragments are formatted in; every
    # value travels as a parameter.
    if connection.vendor == "postgresql":
        sql = (
            f"WITH claimed AS (SELECT c.id FROM {clocks} c JOIN {tickets} t ON t.id = c.ticket_id "  # noqa: S608
            f"WHERE {where} FOR UPDATE OF c SKIP LOCKED FOR KEY SHARE OF t SKIP LOCKED) "
            f"UPDATE {clocks} SET {assignment} FROM claimed "
            f"WHERE {clocks}.id = claimed.id RETURNING {clocks}.id"
        )
        params = [*condition_params, *assignment_params]
    else:
        sql = f"UPDATE {clocks} AS c SET {assignment} WHERE {where} RETURNING id"  # noqa: S608
        params = [*assignment_params, *condition_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [_adapt(value) for value in params])
        return [row[0] for row in cursor.fetchall()]


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value
