"""Admin reports and the agent dashboard: numbers computed by database aggregates, a fixed number
of SQL statements however many tickets there are.

A report covers whole days, ``start`` to ``end`` inclusive, in the current Django time zone, and
can be narrowed to one department and/or one assignee. What each number counts:

* totals by status, priority and department: tickets created in the window, by where they are now;
* daily: tickets created, and tickets resolved (``resolved_at``), on each day;
* first response: created in the window and answered, ``first_response_at - created_at``;
* resolution: resolved in the window, ``resolved_at - created_at``;
* satisfaction: ratings given in the window, on tickets matching the filters;
* agents: tickets resolved in the window, by assignee;
* SLA compliance: the clocks of tickets created in the window, per metric, that were met in
  time or breached (clocks still running and never breached are not yet decided).

Durations count the way the ticket's SLA target counts: the clock's seconds inside business
hours when the target counts business hours, its running seconds (pauses left out) when it
counts calendar hours, and plain calendar time for tickets without a clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from escalated.access import require_admin, require_staff, visible_tickets
from escalated.errors import DomainError, ErrorCode
from escalated.events import person
from escalated.models import (
    MAX_RATING,
    MIN_RATING,
    OPEN_STATUSES,
    Department,
    Metric,
    Priority,
    SatisfactionRating,
    SlaClock,
    Status,
    Ticket,
)
from escalated.services.stats import Seconds, Summary, summarise

MAX_REPORT_DAYS = 366


@dataclass(frozen=True)
class DailyCount:
    day: date
    created: int
    resolved: int


@dataclass(frozen=True)
class SlaCompliance:
    metric: str
    met: int  # met in time
    breached: int  # met late, or ran out

    @property
    def measured(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        """The share met in time, 0 to 1; None when nothing was measured."""
        return self.met / self.measured if self.measured else None


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    department: Department | None
    agent: Any
    created: int
    resolved: int
    by_status: dict[str, int]  # every status, in workflow order
    by_priority: dict[str, int]  # every priority, in severity order
    by_department: list[tuple[Department | None, int]]  # busiest first; None: no department
    daily: list[DailyCount]  # every day of the window
    first_response: Summary
    resolution: Summary
    ratings: dict[int, int]  # every rating, 1 to 5
    solved_by_agent: list[tuple[Any, int]]  # most first
    sla: list[SlaCompliance]  # every metric, in Metric order

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_average(self) -> float | None:
        if not self.rating_count:
            return None
        return sum(r * n for r, n in self.ratings.items()) / self.rating_count


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise DomainError("The report ends before it starts.", code=ErrorCode.INVALID, field="to")
    if (end - start).days >= MAX_REPORT_DAYS:
        raise DomainError(
            f"A report covers at most {MAX_REPORT_DAYS} days.", code=ErrorCode.INVALID, field="to"
        )
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _per_day(queryset: QuerySet[Ticket], field: str) -> dict[date, int]:
    days = queryset.annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))
    return {row["day"]: row["n"] for row in days.values("day").annotate(n=Count("pk")).order_by()}


def _counted_seconds(metric: str, cycle: Q, fallback: Any) -> Coalesce:
    """A ticket's duration for ``metric`` as its met clock counted it (see the module's
    docstring), else ``fallback`` (calendar seconds)."""
    clocks = SlaClock.objects.filter(
        cycle, ticket_id=OuterRef("pk"), metric=metric, met_at__isnull=False
    ).annotate(
        counted=Case(
            When(business_hours=True, then=F("business_seconds")),
            default=F("active_seconds"),
            output_field=FloatField(),
        )
    )
    return Coalesce(Subquery(clocks.values("counted")[:1]), fallback, output_field=FloatField())


def _sla_compliance(tickets: QuerySet[Ticket]) -> list[SlaCompliance]:
    decided = (
        SlaClock.objects.filter(ticket__in=tickets)
        .values("metric")
        .annotate(
            met=Count("pk", filter=Q(met_at__isnull=False, breached_at__isnull=True)),
            breached=Count("pk", filter=Q(breached_at__isnull=False)),
        )
        .order_by()
    )
    found: dict[str, tuple[int, int]] = {
        row["metric"]: (row["met"], row["breached"]) for row in decided
    }
    return [SlaCompliance(metric, *found.get(metric, (0, 0))) for metric in Metric.values]


def report_build(
    *, actor: Any, start: date, end: date, department: Department | None = None, agent: Any = None
) -> Report:
    """The report for ``start``..``end`` (admins only)."""
    require_admin(actor)
    since, until = _window(start, end)
    tickets = Ticket.objects.all()
    ratings = SatisfactionRating.objects.filter(created_at__gte=since, created_at__lt=until)
    if department is not None:
        tickets = tickets.filter(department=department)
        ratings = ratings.filter(ticket__department=department)
    if agent is not None:
        tickets = tickets.filter(assignee=agent)
        ratings = ratings.filter(ticket__assignee=agent)
    created = tickets.filter(created_at__gte=since, created_at__lt=until)
    resolved = tickets.filter(resolved_at__gte=since, resolved_at__lt=until)

    groups = list(
        created.values("status", "priority", "department_id").annotate(n=Count("pk")).order_by()
    )
    by_status = Counter[str]()
    by_priority = Counter[str]()
    by_department_id = Counter[Any]()
    for row in groups:
        by_status[row["status"]] += row["n"]
        by_priority[row["priority"]] += row["n"]
        by_department_id[row["department_id"]] += row["n"]
    named = Department.objects.in_bulk([pk for pk in by_department_id if pk is not None])

    created_daily = _per_day(created, "created_at")
    resolved_daily = _per_day(resolved, "resolved_at")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]

    stars = dict(ratings.values_list("rating").annotate(n=Count("pk")).order_by())
    solved = list(
        resolved.filter(assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee_id")
    )
    people = get_user_model()._default_manager.in_bulk([pk for pk, _n in solved])

    return Report(
        start=start,
        end=end,
        department=department,
        agent=agent,
        created=sum(by_status.values()),
        resolved=sum(resolved_daily.values()),
        by_status={s: by_status[s] for s in Status.values},
        by_priority={p: by_priority[p] for p in Priority.values},
        by_department=[
            (named.get(pk) if pk is not None else None, n)
            for pk, n in sorted(by_department_id.items(), key=lambda item: (-item[1], item[0] or 0))
        ],
        daily=[DailyCount(d, created_daily.get(d, 0), resolved_daily.get(d, 0)) for d in days],
        first_response=summarise(
            created,
            _counted_seconds(
                Metric.FIRST_RESPONSE,
                Q(cycle=1),
                Seconds(F("first_response_at"), F("created_at")),
            ),
        ),
        resolution=summarise(
            resolved,
            _counted_seconds(
                Metric.RESOLUTION,
                Q(is_current=True),
                Seconds(F("resolved_at"), F("created_at")),
            ),
        ),
        ratings={r: stars.get(r, 0) for r in range(MIN_RATING, MAX_RATING + 1)},
        solved_by_agent=[(people[pk], n) for pk, n in solved],
        sla=_sla_compliance(created),
    )


# --- the agent dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    open: int  # open tickets the viewer can see
    mine: int  # open tickets assigned to the viewer
    unassigned: int  # open tickets the viewer can see that nobody has
    sla_breached: int  # open tickets the viewer can see with a current clock that ran out
    resolved_today: int  # tickets the viewer can see, resolved since midnight
    mine_resolved_today: int  # of those, the viewer's


def agent_dashboard(*, actor: Any) -> Dashboard:
    """The numbers at the top of an agent's queue, in one SQL statement."""
    require_staff(actor)
    midnight = datetime.combine(
        timezone.localdate(), time.min, tzinfo=timezone.get_current_timezone()
    )
    is_open = Q(status__in=OPEN_STATUSES)
    # A rule or command has no tickets of its own (and no pk to match unassigned ones by).
    mine = Q(assignee_id=actor.pk) if person(actor) is not None else Q(pk__in=[])
    today = Q(resolved_at__gte=midnight)
    breached = Exists(
        SlaClock.objects.current().breached(timezone.now()).filter(ticket_id=OuterRef("pk"))
    )
    counts = visible_tickets(actor).aggregate(
        open=Count("pk", filter=is_open),
        mine=Count("pk", filter=is_open & mine),
        unassigned=Count("pk", filter=is_open & Q(assignee__isnull=True)),
        sla_breached=Count("pk", filter=is_open & Q(breached)),
        resolved_today=Count("pk", filter=today),
        mine_resolved_today=Count("pk", filter=today & mine),
    )
    return Dashboard(**counts)
