"""Mutations that manage SLA policies and business schedules (admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry import Info, relay

from escalated.conf import escalated_settings
from escalated.graphql.context import viewer
from escalated.graphql.enums import TicketKind, TicketPriority, TicketStatus
from escalated.graphql.errors import UserError, admin_mutation_payload
from escalated.graphql.ids import load, load_many, load_optional
from escalated.graphql.sla import BusinessScheduleNode, SlaMetric, SlaPolicyNode, Weekday
from escalated.graphql.types import DepartmentNode, TagNode
from escalated.services import sla_admin as service
from escalated.services.business_time import WorkingInterval
from escalated.services.common import UNSET

Errors = strawberry.field(default_factory=list)
JSON = strawberry.scalars.JSON


def _given(value: Any) -> Any:
    return UNSET if value is strawberry.UNSET else value


# --- business schedules ---------------------------------------------------------------------


@strawberry.input(description="Working time on one weekday; overnight when end is not after start.")
class WorkingIntervalInput:
    weekday: Weekday
    start: dt.time
    end: dt.time


@strawberry.input(description="A day off: once, or every year on the same month and day.")
class HolidayInput:
    date: dt.date
    name: str = ""
    yearly: bool = False


@strawberry.input
class BusinessScheduleCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    timezone: str | None = strawberry.field(default="UTC", description="IANA time zone name.")
    intervals: list[WorkingIntervalInput] | None = strawberry.field(
        default=None, description="At least one; they may not overlap."
    )
    holidays: list[HolidayInput] | None = None
    holiday_country: str | None = strawberry.field(
        default=None, description="Public-holiday calendar by country code, e.g. US."
    )
    holiday_subdivision: str | None = strawberry.field(
        default=None, description="Its state or region, e.g. NY."
    )


@strawberry.input
class BusinessScheduleUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    intervals: list[WorkingIntervalInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole list of intervals."
    )
    holidays: list[HolidayInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole list of holidays."
    )
    holiday_country: str | None = strawberry.UNSET
    holiday_subdivision: str | None = strawberry.UNSET


@strawberry.input
class BusinessScheduleDeleteInput:
    id: relay.GlobalID


@strawberry.type
class BusinessScheduleCreatePayload:
    business_schedule: BusinessScheduleNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class BusinessScheduleUpdatePayload(BusinessScheduleCreatePayload):
    pass


@strawberry.type
class BusinessScheduleDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


def _intervals(given: list[WorkingIntervalInput] | None) -> list[WorkingInterval]:
    return [WorkingInterval(iv.weekday.value, iv.start, iv.end) for iv in given or []]


def _holidays(given: list[HolidayInput] | None) -> list[service.HolidaySpec]:
    return [service.HolidaySpec(h.date, h.name, h.yearly) for h in given or []]


# --- policies -----------------------------------------------------------------------------------


@strawberry.input(description="How long one metric may take at one priority.")
class SlaTargetInput:
    metric: SlaMetric
    priority: TicketPriority
    minutes: int = strawberry.field(description="More than zero, at most a year.")
    business_hours: bool | None = strawberry.field(
        default=None,
        description="Count business hours (default: the SLA['BUSINESS_HOURS_ONLY'] setting).",
    )


@strawberry.input(description="The statuses in which one metric's clock stands still.")
class SlaPauseInput:
    metric: SlaMetric
    statuses: list[TicketStatus]


@strawberry.input
class SlaPolicyCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    description: str = ""
    is_active: bool = True
    is_default: bool = strawberry.field(
        default=False, description="Applies when no other policy matches; replaces the old one."
    )
    position: int = strawberry.field(default=0, description="Policies are tried in this order.")
    schedule_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Null: the schedule of the SLA['BUSINESS_HOURS'] setting."
    )
    department_ids: list[relay.GlobalID] | None = None
    ticket_types: list[TicketKind] | None = None
    tag_ids: list[relay.GlobalID] | None = None
    requester_is_guest: bool | None = None
    targets: list[SlaTargetInput] | None = None
    pause_statuses: list[SlaPauseInput] | None = strawberry.field(
        default=None,
        description="Per metric; a metric left out pauses in the SLA['PAUSE_STATUSES'] setting.",
    )
    first_response_hours: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="The admin form's shape, instead of targets: {priority: hours}.",
    )
    resolution_hours: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="The admin form's shape: {priority: hours}."
    )
    business_hours_only: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="The admin form's shape: every target counts business hours.",
    )


@strawberry.input
class SlaPolicyUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET
    position: int | None = strawberry.UNSET
    schedule_id: relay.GlobalID | None = strawberry.UNSET
    department_ids: list[relay.GlobalID] | None = strawberry.UNSET
    ticket_types: list[TicketKind] | None = strawberry.UNSET
    tag_ids: list[relay.GlobalID] | None = strawberry.UNSET
    requester_is_guest: bool | None = strawberry.UNSET
    targets: list[SlaTargetInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole set of targets."
    )
    pause_statuses: list[SlaPauseInput] | None = strawberry.UNSET
    first_response_hours: JSON | None = strawberry.UNSET
    resolution_hours: JSON | None = strawberry.UNSET
    business_hours_only: bool | None = strawberry.UNSET


@strawberry.input
class SlaPolicyDeleteInput:
    id: relay.GlobalID


@strawberry.type
class SlaPolicyCreatePayload:
    sla_policy: SlaPolicyNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class SlaPolicyUpdatePayload(SlaPolicyCreatePayload):
    pass


@strawberry.type
class SlaPolicyDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


def _targets(given: list[SlaTargetInput] | None) -> list[service.TargetSpec]:
    default = escalated_settings.SLA["BUSINESS_HOURS_ONLY"]
    return [
        service.TargetSpec(
            metric=str(t.metric),
            priority=str(t.priority),
            seconds=t.minutes * 60,
            business_hours=default if t.business_hours is None else t.business_hours,
        )
        for t in given or []
    ]


def _pauses(given: list[SlaPauseInput] | None) -> dict[str, list[str]]:
    return {str(p.metric): [str(s) for s in p.statuses] for p in given or []}


def _policy_fields(info: Info, input: Any) -> dict[str, Any]:
    """The service arguments an input gives (UNSET where it says nothing)."""

    def maybe(value: Any, convert: Any) -> Any:
        return UNSET if value is strawberry.UNSET else convert(value)

    def unless_null(value: Any, convert: Any) -> Any:
        return UNSET if value is strawberry.UNSET or value is None else convert(value)

    return {
        "schedule": maybe(
            input.schedule_id,
            lambda gid: load_optional(info, gid, BusinessScheduleNode, field="schedule_id"),
        ),
        "departments": maybe(
            input.department_ids,
            lambda gids: load_many(info, gids or [], DepartmentNode, field="department_ids"),
        ),
        "tags": maybe(
            input.tag_ids, lambda gids: load_many(info, gids or [], TagNode, field="tag_ids")
        ),
        "ticket_types": maybe(input.ticket_types, lambda types: [str(t) for t in types or []]),
        "targets": unless_null(input.targets, _targets),
        "pause_statuses": maybe(input.pause_statuses, _pauses),
        "first_response_hours": _given(input.first_response_hours),
        "resolution_hours": _given(input.resolution_hours),
        "business_hours_only": unless_null(input.business_hours_only, bool),
    }


@strawberry.type
class SlaMutations:
    @strawberry.mutation(description="Create a business schedule (admins).")
    @admin_mutation_payload
    def business_schedule_create(
        self, info: Info, input: BusinessScheduleCreateInput
    ) -> BusinessScheduleCreatePayload:
        schedule = service.business_schedule_create(
            actor=viewer(info),
            name=input.name,
            timezone=input.timezone,
            intervals=_intervals(input.intervals),
            holidays=_holidays(input.holidays),
            holiday_country=input.holiday_country,
            holiday_subdivision=input.holiday_subdivision,
        )
        return BusinessScheduleCreatePayload(business_schedule=schedule)

    @strawberry.mutation(description="Edit a business schedule (admins).")
    @admin_mutation_payload
    def business_schedule_update(
        self, info: Info, input: BusinessScheduleUpdateInput
    ) -> BusinessScheduleUpdatePayload:
        schedule = service.business_schedule_update(
            actor=viewer(info),
            schedule=load(info, input.id, BusinessScheduleNode, field="id"),
            name=_given(input.name),
            timezone=_given(input.timezone),
            intervals=UNSET if input.intervals is strawberry.UNSET else _intervals(input.intervals),
            holidays=UNSET if input.holidays is strawberry.UNSET else _holidays(input.holidays),
            holiday_country=_given(input.holiday_country),
            holiday_subdivision=_given(input.holiday_subdivision),
        )
        return BusinessScheduleUpdatePayload(business_schedule=schedule)

    @strawberry.mutation(description="Delete a business schedule no policy uses (admins).")
    @admin_mutation_payload
    def business_schedule_delete(
        self, info: Info, input: BusinessScheduleDeleteInput
    ) -> BusinessScheduleDeletePayload:
        service.business_schedule_delete(
            actor=viewer(info), schedule=load(info, input.id, BusinessScheduleNode, field="id")
        )
        return BusinessScheduleDeletePayload(deleted_id=input.id)

    @strawberry.mutation(description="Create an SLA policy (admins).")
    @admin_mutation_payload
    def sla_policy_create(self, info: Info, input: SlaPolicyCreateInput) -> SlaPolicyCreatePayload:
        fields = {k: v for k, v in _policy_fields(info, input).items() if v is not UNSET}
        policy = service.sla_policy_create(
            actor=viewer(info),
            name=input.name,
            description=input.description,
            is_active=input.is_active,
            is_default=input.is_default,
            position=input.position,
            requester_is_guest=input.requester_is_guest,
            **fields,
        )
        return SlaPolicyCreatePayload(sla_policy=policy)

    @strawberry.mutation(
        description="Edit an SLA policy (admins); tickets follow at their next change."
    )
    @admin_mutation_payload
    def sla_policy_update(self, info: Info, input: SlaPolicyUpdateInput) -> SlaPolicyUpdatePayload:
        policy = service.sla_policy_update(
            actor=viewer(info),
            policy=load(info, input.id, SlaPolicyNode, field="id"),
            name=_given(input.name),
            description=_given(input.description),
            is_active=_given(input.is_active),
            is_default=_given(input.is_default),
            position=_given(input.position),
            requester_is_guest=_given(input.requester_is_guest),
            **_policy_fields(info, input),
        )
        return SlaPolicyUpdatePayload(sla_policy=policy)

    @strawberry.mutation(description="Delete an SLA policy (admins).")
    @admin_mutation_payload
    def sla_policy_delete(self, info: Info, input: SlaPolicyDeleteInput) -> SlaPolicyDeletePayload:
        service.sla_policy_delete(
            actor=viewer(info), policy=load(info, input.id, SlaPolicyNode, field="id")
        )
        return SlaPolicyDeletePayload(deleted_id=input.id)
