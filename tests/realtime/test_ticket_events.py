"""ticketEvents: every change to a ticket reaches the people who may see it, and only them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from escalated import events
from escalated.models import Department
from escalated.realtime import delivery
from escalated.realtime.groups import ticket_group
from escalated.services import tickets
from escalated.services.sla_check import SLA_ACTOR
from tests.conftest import World, gid
from tests.realtime.conftest import joined, run

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

TICKET_EVENTS = """
subscription($id: ID!) {
  ticketEvents(ticketId: $id) {
    kind ticketId changedFields occurredAt
    ticket { reference status priority assignee { name } }
    reply { body isInternalNote }
    actor { name }
  }
}
"""


async def _watch(live: Any, user: Any, world: World, **kwargs: Any) -> tuple[Any, str]:
    connection = await live(user, **kwargs)
    op = await connection.subscribe(TICKET_EVENTS, {"id": gid(world.ticket)})
    return connection, op


async def test_a_reply_reaches_the_customer_and_the_agent(world: World, live: Any) -> None:
    customer, c_op = await _watch(live, world.customer, world)
    agent, a_op = await _watch(live, world.agent, world)
    await joined(ticket_group(world.ticket.pk), 2)

    await run(tickets.ticket_reply, ticket=world.ticket, author=world.agent, body="<p>Fixed!</p>")

    for connection, op in ((customer, c_op), (agent, a_op)):
        event = (await connection.next(op))["ticketEvents"]
        assert event["kind"] == "REPLY_ADDED"
        assert event["reply"] == {"body": "<p>Fixed!</p>", "isInternalNote": False}
        assert event["ticket"]["reference"] == world.ticket.reference
        assert event["ticketId"] == gid(world.ticket)
        assert event["actor"] == {"name": "Alan Agent"}


async def test_an_internal_note_never_reaches_the_customer(world: World, live: Any) -> None:
    customer, _c_op = await _watch(live, world.customer, world)
    agent, a_op = await _watch(live, world.agent, world)
    await joined(ticket_group(world.ticket.pk), 2)

    await run(tickets.ticket_note_add, ticket=world.ticket, author=world.agent, body="Secret")

    event = (await agent.next(a_op))["ticketEvents"]
    assert event["kind"] == "NOTE_ADDED"
    assert event["reply"]["isInternalNote"] is True
    await customer.nothing()


async def test_status_priority_and_assignee_changes_carry_the_changed_fields(
    world: World, live: Any
) -> None:
    customer, op = await _watch(live, world.customer, world)
    await joined(ticket_group(world.ticket.pk))

    await run(
        tickets.ticket_priority_change, ticket=world.ticket, actor=world.agent, priority="urgent"
    )
    await run(tickets.ticket_assign, ticket=world.ticket, actor=world.agent, assignee=world.agent)
    await run(tickets.ticket_resolve, ticket=world.ticket, actor=world.agent)

    priority = (await customer.next(op))["ticketEvents"]
    assert (priority["kind"], priority["changedFields"]) == ("PRIORITY_CHANGED", ["priority"])
    assigned = (await customer.next(op))["ticketEvents"]
    assert (assigned["kind"], assigned["changedFields"]) == ("ASSIGNED", ["assignee"])
    assert assigned["ticket"]["assignee"] == {"name": "Alan Agent"}
    resolved = (await customer.next(op))["ticketEvents"]
    assert (resolved["kind"], resolved["changedFields"]) == ("STATUS_CHANGED", ["status"])
    assert resolved["ticket"]["status"] == "RESOLVED"


async def test_tag_changes_reach_staff_only(world: World, live: Any) -> None:
    customer, _c_op = await _watch(live, world.customer, world)
    agent, a_op = await _watch(live, world.agent, world)
    await joined(ticket_group(world.ticket.pk), 2)

    await run(tickets.ticket_tags_add, ticket=world.ticket, actor=world.agent, tags=[world.urgent])

    assert (await agent.next(a_op))["ticketEvents"]["kind"] == "TAGS_CHANGED"
    await customer.nothing()


async def test_nobody_else_may_subscribe(world: World, live: Any) -> None:
    for person in (world.other_customer, world.outsider):
        connection, op = await _watch(live, person, world)
        assert await connection.refused(op) == "NOT_FOUND"


async def test_an_agent_who_loses_sight_of_the_ticket_stops_hearing_of_it(
    world: World, live: Any
) -> None:
    agent, _a_op = await _watch(live, world.agent, world)
    admin, admin_op = await _watch(live, world.admin, world)
    await joined(ticket_group(world.ticket.pk), 2)

    # Moved to sales, where the billing agent does not work.
    await run(
        tickets.ticket_department_change,
        ticket=world.ticket,
        actor=world.admin,
        department=world.sales,
    )
    await run(tickets.ticket_reply, ticket=world.ticket, author=world.admin, body="Moved")

    assert (await admin.next(admin_op))["ticketEvents"]["kind"] == "DEPARTMENT_CHANGED"
    assert (await admin.next(admin_op))["ticketEvents"]["kind"] == "REPLY_ADDED"
    await agent.nothing()


async def test_a_note_on_another_customers_ticket_reaches_no_one_else(
    world: World, live: Any
) -> None:
    other_ticket = await run(
        tickets.ticket_create,
        actor=world.other_customer,
        subject="Mine",
        department=await run(Department.objects.get, slug="billing"),
    )
    customer, _op = await _watch(live, world.customer, world)
    await joined(ticket_group(world.ticket.pk))

    await run(tickets.ticket_reply, ticket=other_ticket, author=world.agent, body="For Otto")

    await customer.nothing()


def _announce_sla(ticket: Any) -> None:
    """What check_sla records when a clock runs low and when it runs out."""
    due = timezone.now()
    with transaction.atomic():
        events.record(
            events.SlaWarning(
                ticket=ticket,
                actor=SLA_ACTOR,
                metric="first_response",
                due_at=due,
                remaining=timedelta(minutes=5),
            )
        )
        events.record(
            events.SlaBreached(ticket=ticket, actor=SLA_ACTOR, metric="first_response", due_at=due)
        )


async def test_sla_warnings_and_breaches_reach_staff_only(world: World, live: Any) -> None:
    customer, c_op = await _watch(live, world.customer, world)
    agent, a_op = await _watch(live, world.agent, world)
    await joined(ticket_group(world.ticket.pk), 2)

    await run(_announce_sla, ticket=world.ticket)
    await run(tickets.ticket_reply, ticket=world.ticket, author=world.agent, body="On it")

    kinds = [(await agent.next(a_op))["ticketEvents"]["kind"] for _ in range(3)]
    assert kinds == ["SLA_WARNING", "SLA_BREACHED", "REPLY_ADDED"]
    # The customer hears of the reply, and of nothing before it.
    assert (await customer.next(c_op))["ticketEvents"]["kind"] == "REPLY_ADDED"
    await customer.nothing()


async def test_customers_hear_only_of_what_their_ticket_page_shows() -> None:
    # An allow-list: a verb nobody placed here stays with staff.
    staff_only = {"note_added", "tags_changed", "sla_breached", "sla_warning", "notified"}
    assert not staff_only & delivery.CUSTOMER_VERBS
    assert "guest_link_rotated" not in delivery.CUSTOMER_VERBS
