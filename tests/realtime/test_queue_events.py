"""queueEvents: a filtered queue hears of tickets entering it, changing within it and leaving
it, decided by the same FilterSet as the `tickets` query and the subscriber's own access."""

from __future__ import annotations

from typing import Any

import pytest

from escalated.realtime.groups import QUEUE_GROUP, agent_group
from escalated.services import tickets
from tests.conftest import World, gid
from tests.realtime.conftest import joined, run

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

QUEUE = """
subscription($filter: TicketFilter) {
  queueEvents(filter: $filter) { change kind ticketId changedFields ticket { subject priority } }
}
"""
URGENT = {"priority": ["URGENT"]}


async def _queue(live: Any, user: Any, filter: Any = URGENT, members: int = 1) -> tuple[Any, str]:
    connection = await live(user)
    op = await connection.subscribe(QUEUE, {"filter": filter})
    await joined(QUEUE_GROUP, members)
    return connection, op


async def test_a_ticket_enters_changes_within_and_leaves_the_queue(world: World, live: Any) -> None:
    agent, op = await _queue(live, world.agent)

    await run(
        tickets.ticket_priority_change, ticket=world.ticket, actor=world.agent, priority="urgent"
    )
    entered = (await agent.next(op))["queueEvents"]
    await run(tickets.ticket_reply, ticket=world.ticket, author=world.customer, body="Hurry")
    changed = (await agent.next(op))["queueEvents"]
    await run(
        tickets.ticket_priority_change, ticket=world.ticket, actor=world.agent, priority="low"
    )
    left = (await agent.next(op))["queueEvents"]

    assert entered["change"] == "ENTERED"
    assert entered["kind"] == "PRIORITY_CHANGED"
    assert entered["ticket"] == {"subject": "Invoice is wrong", "priority": "URGENT"}
    assert (changed["change"], changed["kind"]) == ("CHANGED", "REPLY_ADDED")
    assert (left["change"], left["ticketId"]) == ("LEFT", gid(world.ticket))
    assert left["ticket"] == {"subject": "Invoice is wrong", "priority": "LOW"}


async def test_changes_outside_the_queue_are_not_sent(world: World, live: Any) -> None:
    agent, _op = await _queue(live, world.agent)

    await run(
        tickets.ticket_priority_change, ticket=world.ticket, actor=world.agent, priority="high"
    )

    await agent.nothing()


async def test_a_ticket_in_the_queue_at_subscribe_time_can_leave_it(
    world: World, live: Any
) -> None:
    agent, op = await _queue(live, world.agent, filter={"status": ["WAITING_ON_CUSTOMER"]})

    await run(tickets.ticket_reply, ticket=world.ticket, author=world.customer, body="Answer")

    left = (await agent.next(op))["queueEvents"]
    assert (left["change"], left["kind"]) == ("LEFT", "REPLY_ADDED")


async def test_a_ticket_moved_out_of_reach_leaves_without_showing_itself(
    world: World, live: Any
) -> None:
    agent, op = await _queue(live, world.agent, filter=None)
    outsider, o_op = await _queue(live, world.outsider, filter=None, members=2)

    await run(
        tickets.ticket_department_change,
        ticket=world.ticket,
        actor=world.admin,
        department=world.sales,
    )

    left = (await agent.next(op))["queueEvents"]
    assert (left["change"], left["ticket"]) == ("LEFT", None)
    entered = (await outsider.next(o_op))["queueEvents"]
    assert (entered["change"], entered["ticket"]["subject"]) == ("ENTERED", "Invoice is wrong")
    await run(tickets.ticket_reply, ticket=world.ticket, author=world.admin, body="Sales now")
    assert (await outsider.next(o_op))["queueEvents"]["change"] == "CHANGED"
    await agent.nothing()


async def test_agents_outside_the_department_hear_nothing(world: World, live: Any) -> None:
    agent, op = await _queue(live, world.agent, filter=None)
    outsider, _ = await _queue(live, world.outsider, filter=None, members=2)

    await run(tickets.ticket_note_add, ticket=world.ticket, author=world.agent, body="Internal")

    assert (await agent.next(op))["queueEvents"]["kind"] == "NOTE_ADDED"
    await outsider.nothing()


async def test_the_queue_filter_is_the_tickets_querys_filter(world: World, live: Any) -> None:
    """`search` looks inside replies, as in the `tickets` query."""
    agent, op = await _queue(live, world.agent, filter={"search": "chargeback"})

    await run(
        tickets.ticket_reply,
        ticket=world.ticket,
        author=world.customer,
        body="Is this a chargeback?",
    )

    entered = (await agent.next(op))["queueEvents"]
    assert (entered["change"], entered["kind"]) == ("ENTERED", "REPLY_ADDED")


async def test_a_bad_filter_is_refused(world: World, live: Any) -> None:
    connection = await live(world.agent)
    op = await connection.subscribe(QUEUE, {"filter": {"department": gid(world.agent)}})

    message = await connection.receive(op)

    assert "must be a Department id" in message["payload"]["errors"][0]["message"]


async def test_someone_elses_follow_is_not_news(world: World, live: Any) -> None:
    agent, _ = await _queue(live, world.agent, filter=None)
    admin, a_op = await _queue(live, world.admin, filter={"following": True}, members=2)

    await run(tickets.ticket_follow, ticket=world.ticket, actor=world.admin)

    assert (await admin.next(a_op))["queueEvents"]["change"] == "ENTERED"
    await agent.nothing()


MINE = "subscription { myAssignments { change ticketId ticket { subject } } }"


async def test_my_assignments_tell_an_agent_what_they_were_given_and_lost(
    world: World, live: Any
) -> None:
    agent = await live(world.agent)
    op = await agent.subscribe(MINE)
    await joined(agent_group(world.agent.pk))

    await run(tickets.ticket_assign, ticket=world.ticket, actor=world.admin, assignee=world.agent)
    given = (await agent.next(op))["myAssignments"]
    await run(tickets.ticket_assign, ticket=world.ticket, actor=world.admin, assignee=world.admin)

    assert given == {
        "change": "ASSIGNED",
        "ticketId": gid(world.ticket),
        "ticket": {"subject": "Invoice is wrong"},
    }
    assert (await agent.next(op))["myAssignments"]["change"] == "UNASSIGNED"


async def test_a_ticket_taken_away_out_of_reach_is_named_but_not_shown(
    world: World, live: Any
) -> None:
    outsider = await live(world.outsider)
    op = await outsider.subscribe(MINE)
    await joined(agent_group(world.outsider.pk))
    ticket, admin = world.ticket, world.admin
    await run(tickets.ticket_department_change, ticket=ticket, actor=admin, department=world.sales)
    await run(tickets.ticket_assign, ticket=ticket, actor=admin, assignee=world.outsider)
    assert (await outsider.next(op))["myAssignments"]["ticket"] == {"subject": "Invoice is wrong"}
    # Back to billing: the outsider (sales) still sees it only because it is theirs.
    await run(
        tickets.ticket_department_change, ticket=ticket, actor=admin, department=world.billing
    )

    await run(tickets.ticket_assign, ticket=ticket, actor=admin, assignee=world.agent)

    taken = (await outsider.next(op))["myAssignments"]
    assert taken == {"change": "UNASSIGNED", "ticketId": gid(ticket), "ticket": None}
