"""The SLA side of the API: policies, business schedules, and the clocks on a ticket."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from graphql import GraphQLError
from strawberry import Info, relay

from escalated import models
from escalated.access import is_staff
from escalated.errors import DomainError
from escalated.graphql.context import viewer
from escalated.graphql.enums import TicketKind, TicketPriority, TicketStatus
from escalated.graphql.ids import load_many, load_optional
from escalated.graphql.types import DepartmentNode, TagNode
from escalated.services.sla import (
    clock_is_breached,
    clock_paused,
    clock_remaining,
    pause_statuses,
)
from escalated.services.sla import sla_preview as service_preview

SlaMetric = strawberry.enum(
    models.Metric, name="SlaMetric", description="What an SLA target measures."
)


@strawberry.enum(description="A day of the week.")
class Weekday(Enum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


@strawberry.type(description="Working time on one weekday; overnight when end is not after start.")
class WorkingInterval:
    weekday: Weekday
    start: dt.time
    end: dt.time

    @strawberry.field(description="Runs into the next day.")
    def overnight(self) -> bool:
        return self.end <= self.start


@strawberry.type(description="A day off.")
class Holiday:
    date: dt.date
    name: str
    yearly: bool = strawberry.field(description="Recurs on this month and day every year.")


@strawberry_django.type(models.BusinessSchedule, name="BusinessSchedule")
class BusinessScheduleNode(relay.Node):
    name: str
    timezone: str = strawberry_django.field(description="IANA time zone, e.g. America/New_York.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry_django.field(only=["intervals"])
    def intervals(self, root: models.BusinessSchedule) -> list[WorkingInterval]:
        return [
            WorkingInterval(
                weekday=Weekday(iv["weekday"]),
                start=dt.time.fromisoformat(iv["start"]),
                end=dt.time.fromisoformat(iv["end"]),
            )
            for iv in root.intervals
        ]

    @strawberry_django.field(only=["holidays"])
    def holidays(self, root: models.BusinessSchedule) -> list[Holiday]:
        return [
            Holiday(
                date=dt.date.fromisoformat(h["date"]),
                name=h.get("name", ""),
                yearly=bool(h.get("yearly")),
            )
            for h in root.holidays
        ]

    @strawberry_django.field(
        only=["holiday_country"], description="Public-holiday calendar's country code, e.g. US."
    )
    def holiday_country(self, root: models.BusinessSchedule) -> str | None:
        return root.holiday_country or None

    @strawberry_django.field(only=["holiday_subdivision"], description="Its region, e.g. NY.")
    def holiday_subdivision(self, root: models.BusinessSchedule) -> str | None:
        return root.holiday_subdivision or None

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.BusinessSchedule], info: Info, **kwargs: Any
    ) -> QuerySet[models.BusinessSchedule]:
        return queryset if is_staff(viewer(info)) else queryset.none()


@strawberry.type(description="How long one metric may take at one priority.")
class SlaTarget:
    metric: SlaMetric
    priority: TicketPriority
    seconds: int
    business_hours: bool = strawberry.field(description="Counts business hours, not calendar time.")

    @strawberry.field
    def minutes(self) -> float:
        return self.seconds / 60


@strawberry.type(description="The statuses in which a metric's clock stands still.")
class SlaPause:
    metric: SlaMetric
    statuses: list[TicketStatus]


def _form_hours(policy: models.SlaPolicy, metric: str) -> strawberry.scalars.JSON:
    per = (policy.targets or {}).get(metric, {})
    return {priority: t["seconds"] / 3600 for priority, t in per.items()}


@strawberry_django.type(
    models.SlaPolicy,
    name="SlaPolicy",
    description="Targets for the tickets that match its conditions (staff only).",
)
class SlaPolicyNode(relay.Node):
    name: str
    description: str
    is_active: bool
    is_default: bool = strawberry_django.field(description="Applies when no other policy matches.")
    position: int = strawberry_django.field(description="Policies are tried in this order.")
    schedule: BusinessScheduleNode | None = strawberry_django.field(
        description="Null: the schedule of the SLA['BUSINESS_HOURS'] setting."
    )
    requester_is_guest: bool | None = strawberry_django.field(
        description="Condition on guest requesters; null: either."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry_django.field(
        annotate={"tickets_count_value": Count("clocks__ticket", distinct=True)},
        description="Tickets whose clocks this policy has run.",
    )
    def tickets_count(self, root: models.SlaPolicy) -> int:
        if hasattr(root, "tickets_count_value"):
            return int(root.tickets_count_value or 0)
        return int(root.clocks.values("ticket").distinct().count())

    @strawberry_django.field(
        prefetch_related=["departments"], description="Condition: any of these (empty: any)."
    )
    def departments(self, root: models.SlaPolicy) -> list[DepartmentNode]:
        return list(root.departments.all())

    @strawberry_django.field(prefetch_related=["tags"], description="Condition: any of these tags.")
    def tags(self, root: models.SlaPolicy) -> list[TagNode]:
        return list(root.tags.all())

    @strawberry_django.field(only=["ticket_types"], description="Condition (empty: any type).")
    def ticket_types(self, root: models.SlaPolicy) -> list[TicketKind]:
        return [models.TicketType(t) for t in root.ticket_types]

    @strawberry_django.field(only=["targets"])
    def targets(self, root: models.SlaPolicy) -> list[SlaTarget]:
        return [
            SlaTarget(
                metric=models.Metric(metric),
                priority=models.Priority(priority),
                seconds=t["seconds"],
                business_hours=t["business_hours"],
            )
            for metric in models.Metric.values
            for priority, t in (root.targets or {}).get(metric, {}).items()
        ]

    @strawberry_django.field(only=["pause_statuses"])
    def pause_statuses(self, root: models.SlaPolicy) -> list[SlaPause]:
        return [
            SlaPause(
                metric=models.Metric(metric),
                statuses=[models.Status(s) for s in sorted(pause_statuses(root, metric))],
            )
            for metric in models.Metric.values
        ]

    @strawberry_django.field(
        only=["targets"], description="The admin form's shape: {priority: hours}."
    )
    def first_response_hours(self, root: models.SlaPolicy) -> strawberry.scalars.JSON:
        return _form_hours(root, models.Metric.FIRST_RESPONSE)

    @strawberry_django.field(
        only=["targets"], description="The admin form's shape: {priority: hours}."
    )
    def resolution_hours(self, root: models.SlaPolicy) -> strawberry.scalars.JSON:
        return _form_hours(root, models.Metric.RESOLUTION)

    @strawberry_django.field(
        only=["targets"], description="The admin form's shape: every target counts business hours."
    )
    def business_hours_only(self, root: models.SlaPolicy) -> bool:
        every = [t for per in (root.targets or {}).values() for t in per.values()]
        return bool(every) and all(t["business_hours"] for t in every)

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.SlaPolicy], info: Info, **kwargs: Any
    ) -> QuerySet[models.SlaPolicy]:
        return queryset if is_staff(viewer(info)) else queryset.none()


# --- the clocks on a ticket -----------------------------------------------------------------------


@strawberry.type(name="SlaClock", description="One metric's clock on a ticket (its current cycle).")
class SlaClockType:
    metric: SlaMetric
    due_at: dt.datetime | None = strawberry.field(description="Null while paused.")
    met_at: dt.datetime | None
    breached: bool = strawberry.field(description="Ran out: met late, or unmet past its due time.")
    breached_at: dt.datetime | None = strawberry.field(description="When it ran out.")
    remaining_seconds: int | None = strawberry.field(
        description="Time left (negative once overdue), in business seconds where the target "
        "counts business hours; null once met."
    )
    is_paused: bool
    started_at: dt.datetime
    target_seconds: int
    business_hours: bool = strawberry.field(description="The target counts business hours.")
    paused_seconds: int = strawberry.field(description="Real seconds the clock stood paused.")
    cycle: int = strawberry.field(
        description="1 for the first; next response counts each waiting message, resolution "
        "each reopen."
    )

    @classmethod
    def of(cls, clock: models.SlaClock, now: dt.datetime) -> SlaClockType:
        breached = clock_is_breached(clock, now)
        remaining = clock_remaining(clock, now)
        return cls(
            metric=models.Metric(clock.metric),
            due_at=clock.due_at,
            met_at=clock.met_at,
            breached=breached,
            breached_at=(clock.breached_at or clock.due_at) if breached else None,
            remaining_seconds=None if remaining is None else int(remaining.total_seconds()),
            is_paused=clock.is_paused,
            started_at=clock.started_at,
            target_seconds=clock.target_seconds,
            business_hours=clock.business_hours,
            paused_seconds=int(clock_paused(clock, now).total_seconds()),
            cycle=clock.cycle,
        )


@strawberry.type(description="A ticket's service levels: its policy and a clock per metric.")
class TicketSla:
    policy: SlaPolicyNode | None
    first_response: SlaClockType | None
    next_response: SlaClockType | None = strawberry.field(
        description="The clock on the newest customer message waiting for an answer, or on the "
        "last one answered; null before any follow-up."
    )
    resolution: SlaClockType | None


def current_clocks_prefetch(info: Info) -> Prefetch[Any]:
    """Each ticket's current clocks with their policy and schedule, in one query for the page
    (no query at all for viewers who may not see them)."""
    clocks = models.SlaClock.objects.current().select_related("policy__schedule")
    if not is_staff(viewer(info)):
        clocks = clocks.none()
    return Prefetch("sla_clocks", queryset=clocks, to_attr="current_sla_clocks")


def ticket_sla(ticket: models.Ticket, info: Info) -> TicketSla | None:
    """``Ticket.sla``: staff only; null when no policy gives the ticket a clock."""
    if not is_staff(viewer(info)):
        return None
    current = getattr(ticket, "current_sla_clocks", None)
    if current is None:
        current = list(ticket.sla_clocks.filter(is_current=True).select_related("policy__schedule"))
    if not current:
        return None
    now = timezone.now()
    by_metric = {clock.metric: clock for clock in current}

    def of(metric: str) -> SlaClockType | None:
        clock = by_metric.get(metric)
        return None if clock is None else SlaClockType.of(clock, now)

    return TicketSla(
        policy=current[0].policy,
        first_response=of(models.Metric.FIRST_RESPONSE),
        next_response=of(models.Metric.NEXT_RESPONSE),
        resolution=of(models.Metric.RESOLUTION),
    )


# --- previews -------------------------------------------------------------------------------------


@strawberry.input(description="A new ticket to preview: when would its clocks be due?")
class SlaPreviewInput:
    priority: TicketPriority
    department_id: relay.GlobalID | None = None
    created_at: dt.datetime | None = strawberry.field(default=None, description="Default: now.")
    ticket_type: TicketKind | None = None
    tag_ids: list[relay.GlobalID] | None = None
    requester_is_guest: bool = False


@strawberry.type(description="The policy a new ticket would get and when each metric is due.")
class SlaPreview:
    policy: SlaPolicyNode | None
    first_response_due_at: dt.datetime | None
    next_response_due_at: dt.datetime | None = strawberry.field(
        description="For a customer message arriving at createdAt."
    )
    resolution_due_at: dt.datetime | None


def sla_preview(info: Info, input: SlaPreviewInput) -> SlaPreview:
    """Resolve ``slaPreview``: ids that name nothing the viewer may see are refused."""
    try:
        department = load_optional(info, input.department_id, DepartmentNode, field="department_id")
        tags = load_many(info, input.tag_ids or [], TagNode, field="tag_ids")
    except DomainError as error:
        raise GraphQLError(str(error)) from error
    preview = service_preview(
        priority=str(input.priority),
        created_at=input.created_at or timezone.now(),
        department_id=None if department is None else department.pk,
        ticket_type=str(input.ticket_type or models.TicketType.QUESTION),
        tag_ids=[tag.pk for tag in tags],
        requester_is_guest=input.requester_is_guest,
    )
    return SlaPreview(
        policy=preview.policy,
        first_response_due_at=preview.due.get(models.Metric.FIRST_RESPONSE),
        next_response_due_at=preview.due.get(models.Metric.NEXT_RESPONSE),
        resolution_due_at=preview.due.get(models.Metric.RESOLUTION),
    )
