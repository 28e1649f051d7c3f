"""The clocks on a ticket: started, met, paused, resumed, restarted and retargeted by what
happens to the ticket, always as its history says (time frozen with time-machine)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import time_machine
from django.test import override_settings

from escalated.models import Metric, SlaClock, Status, TicketType
from escalated.services import tickets
from escalated.services.sla import ticket_policy, ticket_sla_recompute
from tests.conftest import World
from tests.sla.conftest import HOUR, clocks, make_policy, new_york_office, ny, targets

FIRST, NEXT, RESOLUTION = Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION


def _open(world: World, **extra: Any) -> Any:
    return tickets.ticket_create(
        actor=world.customer, subject="Printer on fire", department=world.billing, **extra
    )


def test_a_new_ticket_gets_a_clock_per_metric_its_policy_sets(
    world: World, frozen: time_machine.Traveller
) -> None:
    policy = make_policy(targets=targets(first=2, resolution=24))

    ticket = _open(world)

    found = clocks(ticket)
    assert set(found) == {FIRST, RESOLUTION}  # next response waits for a follow-up message
    first = found[FIRST]
    assert (first.policy, first.started_at, first.due_at) == (
        policy,
        ny(2025, 3, 3, 9),
        ny(2025, 3, 3, 11),
    )
    assert (first.met_at, first.breached_at, first.is_paused) == (None, None, False)
    assert found[RESOLUTION].due_at == ny(2025, 3, 4, 9)


def test_no_policy_no_clocks_and_disabled_sla_computes_nothing(
    world: World, frozen: time_machine.Traveller
) -> None:
    assert clocks(_open(world)) == {}

    make_policy(targets=targets(first=2))
    with override_settings(ESCALATED={"SLA": {"ENABLED": False}}):
        assert clocks(_open(world)) == {}


def test_business_hours_in_new_york_across_the_march_dst_change(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(schedule=new_york_office(), targets=targets(first=4, business=True))
    frozen.move_to(ny(2025, 3, 7, 15))  # Friday 15:00 EST; clocks spring forward on Sunday

    ticket = _open(world)

    due = clocks(ticket)[FIRST].due_at
    assert due == ny(2025, 3, 10, 11)  # two hours on Friday, two on Monday (EDT)
    assert due is not None and due.astimezone(ny(2025, 3, 10).tzinfo).utcoffset() == timedelta(
        hours=-4
    )


def test_a_holiday_in_the_middle_of_a_target(world: World, frozen: time_machine.Traveller) -> None:
    office = new_york_office(holidays=[{"date": "2025-03-05", "name": "Office closed"}])
    make_policy(schedule=office, targets=targets(resolution=16, business=True))
    frozen.move_to(ny(2025, 3, 4, 13))  # Tuesday

    ticket = _open(world)

    # Four hours on Tuesday, none on Wednesday, eight on Thursday, four on Friday.
    assert clocks(ticket)[RESOLUTION].due_at == ny(2025, 3, 7, 13)


def test_the_default_schedule_comes_from_the_settings(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=3, business=True))
    hours = {
        "START": "08:00",
        "END": "10:00",
        "TIMEZONE": "America/New_York",
        "HOLIDAYS": ["03-04"],
    }
    with override_settings(ESCALATED={"SLA": {"BUSINESS_HOURS": hours}}):
        ticket = _open(world)  # Monday 09:00: one hour today, Tuesday is off, two on Wednesday

    assert clocks(ticket)[FIRST].due_at == ny(2025, 3, 5, 10)


def test_first_response_is_met_by_the_first_public_agent_reply_only(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=2))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 9, 10))
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="Any news?")
    tickets.ticket_note_add(ticket=ticket, author=world.agent, body="Looking")
    assert clocks(ticket)[FIRST].met_at is None

    frozen.move_to(ny(2025, 3, 3, 9, 30))
    tickets.ticket_reply(ticket=ticket, author=world.agent, body="On it")

    first = clocks(ticket)[FIRST]
    assert first.met_at == ny(2025, 3, 3, 9, 30)
    assert first.breached_at is None
    assert (first.active_seconds, first.remaining_seconds) == (1800, 5400)


def test_pause_and_resume_keep_the_time_left(world: World, frozen: time_machine.Traveller) -> None:
    make_policy(targets=targets(first=1, resolution=8))
    ticket = _open(world)

    frozen.move_to(ny(2025, 3, 3, 10))  # the answer asks the customer something: paused
    tickets.ticket_reply(ticket=ticket, author=world.agent, body="Which model?")
    paused = clocks(ticket)[RESOLUTION]
    assert paused.is_paused and paused.due_at is None
    assert paused.remaining_seconds == 7 * HOUR

    frozen.move_to(ny(2025, 3, 3, 13))  # three hours later the customer answers: running again
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="The X200")

    resumed = clocks(ticket)[RESOLUTION]
    assert not resumed.is_paused and resumed.remaining_seconds is None
    assert resumed.due_at == ny(2025, 3, 3, 20)  # 09:00 + 8 h + 3 h paused
    assert (resumed.paused_seconds, resumed.active_seconds) == (3 * HOUR, HOUR)


def test_pausing_statuses_are_chosen_per_metric(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(
        targets=targets(first=4, resolution=8),
        pause_statuses={RESOLUTION: [Status.WAITING_ON_CUSTOMER, Status.ESCALATED]},
    )
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 10))
    tickets.ticket_escalate(ticket=ticket, actor=world.agent)

    found = clocks(ticket)
    assert found[RESOLUTION].is_paused
    assert not found[FIRST].is_paused  # first response pauses only in the default statuses


def test_next_response_starts_at_each_waiting_customer_message(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1, next_=2))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 9, 30))
    tickets.ticket_reply(ticket=ticket, author=world.agent, body="Hello")
    assert NEXT not in clocks(ticket)

    frozen.move_to(ny(2025, 3, 3, 10))
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="Still broken")
    frozen.move_to(ny(2025, 3, 3, 10, 30))
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="Hello??")
    waiting = clocks(ticket)[NEXT]
    assert (waiting.cycle, waiting.started_at, waiting.due_at) == (
        1,
        ny(2025, 3, 3, 10),
        ny(2025, 3, 3, 12),
    )

    frozen.move_to(ny(2025, 3, 3, 11))
    tickets.ticket_reply(ticket=ticket, author=world.agent, body="Fixed")
    frozen.move_to(ny(2025, 3, 3, 15))
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="Broken again")

    every = clocks(ticket, current=False)
    assert every[f"{NEXT}#1"].met_at == ny(2025, 3, 3, 11)
    assert not every[f"{NEXT}#1"].is_current
    assert every[f"{NEXT}#2"].is_current
    assert every[f"{NEXT}#2"].due_at == ny(2025, 3, 3, 17)


def test_a_priority_change_mid_clock_retargets_from_the_start(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(
        targets={
            FIRST: {
                "medium": {"seconds": 8 * HOUR, "business_hours": False},
                "urgent": {"seconds": HOUR // 2, "business_hours": False},
            }
        }
    )
    ticket = _open(world)
    assert clocks(ticket)[FIRST].due_at == ny(2025, 3, 3, 17)

    frozen.move_to(ny(2025, 3, 3, 10))
    tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="urgent")

    first = clocks(ticket)[FIRST]
    assert first.due_at == ny(2025, 3, 3, 9, 30)  # already overdue: check_sla will announce it
    assert first.target_seconds == HOUR // 2 and first.breached_at is None


def test_resolving_meets_resolution_and_a_reopen_starts_a_new_cycle(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1, resolution=4))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 9, 30))
    tickets.ticket_resolve(ticket=ticket, actor=world.agent)
    resolved = clocks(ticket)
    assert resolved[RESOLUTION].met_at == ny(2025, 3, 3, 9, 30)
    assert resolved[FIRST].is_paused  # never answered; stands still while resolved

    frozen.move_to(ny(2025, 3, 4, 9))
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="Not fixed")  # reopens

    every = clocks(ticket, current=False)
    assert not every[f"{RESOLUTION}#1"].is_current
    second = every[f"{RESOLUTION}#2"]
    assert (second.is_current, second.started_at, second.due_at) == (
        True,
        ny(2025, 3, 4, 9),
        ny(2025, 3, 4, 13),
    )
    assert every[f"{FIRST}#1"].due_at == ny(2025, 3, 4, 9, 30)  # resumed with its half hour


def test_a_late_answer_records_the_breach(world: World, frozen: time_machine.Traveller) -> None:
    make_policy(targets=targets(first=1))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 11))

    tickets.ticket_reply(ticket=ticket, author=world.agent, body="Sorry for the wait")

    first = clocks(ticket)[FIRST]
    assert first.breached_at == ny(2025, 3, 3, 10)
    assert first.remaining_seconds == -HOUR


def test_policy_conditions_in_order_then_the_default(
    world: World, frozen: time_machine.Traveller
) -> None:
    default = make_policy("Default", targets=targets(first=8))
    incidents = make_policy(
        "Incidents",
        is_default=False,
        position=1,
        ticket_types=[TicketType.INCIDENT],
        targets=targets(first=1),
    )
    billing = make_policy(
        "Billing",
        is_default=False,
        position=2,
        departments=[world.billing],
        targets=targets(first=2),
    )
    tagged = make_policy(
        "Urgent tag", is_default=False, position=0, tags=[world.urgent], targets=targets(first=3)
    )
    guests = make_policy(
        "Guests", is_default=False, position=3, requester_is_guest=True, targets=targets(first=4)
    )

    ticket = _open(world, ticket_type=TicketType.INCIDENT)
    assert clocks(ticket)[FIRST].policy == incidents

    tickets.ticket_update(ticket=ticket, actor=world.agent, ticket_type=TicketType.QUESTION)
    assert clocks(ticket)[FIRST].policy == billing

    tickets.ticket_tags_add(ticket=ticket, actor=world.agent, tags=[world.urgent])
    assert clocks(ticket)[FIRST].policy == tagged
    tickets.ticket_tags_remove(ticket=ticket, actor=world.agent, tags=[world.urgent])

    tickets.ticket_department_change(ticket=ticket, actor=world.agent, department=world.sales)
    assert clocks(ticket)[FIRST].policy == default

    ticket.refresh_from_db()
    ticket.requester = None  # a ticket from someone without an account
    assert ticket_policy(ticket) == guests

    with override_settings(ESCALATED={"SLA": {"TARGETED": True}}):
        ticket.requester = world.customer
        assert ticket_policy(ticket) is None  # targeted: the default does not apply


def test_inactive_policies_and_priorities_without_a_target_give_no_clock(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1, priorities=("urgent",)))
    make_policy("Off", is_default=False, is_active=False, targets=targets(first=9))
    ticket = _open(world)
    assert clocks(ticket) == {}

    tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="urgent")
    assert set(clocks(ticket)) == {FIRST}
    tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="low")
    assert clocks(ticket) == {}


def test_recomputing_is_deterministic(world: World, frozen: time_machine.Traveller) -> None:
    make_policy(targets=targets(first=1, next_=2, resolution=8))
    ticket = _open(world)
    for hour, author in ((10, world.agent), (11, world.customer), (12, world.agent)):
        frozen.move_to(ny(2025, 3, 3, hour))
        tickets.ticket_reply(ticket=ticket, author=author, body="...")
    fields = [
        "metric",
        "cycle",
        "due_at",
        "met_at",
        "breached_at",
        "paused_seconds",
        "active_seconds",
    ]
    before = list(SlaClock.objects.order_by("metric", "cycle").values(*fields))

    ticket.refresh_from_db()
    ticket_sla_recompute(ticket=ticket)
    SlaClock.objects.all().delete()
    ticket_sla_recompute(ticket=ticket)

    assert list(SlaClock.objects.order_by("metric", "cycle").values(*fields)) == before


def test_a_bulk_update_moves_the_clocks_too(world: World, frozen: time_machine.Traveller) -> None:
    make_policy(targets=targets(resolution=4))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 10))

    [result] = tickets.tickets_bulk_update(
        tickets=[ticket],
        actor=world.agent,
        changes=tickets.BulkChanges(status=Status.WAITING_ON_CUSTOMER, priority="high"),
    )

    assert result.ok
    assert clocks(ticket)[RESOLUTION].is_paused
    assert clocks(ticket)[RESOLUTION].remaining_seconds == 3 * HOUR


def test_country_holidays_from_the_holidays_package(
    world: World, frozen: time_machine.Traveller
) -> None:
    office = new_york_office(holiday_country="US", holiday_subdivision="NY")
    make_policy(schedule=office, targets=targets(first=2, business=True))
    frozen.move_to(ny(2025, 7, 3, 16))  # Thursday; Friday is Independence Day

    ticket = _open(world)

    assert date(2025, 7, 4).isoweekday() == 5
    assert clocks(ticket)[FIRST].due_at == ny(2025, 7, 7, 10)
