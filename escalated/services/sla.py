"""The SLA engine: which policy a ticket gets, and its clocks, recomputed from its history.

Whenever something that moves the clocks happens to a ticket (it is created, answered, changes
status, priority, department, type or tags), :func:`ticket_sla_recompute` runs inside that
change's transaction (see the handler table in :mod:`escalated.events`). It selects the policy
again and replays the ticket's history under it: the statuses from the activity timeline and the
public replies. The same history always gives the same clocks, so a priority change mid-clock, a
pause or a reopen needs no special bookkeeping: the clocks are what the history says they are.

The rules the replay follows:

* **First response** starts when the ticket is created and is met by the first public reply
  from the helpdesk's side.
* **Next response** starts at each customer message after the first response (while no earlier
  one is still waiting) and is met by the next public agent reply.
* **Resolution** starts at creation and again at each reopen, and is met when the ticket is
  resolved or closed.
* A clock runs only while the ticket is in neither a pausing status of its metric nor resolved
  or closed; it resumes with the time it had left.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from escalated.conf import escalated_settings
from escalated.models import (
    BusinessSchedule,
    Metric,
    Reply,
    SlaClock,
    SlaPolicy,
    Status,
    Ticket,
    TicketActivity,
    TicketType,
)
from escalated.services.business_time import (
    WALL_CLOCK,
    BusinessCalendar,
    Clock,
    WorkingInterval,
)
from escalated.services.shared_reads import read_once

ZERO = timedelta(0)
# Statuses in which no clock runs: the work is done, or the customer has what they asked for.
STOPPED = frozenset({Status.RESOLVED, Status.CLOSED})


# --- targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """How long a metric may take, and whether that counts business or calendar time."""

    seconds: int
    business_hours: bool

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.seconds)


def policy_targets(policy: SlaPolicy, priority: str) -> dict[str, Target]:
    """The policy's target for each metric it sets at ``priority``."""
    found = {}
    for metric in Metric.values:
        entry = (policy.targets or {}).get(metric, {}).get(priority)
        if entry:
            found[metric] = Target(int(entry["seconds"]), bool(entry["business_hours"]))
    return found


def pause_statuses(policy: SlaPolicy, metric: str) -> frozenset[str]:
    """The statuses that pause ``metric`` under ``policy``."""
    chosen = (policy.pause_statuses or {}).get(metric)
    if chosen is None:
        chosen = escalated_settings.SLA["PAUSE_STATUSES"]
    return frozenset(chosen)


# --- calendars ----------------------------------------------------------------------------------

_calendars: dict[str, BusinessCalendar] = {}


def calendar_for(schedule: BusinessSchedule | None) -> BusinessCalendar:
    """The business calendar of ``schedule``; None means the SLA['BUSINESS_HOURS'] setting.
    Calendars are kept by content, so holiday look-ups are made once per schedule version."""
    if schedule is None:
        hours = escalated_settings.SLA["BUSINESS_HOURS"]
        key = json.dumps(hours, sort_keys=True)
    else:
        key = json.dumps(
            [
                schedule.timezone,
                schedule.intervals,
                schedule.holidays,
                schedule.holiday_country,
                schedule.holiday_subdivision,
            ],
            sort_keys=True,
        )
    calendar = _calendars.get(key)
    if calendar is None:
        if len(_calendars) > 64:
            _calendars.clear()
        calendar = _settings_calendar(hours) if schedule is None else schedule_calendar(schedule)
        _calendars[key] = calendar
    return calendar


def schedule_calendar(schedule: BusinessSchedule) -> BusinessCalendar:
    """A stored schedule as a calendar (its JSON is validated on the way in)."""
    once, yearly = split_holidays(schedule.holidays)
    return BusinessCalendar(
        timezone=schedule.timezone,
        intervals=schedule_intervals(schedule),
        holidays=once,
        yearly_holidays=yearly,
        country=schedule.holiday_country or None,
        subdivision=schedule.holiday_subdivision or None,
    )


def schedule_intervals(schedule: BusinessSchedule) -> list[WorkingInterval]:
    return [
        WorkingInterval(
            int(iv["weekday"]), time.fromisoformat(iv["start"]), time.fromisoformat(iv["end"])
        )
        for iv in schedule.intervals
    ]


def split_holidays(entries: Iterable[dict[str, Any]]) -> tuple[list[date], list[tuple[int, int]]]:
    once, yearly = [], []
    for entry in entries:
        day = date.fromisoformat(entry["date"])
        if entry.get("yearly"):
            yearly.append((day.month, day.day))
        else:
            once.append(day)
    return once, yearly


def _settings_calendar(hours: dict[str, Any]) -> BusinessCalendar:
    start, end = time.fromisoformat(hours["START"]), time.fromisoformat(hours["END"])
    once, yearly = [], []
    for entry in hours["HOLIDAYS"]:
        if len(entry) == 10:
            once.append(date.fromisoformat(entry))
        else:
            month, day = entry.split("-")
            yearly.append((int(month), int(day)))
    return BusinessCalendar(
        timezone=hours["TIMEZONE"],
        intervals=[WorkingInterval(day, start, end) for day in hours["DAYS"]],
        holidays=once,
        yearly_holidays=yearly,
        country=hours["HOLIDAY_COUNTRY"],
        subdivision=hours["HOLIDAY_SUBDIVISION"],
    )


def clock_of(target: Target, calendar: BusinessCalendar) -> Clock:
    return calendar if target.business_hours else WALL_CLOCK


# --- which policy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What policy conditions look at."""

    department_id: int | None
    ticket_type: str
    tag_ids: frozenset[int]
    requester_is_guest: bool


def requester_is_guest(ticket: Ticket) -> bool:
    """A ticket whose requester has no account (opened by a guest or from an unknown address)."""
    return ticket.requester_id is None


def active_policies() -> list[SlaPolicy]:
    """Active policies in the order they are tried, with what their conditions need (read once
    for a whole run of changes, see :mod:`escalated.services.shared_reads`)."""
    return read_once(
        "sla.active_policies",
        lambda: list(
            SlaPolicy.objects.filter(is_active=True)
            .select_related("schedule")
            .prefetch_related(
                Prefetch("departments", to_attr="department_list"),
                Prefetch("tags", to_attr="tag_list"),
            )
        ),
    )


def policy_matches(policy: SlaPolicy, facts: TicketFacts) -> bool:
    departments = {d.pk for d in policy.department_list}  # type: ignore[attr-defined]
    tags = {t.pk for t in policy.tag_list}  # type: ignore[attr-defined]
    return (
        (not departments or facts.department_id in departments)
        and (not policy.ticket_types or facts.ticket_type in policy.ticket_types)
        and (not tags or bool(tags & facts.tag_ids))
        and (
            policy.requester_is_guest is None
            or policy.requester_is_guest == facts.requester_is_guest
        )
    )


def select_policy(facts: TicketFacts, policies: Sequence[SlaPolicy]) -> SlaPolicy | None:
    """The first matching policy other than the default; else the default, unless the
    SLA['TARGETED'] setting keeps clocks to matched tickets only."""
    for policy in policies:
        if not policy.is_default and policy_matches(policy, facts):
            return policy
    if escalated_settings.SLA["TARGETED"]:
        return None
    return next((p for p in policies if p.is_default), None)


def ticket_policy(ticket: Ticket) -> SlaPolicy | None:
    return tickets_policies([ticket])[ticket.pk]


def tickets_policies(tickets: Sequence[Ticket]) -> dict[int, SlaPolicy | None]:
    """The policy that applies to each ticket (by id); the tags of all of them in one read."""
    policies = active_policies()
    if not policies:
        return {t.pk: None for t in tickets}
    tags: dict[int, set[int]] = {t.pk: set() for t in tickets}
    if any(p.tag_list for p in policies):  # type: ignore[attr-defined]
        through = Ticket.tags.through.objects.filter(ticket_id__in=list(tags))
        for ticket_id, tag_id in through.values_list("ticket_id", "tag_id"):
            tags[ticket_id].add(tag_id)
    return {
        t.pk: select_policy(
            TicketFacts(
                department_id=t.department_id,
                ticket_type=t.ticket_type,
                tag_ids=frozenset(tags[t.pk]),
                requester_is_guest=requester_is_guest(t),
            ),
            policies,
        )
        for t in tickets
    }


# --- the history, and the clocks it gives -------------------------------------------------------


@dataclass(frozen=True)
class History:
    """What the clocks depend on: the status timeline (starting at creation) and the public
    replies, each as (time, whether the helpdesk wrote it), oldest first."""

    statuses: tuple[tuple[datetime, str], ...]
    replies: tuple[tuple[datetime, bool], ...] = ()

    @property
    def created_at(self) -> datetime:
        return self.statuses[0][0]


def ticket_history(ticket: Ticket, now: datetime) -> History:
    return tickets_histories([ticket], now)[ticket.pk]


def tickets_histories(tickets: Sequence[Ticket], now: datetime) -> dict[int, History]:
    """Read each ticket's history (two statements for them all): statuses from its activity
    timeline, replies from its thread.

    The ticket row is the truth about the present: a status the timeline does not show yet (an
    activity row still being gathered by ``events.one_activity``) is taken to start now.
    """
    ids = [t.pk for t in tickets]
    timelines: dict[int, list[tuple[str, datetime, Any, Any]]] = {pk: [] for pk in ids}
    rows = (
        TicketActivity.objects.filter(ticket_id__in=ids, after__has_key="status")
        .order_by("created_at", "id")
        .values_list("ticket_id", "verb", "created_at", "before", "after")
    )
    for ticket_id, *row in rows:
        timelines[ticket_id].append(tuple(row))
    threads: dict[int, list[tuple[datetime, bool]]] = {pk: [] for pk in ids}
    replies = (
        Reply.objects.filter(ticket_id__in=ids, is_internal_note=False)
        .order_by("created_at", "id")
        .values_list("ticket_id", "created_at", "from_agent")
    )
    for ticket_id, at, from_agent in replies:
        threads[ticket_id].append((at, from_agent))
    return {t.pk: _history(t, timelines[t.pk], threads[t.pk], now) for t in tickets}


def _history(
    ticket: Ticket,
    timeline: list[tuple[str, datetime, Any, Any]],
    replies: list[tuple[datetime, bool]],
    now: datetime,
) -> History:
    initial = None
    changes = []
    for verb, at, before, after in timeline:
        if verb == "created":
            initial = after["status"]
            continue
        if initial is None:
            initial = (before or {}).get("status", after["status"])
        changes.append((max(at, ticket.created_at), after["status"]))
    statuses = [(ticket.created_at, initial or ticket.status), *changes]
    if statuses[-1][1] != ticket.status:
        statuses.append((now, ticket.status))
    return History(statuses=tuple(statuses), replies=tuple(replies))


@dataclass(frozen=True)
class ClockRun:
    """One cycle of one metric, as the history gives it."""

    metric: str
    cycle: int
    target: Target
    started_at: datetime
    met_at: datetime | None
    # None while paused short of the target: no instant can be promised until it resumes.
    due_at: datetime | None
    is_paused: bool
    # Counted time left at the moment the clock stopped (met or paused); None while it runs.
    remaining: timedelta | None
    active: timedelta
    business: timedelta
    # Paused time before the pause still going on (if any), and when that pause began.
    paused: timedelta
    paused_since: datetime | None


def metric_cycles(history: History, metric: str) -> list[tuple[datetime, datetime | None]]:
    """(start, met) of each cycle of ``metric`` in ``history``; met is None while unmet."""
    statuses, replies = history.statuses, history.replies
    first_answer = next((i for i, (_at, agent) in enumerate(replies) if agent), None)
    if metric == Metric.FIRST_RESPONSE:
        return [(history.created_at, None if first_answer is None else replies[first_answer][0])]
    cycles: list[tuple[datetime, datetime | None]] = []
    if metric == Metric.NEXT_RESPONSE:
        if first_answer is None:
            return []
        waiting: datetime | None = None
        for at, agent in replies[first_answer + 1 :]:
            if not agent and waiting is None:
                waiting = at
            elif agent and waiting is not None:
                cycles.append((waiting, at))
                waiting = None
        if waiting is not None:
            cycles.append((waiting, None))
        return cycles
    start: datetime | None = history.created_at
    for at, status in statuses[1:]:
        if start is not None and status in STOPPED:
            cycles.append((start, at))
            start = None
        elif start is None and status not in STOPPED:
            start = at
    if start is not None:
        cycles.append((start, None))
    return cycles


def running_spans(
    history: History, stops: frozenset[str], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) in which the ticket's status let a clock run."""
    spans: list[tuple[datetime, datetime]] = []
    statuses = history.statuses
    for i, (at, status) in enumerate(statuses):
        until = statuses[i + 1][0] if i + 1 < len(statuses) else end
        a, b = max(at, start), min(until, end)
        if b > a and status not in stops:
            if spans and spans[-1][1] == a:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
    return spans


def clock_runs(
    history: History,
    *,
    targets: dict[str, Target],
    pauses: dict[str, frozenset[str]],
    calendar: BusinessCalendar,
    now: datetime,
) -> list[ClockRun]:
    """Replay ``history`` under a policy's targets: every cycle of every metric it sets."""
    runs = []
    current_status = history.statuses[-1][1]
    for metric, target in targets.items():
        stops = pauses[metric] | STOPPED
        clock = clock_of(target, calendar)
        for number, (started, met) in enumerate(metric_cycles(history, metric), start=1):
            end = met or now
            left, due = target.duration, None
            active = business = ZERO
            spans = running_spans(history, stops, started, end)
            for a, b in spans:
                counted = clock.between(a, b)
                if due is None and counted >= left:
                    due = clock.add(a, left)
                left -= counted
                active += b - a
                business += counted if clock is calendar else calendar.between(a, b)
            running = met is None and current_status not in stops
            if due is None and (running or met is not None):
                # Not run out yet: due once the time left has run from now (or from when met).
                due = clock.add(end, left)
            paused_since = None
            if not running and met is None:
                paused_since = spans[-1][1] if spans else started
            paused = end - started - active - (end - paused_since if paused_since else ZERO)
            runs.append(
                ClockRun(
                    metric=metric,
                    cycle=number,
                    target=target,
                    started_at=started,
                    met_at=met,
                    due_at=due,
                    is_paused=not running and met is None,
                    remaining=None if running else left,
                    active=active,
                    business=business,
                    paused=max(paused, ZERO),
                    paused_since=paused_since,
                )
            )
    return runs


# --- keeping a ticket's clocks ------------------------------------------------------------------

_RUN_FIELDS = (
    "policy_id",
    "is_current",
    "target_seconds",
    "business_hours",
    "started_at",
    "due_at",
    "met_at",
    "breached_at",
    "warned_at",
    "is_paused",
    "remaining_seconds",
    "active_seconds",
    "business_seconds",
    "paused_seconds",
    "paused_since",
)


def ticket_sla_recompute(*, ticket: Ticket, now: datetime | None = None) -> list[SlaClock]:
    """Bring ``ticket``'s clocks in line with its history under the policy that applies now.

    Runs inside the caller's transaction, under the ticket's row lock. Returns the clocks.
    """
    return tickets_sla_recompute(tickets=[ticket], now=now).get(ticket.pk, [])


def tickets_sla_recompute(
    *, tickets: Sequence[Ticket], now: datetime | None = None
) -> dict[int, list[SlaClock]]:
    """:func:`ticket_sla_recompute` for many tickets at once (a sweep's batch), with the same
    statements whatever their number: the policies' inputs, the histories and the clocks are
    read for all of them together, and the changed clocks written together."""
    if not escalated_settings.SLA["ENABLED"] or not tickets:
        return {}
    now = now or timezone.now()
    unique = list({t.pk: t for t in tickets}.values())
    policies = tickets_policies(unique)
    timed = [t for t in unique if _targets(policies[t.pk], t)]
    histories = tickets_histories(timed, now) if timed else {}
    existing: dict[int, dict[tuple[str, int], SlaClock]] = {t.pk: {} for t in unique}
    for clock in SlaClock.objects.filter(ticket_id__in=[t.pk for t in unique]):
        existing[clock.ticket_id][(clock.metric, clock.cycle)] = clock
    created: list[SlaClock] = []
    changed: list[SlaClock] = []
    gone: list[SlaClock] = []
    kept: dict[int, list[SlaClock]] = {}
    for ticket in unique:
        policy = policies[ticket.pk]
        targets = _targets(policy, ticket)
        if not targets:
            gone += existing[ticket.pk].values()
            kept[ticket.pk] = []
            continue
        assert policy is not None
        runs = clock_runs(
            histories[ticket.pk],
            targets=targets,
            pauses={metric: pause_statuses(policy, metric) for metric in targets},
            calendar=calendar_for(policy.schedule),
            now=now,
        )
        mine = existing[ticket.pk]
        last_cycle = {run.metric: run.cycle for run in runs}
        kept[ticket.pk] = []
        for run in runs:
            key = (run.metric, run.cycle)
            found = mine.pop(key) if key in mine else None
            before = None if found is None else [getattr(found, f) for f in _RUN_FIELDS]
            clock = found or SlaClock(ticket_id=ticket.pk, metric=run.metric, cycle=run.cycle)
            _apply_run(clock, run, policy, now, is_current=last_cycle[run.metric] == run.cycle)
            if before is None:
                created.append(clock)
            elif before != [getattr(clock, f) for f in _RUN_FIELDS]:
                changed.append(clock)
            kept[ticket.pk].append(clock)
        gone += mine.values()
    if gone:
        SlaClock.objects.filter(pk__in=[c.pk for c in gone]).delete()
    if created:
        SlaClock.objects.bulk_create(created)
    if changed:
        for clock in changed:
            clock.updated_at = now
        SlaClock.objects.bulk_update(changed, [*_RUN_FIELDS, "updated_at"])
    return kept


def _targets(policy: SlaPolicy | None, ticket: Ticket) -> dict[str, Target]:
    return policy_targets(policy, ticket.priority) if policy is not None else {}


def _apply_run(
    clock: SlaClock, run: ClockRun, policy: SlaPolicy, now: datetime, *, is_current: bool
) -> None:
    retargeted = clock.pk is not None and (
        clock.policy_id != policy.pk
        or clock.target_seconds != run.target.seconds
        or clock.business_hours != run.target.business_hours
    )
    clock.policy_id = policy.pk
    clock.is_current = is_current
    clock.target_seconds = run.target.seconds
    clock.business_hours = run.target.business_hours
    clock.started_at = run.started_at
    clock.met_at = run.met_at
    clock.is_paused = run.is_paused
    clock.remaining_seconds = None if run.remaining is None else _whole(run.remaining)
    clock.active_seconds = _whole(run.active)
    clock.business_seconds = _whole(run.business)
    clock.paused_seconds = _whole(run.paused)
    clock.paused_since = run.paused_since
    clock.breached_at = _breached_at(clock, run, now)
    clock.due_at = run.due_at
    if retargeted:
        clock.warned_at = None  # a new target is a new cycle for the warning


def _breached_at(clock: SlaClock, run: ClockRun, now: datetime) -> datetime | None:
    """A clock met late records its breach here. An unmet one that has run out keeps the mark
    only once check_sla has announced it, so the announcement happens exactly once."""
    overdue = run.due_at is not None and run.due_at <= (run.met_at or now)
    if not overdue:
        return None
    if run.met_at is not None or clock.breached_at is not None:
        return run.due_at
    return None


def _whole(amount: timedelta) -> int:
    return int(amount.total_seconds())


# --- reading a clock ------------------------------------------------------------------------------


def clock_remaining(clock: SlaClock, now: datetime | None = None) -> timedelta | None:
    """Time left on ``clock`` (negative once overdue), counted the way its target counts; None
    once met. Reads ``clock.policy.schedule``: load them with the clock."""
    if clock.met_at is not None:
        return None
    if clock.is_paused or clock.due_at is None:
        return timedelta(seconds=clock.remaining_seconds or 0)
    now = now or timezone.now()
    if not clock.business_hours:
        return clock.due_at - now
    schedule = clock.policy.schedule if clock.policy is not None else None
    return calendar_for(schedule).between(now, clock.due_at)


def clock_paused(clock: SlaClock, now: datetime | None = None) -> timedelta:
    """Real time ``clock`` has stood paused, the pause going on included."""
    paused = timedelta(seconds=clock.paused_seconds)
    if clock.paused_since is not None:
        paused += max((now or timezone.now()) - clock.paused_since, ZERO)
    return paused


def clock_is_breached(clock: SlaClock, now: datetime | None = None) -> bool:
    """Whether the clock has run out: met late, or unmet past its due instant (the in-memory
    twin of ``SlaClock.objects.breached``)."""
    if clock.due_at is None:
        return clock.breached_at is not None
    return clock.due_at <= (clock.met_at or now or timezone.now())


# --- previews -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPreview:
    policy: SlaPolicy | None
    due: dict[str, datetime]


def sla_preview(
    *,
    priority: str,
    created_at: datetime,
    department_id: int | None = None,
    ticket_type: str = TicketType.QUESTION,
    tag_ids: Iterable[int] = (),
    requester_is_guest: bool = False,
) -> SlaPreview:
    """The policy a new ticket with these facts would get, and when each metric would be due
    if the ticket were created at ``created_at`` and nothing paused its clocks. Next response
    is shown for a customer message arriving at ``created_at``."""
    facts = TicketFacts(department_id, ticket_type, frozenset(tag_ids), requester_is_guest)
    policy = select_policy(facts, active_policies())
    if policy is None:
        return SlaPreview(policy=None, due={})
    calendar = calendar_for(policy.schedule)
    due = {
        metric: clock_of(target, calendar).add(created_at, target.duration)
        for metric, target in policy_targets(policy, priority).items()
    }
    return SlaPreview(policy=policy, due=due)
