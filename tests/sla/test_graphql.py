"""The SLA API: Ticket.sla, admin mutations with typed errors, the preview and the filters."""

from __future__ import annotations

import json
from typing import Any

import time_machine

from escalated.models import BusinessSchedule, SlaPolicy, Ticket
from escalated.services import tickets
from tests.conftest import World, data_of, gid
from tests.sla.conftest import HOUR, make_policy, new_york_office, ny, targets

SLA = """query($id: ID!) { ticket(id: $id) { sla {
    policy { name }
    firstResponse { dueAt metAt breached breachedAt remainingSeconds isPaused targetSeconds }
    nextResponse { dueAt }
    resolution { dueAt breached remainingSeconds isPaused businessHours pausedSeconds cycle }
} } }"""

CREATE_POLICY = """mutation($input: SlaPolicyCreateInput!) { slaPolicyCreate(input: $input) {
    slaPolicy { name isDefault targets { metric priority seconds minutes businessHours }
                firstResponseHours resolutionHours businessHoursOnly
                pauseStatuses { metric statuses } ticketTypes departments { name } }
    errors { field code message }
} }"""

CREATE_SCHEDULE = """mutation($input: BusinessScheduleCreateInput!) {
  businessScheduleCreate(input: $input) {
    businessSchedule { name timezone intervals { weekday start end overnight }
                       holidays { date name yearly } holidayCountry holidaySubdivision }
    errors { field code message }
} }"""


def _sla(gql: Any, user: Any, ticket: Ticket) -> Any:
    return data_of(gql(SLA, {"id": gid(ticket)}, user=user))["ticket"]["sla"]


def _open(world: World) -> Ticket:
    return tickets.ticket_create(actor=world.customer, subject="Help", department=world.billing)


def test_ticket_sla_shows_each_clock_to_staff_and_nothing_to_customers(
    world: World, gql: Any, frozen: time_machine.Traveller
) -> None:
    make_policy(schedule=new_york_office(), targets=targets(first=1, resolution=8, business=True))
    frozen.move_to(ny(2025, 3, 7, 16, 30))  # Friday afternoon
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 8, 12))  # Saturday

    sla = _sla(gql, world.agent, ticket)

    assert sla["policy"] == {"name": "Standard"}
    assert sla["firstResponse"] == {
        "dueAt": "2025-03-10T13:30:00+00:00",  # Monday 09:30 EDT
        "metAt": None,
        "breached": False,
        "breachedAt": None,
        "remainingSeconds": 1800,  # business time: the weekend does not count
        "isPaused": False,
        "targetSeconds": HOUR,
    }
    assert sla["nextResponse"] is None
    assert sla["resolution"]["cycle"] == 1 and sla["resolution"]["businessHours"] is True
    assert _sla(gql, world.customer, ticket) is None


def test_a_breached_and_a_paused_clock_read_as_such(
    world: World, gql: Any, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1, resolution=4))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 11))
    tickets.ticket_reply(ticket=ticket, author=world.agent, body="Which printer?")
    frozen.move_to(ny(2025, 3, 3, 12))

    sla = _sla(gql, world.admin, ticket)

    assert sla["firstResponse"]["breached"] is True
    assert sla["firstResponse"]["breachedAt"] == "2025-03-03T15:00:00+00:00"
    assert sla["firstResponse"]["remainingSeconds"] is None  # met
    assert sla["resolution"] == {
        "dueAt": None,
        "breached": False,
        "remainingSeconds": 2 * HOUR,
        "isPaused": True,
        "businessHours": False,
        "pausedSeconds": HOUR,
        "cycle": 1,
    }


def test_policies_take_structured_targets_and_answer_in_both_shapes(world: World, gql: Any) -> None:
    result = gql(
        CREATE_POLICY,
        {
            "input": {
                "name": "Billing",
                "isDefault": True,
                "departmentIds": [gid(world.billing)],
                "ticketTypes": ["INCIDENT"],
                "targets": [
                    {"metric": "FIRST_RESPONSE", "priority": "HIGH", "minutes": 90},
                    {
                        "metric": "RESOLUTION",
                        "priority": "HIGH",
                        "minutes": 480,
                        "businessHours": True,
                    },
                ],
                "pauseStatuses": [{"metric": "RESOLUTION", "statuses": ["ESCALATED"]}],
            }
        },
        user=world.admin,
    )

    policy = data_of(result)["slaPolicyCreate"]["slaPolicy"]
    assert policy["targets"] == [
        {
            "metric": "FIRST_RESPONSE",
            "priority": "HIGH",
            "seconds": 5400,
            "minutes": 90.0,
            "businessHours": False,
        },
        {
            "metric": "RESOLUTION",
            "priority": "HIGH",
            "seconds": 28800,
            "minutes": 480.0,
            "businessHours": True,
        },
    ]
    assert policy["firstResponseHours"] == {"high": 1.5}
    assert policy["resolutionHours"] == {"high": 8.0}
    assert policy["businessHoursOnly"] is False
    assert policy["pauseStatuses"] == [
        {"metric": "FIRST_RESPONSE", "statuses": ["WAITING_ON_CUSTOMER"]},
        {"metric": "NEXT_RESPONSE", "statuses": ["WAITING_ON_CUSTOMER"]},
        {"metric": "RESOLUTION", "statuses": ["ESCALATED"]},
    ]
    assert policy["ticketTypes"] == ["INCIDENT"] and policy["departments"] == [{"name": "Billing"}]


def test_the_admin_form_shape_is_accepted(world: World, gql: Any) -> None:
    form = {
        "name": "From the form",
        "firstResponseHours": json.dumps(
            {"low": 24, "medium": 8, "high": "4", "urgent": 1, "critical": 0.5}
        ),
        "resolutionHours": {"low": 72, "medium": None, "high": ""},
        "businessHoursOnly": True,
    }

    policy = data_of(gql(CREATE_POLICY, {"input": form}, user=world.admin))["slaPolicyCreate"][
        "slaPolicy"
    ]

    assert policy["firstResponseHours"] == {
        "low": 24.0,
        "medium": 8.0,
        "high": 4.0,
        "urgent": 1.0,
        "critical": 0.5,
    }
    assert policy["resolutionHours"] == {"low": 72.0}
    assert policy["businessHoursOnly"] is True
    stored = SlaPolicy.objects.get()
    assert stored.targets["first_response"]["critical"] == {"seconds": 1800, "business_hours": True}

    update = """mutation($input: SlaPolicyUpdateInput!) { slaPolicyUpdate(input: $input) {
        slaPolicy { businessHoursOnly resolutionHours } errors { code } } }"""
    changed = data_of(
        gql(update, {"input": {"id": gid(stored), "businessHoursOnly": False}}, user=world.admin)
    )["slaPolicyUpdate"]["slaPolicy"]
    assert changed == {"businessHoursOnly": False, "resolutionHours": {"low": 72.0}}


def test_bad_policies_get_typed_errors_and_change_nothing(world: World, gql: Any) -> None:
    def errors(**input: Any) -> list[tuple[str, str]]:
        result = data_of(gql(CREATE_POLICY, {"input": {"name": "P", **input}}, user=world.admin))
        return [(e["field"], e["code"]) for e in result["slaPolicyCreate"]["errors"]]

    zero = [{"metric": "FIRST_RESPONSE", "priority": "LOW", "minutes": 0}]
    assert errors(targets=zero) == [("targets", "INVALID_TARGET")]
    assert errors(firstResponseHours={"asap": 2}) == [("firstResponseHours", "UNKNOWN_PRIORITY")]
    assert errors(firstResponseHours={"low": -1}) == [("firstResponseHours", "INVALID_TARGET")]
    assert errors(resolutionHours="{not json") == [("resolutionHours", "INVALID")]
    assert errors(resolutionHours={"low": "soon"}) == [("resolutionHours", "INVALID")]
    twice = [{"metric": "RESOLUTION", "priority": "LOW", "minutes": 5}] * 2
    assert errors(targets=twice) == [("targets", "DUPLICATE")]
    assert errors(targets=zero[:0], firstResponseHours={"low": 1}) == [("targets", "INVALID")]
    assert errors(name="") == [("name", "REQUIRED")]
    assert SlaPolicy.objects.count() == 0


def test_one_default_policy_at_a_time(world: World, gql: Any) -> None:
    for name in ("First", "Second"):
        gql(CREATE_POLICY, {"input": {"name": name, "isDefault": True}}, user=world.admin)

    assert list(SlaPolicy.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Second"
    ]


def test_schedules_with_overnight_intervals_and_holidays(world: World, gql: Any) -> None:
    result = gql(
        CREATE_SCHEDULE,
        {
            "input": {
                "name": "Night desk",
                "timezone": "America/New_York",
                "intervals": [
                    {"weekday": "FRIDAY", "start": "22:00", "end": "06:00"},
                    {"weekday": "MONDAY", "start": "09:00", "end": "12:00"},
                    {"weekday": "MONDAY", "start": "13:00", "end": "17:00"},
                ],
                "holidays": [
                    {"date": "2025-12-25", "name": "Christmas", "yearly": True},
                    {"date": "2025-03-05"},
                ],
                "holidayCountry": "us",
                "holidaySubdivision": "ny",
            }
        },
        user=world.admin,
    )

    schedule = data_of(result)["businessScheduleCreate"]["businessSchedule"]
    assert schedule["intervals"] == [
        {"weekday": "MONDAY", "start": "09:00:00", "end": "12:00:00", "overnight": False},
        {"weekday": "MONDAY", "start": "13:00:00", "end": "17:00:00", "overnight": False},
        {"weekday": "FRIDAY", "start": "22:00:00", "end": "06:00:00", "overnight": True},
    ]
    assert schedule["holidays"] == [
        {"date": "2025-03-05", "name": "", "yearly": False},
        {"date": "2025-12-25", "name": "Christmas", "yearly": True},
    ]
    assert (schedule["holidayCountry"], schedule["holidaySubdivision"]) == ("US", "NY")


def test_bad_schedules_get_typed_errors(world: World, gql: Any) -> None:
    def errors(**input: Any) -> list[tuple[str, str]]:
        base = {"name": "S", "intervals": [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}]}
        result = data_of(gql(CREATE_SCHEDULE, {"input": {**base, **input}}, user=world.admin))
        return [(e["field"], e["code"]) for e in result["businessScheduleCreate"]["errors"]]

    assert errors(timezone="Mars/Olympus_Mons") == [("timezone", "INVALID_TIMEZONE")]
    overlap = [
        {"weekday": "SUNDAY", "start": "22:00", "end": "06:00"},
        {"weekday": "MONDAY", "start": "05:00", "end": "09:00"},
    ]
    assert errors(intervals=overlap) == [("intervals", "OVERLAPPING_INTERVALS")]
    assert errors(intervals=[]) == [("intervals", "REQUIRED")]
    assert errors(holidayCountry="XX") == [("holidayCountry", "INVALID")]
    assert errors(holidayCountry="US", holidaySubdivision="ZZ") == [
        ("holidaySubdivision", "INVALID")
    ]
    assert BusinessSchedule.objects.count() == 0


def test_a_schedule_in_use_cannot_be_deleted(world: World, gql: Any) -> None:
    office = new_york_office()
    make_policy(schedule=office)
    delete = """mutation($input: BusinessScheduleDeleteInput!) { businessScheduleDelete(input: $input) {
        deletedId errors { field code } } }"""

    result = data_of(gql(delete, {"input": {"id": gid(office)}}, user=world.admin))

    assert result["businessScheduleDelete"]["errors"] == [{"field": "id", "code": "IN_USE"}]
    assert BusinessSchedule.objects.filter(pk=office.pk).exists()


def test_preview_shows_when_a_new_ticket_would_be_due(world: World, gql: Any) -> None:
    make_policy("Default", targets=targets(first=8))
    make_policy(
        "Billing",
        is_default=False,
        departments=[world.billing],
        schedule=new_york_office(),
        targets=targets(first=2, next_=1, resolution=16, business=True),
    )
    preview = """query($input: SlaPreviewInput!) { slaPreview(input: $input) {
        policy { name } firstResponseDueAt nextResponseDueAt resolutionDueAt } }"""
    friday = "2025-03-07T21:00:00Z"  # 16:00 in New York

    billing = data_of(
        gql(
            preview,
            {
                "input": {
                    "priority": "HIGH",
                    "departmentId": gid(world.billing),
                    "createdAt": friday,
                }
            },
            user=world.admin,
        )
    )["slaPreview"]
    other = data_of(
        gql(preview, {"input": {"priority": "HIGH", "createdAt": friday}}, user=world.admin)
    )["slaPreview"]

    assert billing == {
        "policy": {"name": "Billing"},
        "firstResponseDueAt": "2025-03-10T14:00:00+00:00",
        "nextResponseDueAt": "2025-03-07T22:00:00+00:00",
        "resolutionDueAt": "2025-03-11T20:00:00+00:00",
    }
    assert other["policy"] == {"name": "Default"}
    assert other["firstResponseDueAt"] == "2025-03-08T05:00:00+00:00"


def test_queue_filters_by_breach_and_due_time(
    world: World, gql: Any, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1, resolution=8))
    late = _open(world)
    frozen.move_to(ny(2025, 3, 3, 9, 30))
    answered_late = _open(world)
    on_time = _open(world)
    tickets.ticket_reply(ticket=on_time, author=world.agent, body="Hi")
    frozen.move_to(ny(2025, 3, 3, 10, 45))
    tickets.ticket_reply(ticket=answered_late, author=world.agent, body="Sorry")
    frozen.move_to(ny(2025, 3, 3, 11))
    query = """query($filter: TicketFilter) { tickets(filter: $filter, first: 50) {
        edges { node { subject reference } } } }"""

    def refs(**filter: Any) -> set[str]:
        data = data_of(gql(query, {"filter": filter}, user=world.admin))
        return {e["node"]["reference"] for e in data["tickets"]["edges"]}

    assert refs(slaBreached=True) == {late.reference, answered_late.reference}
    assert refs(slaBreached=False) == {on_time.reference, world.ticket.reference}
    evening = "2025-03-04T01:00:00Z"  # 20:00 in New York
    # The answered tickets wait on their customer: their resolution clocks stand still.
    assert refs(slaDueBefore=evening) == {late.reference}
    tickets.ticket_reply(ticket=on_time, author=world.customer, body="Still broken")
    assert refs(slaDueBefore="2025-03-03T15:30:00Z") == {late.reference}  # 10:30 New York
    assert refs(slaDueBefore=evening) == {late.reference, on_time.reference}
