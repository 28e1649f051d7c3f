"""Presence: agents see each other on a ticket before they both answer; entries lapse on their
own when a client vanishes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from escalated.models import TicketPresence
from escalated.realtime.groups import presence_group
from escalated.services.presence import ticket_presence_set
from tests.conftest import GraphQL, World, data_of, gid
from tests.realtime.conftest import joined, run

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PRESENCE = """
mutation($input: TicketPresenceInput!) {
  ticketPresence(input: $input) { viewers { user { name } state expiresAt } errors { code } }
}
"""
VIEWERS = "subscription($id: ID!) { ticketViewers(ticketId: $id) { user { name } state } }"


async def _say(gql: GraphQL, user: Any, world: World, state: str) -> dict[str, Any]:
    variables = {"input": {"ticketId": gid(world.ticket), "state": state}}
    result = await database_sync_to_async(gql)(PRESENCE, variables, user=user)
    return data_of(result)["ticketPresence"]


async def test_two_agents_see_each_other(world: World, gql: GraphQL, live: Any) -> None:
    watcher = await live(world.agent)
    op = await watcher.subscribe(VIEWERS, {"id": gid(world.ticket)})
    assert (await watcher.next(op))["ticketViewers"] == []
    await joined(presence_group(world.ticket.pk))

    answer = await _say(gql, world.admin, world, "VIEWING")
    assert [v["user"]["name"] for v in answer["viewers"]] == ["Ada Admin"]
    assert (await watcher.next(op))["ticketViewers"] == [
        {"user": {"name": "Ada Admin"}, "state": "VIEWING"}
    ]

    await _say(gql, world.agent, world, "TYPING")
    assert (await watcher.next(op))["ticketViewers"] == [
        {"user": {"name": "Ada Admin"}, "state": "VIEWING"},
        {"user": {"name": "Alan Agent"}, "state": "TYPING"},
    ]

    await _say(gql, world.admin, world, "LEFT")
    assert (await watcher.next(op))["ticketViewers"] == [
        {"user": {"name": "Alan Agent"}, "state": "TYPING"}
    ]


async def test_renewing_the_same_state_tells_nobody(world: World, gql: GraphQL, live: Any) -> None:
    watcher = await live(world.agent)
    op = await watcher.subscribe(VIEWERS, {"id": gid(world.ticket)})
    await watcher.next(op)
    await joined(presence_group(world.ticket.pk))
    await _say(gql, world.admin, world, "VIEWING")
    await watcher.next(op)

    await _say(gql, world.admin, world, "VIEWING")

    await watcher.nothing()


async def test_an_entry_lapses_when_its_client_vanishes(
    world: World, live: Any, settings: Any
) -> None:
    settings.ESCALATED = {"PRESENCE_TTL_SECONDS": 1}
    watcher = await live(world.agent)
    op = await watcher.subscribe(VIEWERS, {"id": gid(world.ticket)})
    await watcher.next(op)
    await joined(presence_group(world.ticket.pk))

    await run(ticket_presence_set, ticket=world.ticket, actor=world.admin, state="typing")
    assert (await watcher.next(op))["ticketViewers"] == [
        {"user": {"name": "Ada Admin"}, "state": "TYPING"}
    ]

    # Nobody says anything more: the entry lapses on its own, and the watcher hears of it.
    lapsed = await watcher.next(op, timeout=3)
    assert lapsed["ticketViewers"] == []


async def test_a_lapsed_entry_is_not_listed_and_is_cleared(world: World, settings: Any) -> None:
    settings.ESCALATED = {"PRESENCE_TTL_SECONDS": 1}
    await run(ticket_presence_set, ticket=world.ticket, actor=world.admin, state="viewing")
    await asyncio.sleep(1.05)

    viewers = await run(
        ticket_presence_set, ticket=world.ticket, actor=world.agent, state="viewing"
    )

    assert [row.user_id for row in viewers] == [world.agent.pk]
    assert await run(TicketPresence.objects.count) == 1


async def test_a_customer_may_not_watch_presence(world: World, live: Any) -> None:
    customer = await live(world.customer)
    op = await customer.subscribe(VIEWERS, {"id": gid(world.ticket)})

    assert await customer.refused(op) == "FORBIDDEN"
