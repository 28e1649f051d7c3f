"""One execution of an event for every subscriber it reads the same for, and never across a
difference: a field that looks at the viewer is executed for each subscriber on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import escalated.graphql
from escalated.realtime.groups import ticket_group
from escalated.services import tickets
from tests.conftest import World, gid
from tests.realtime.conftest import joined, run

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The subscription events graphql-core actually executed (shared ones are not)."""
    seen: list[Any] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_operation

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.operation.operation is OperationType.SUBSCRIPTION:
            seen.append(self.root_value)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", counted)
    return seen


async def _watching(live: Any, world: World, query: str, *people: Any) -> list[tuple[Any, str]]:
    watching = []
    for person in people:
        connection = await live(person)
        watching.append((connection, await connection.subscribe(query, {"id": gid(world.ticket)})))
    await joined(ticket_group(world.ticket.pk), len(people))
    return watching


async def _change_priority(world: World, actor: Any, priority: str) -> None:
    await run(tickets.ticket_priority_change, ticket=world.ticket, actor=actor, priority=priority)


async def _next_of_each(watching: list[tuple[Any, str]]) -> list[dict[str, Any]]:
    return [(await connection.next(op))["ticketEvents"] for connection, op in watching]


async def test_subscribers_reading_the_same_share_one_execution(
    world: World, live: Any, executions: list[Any]
) -> None:
    query = "subscription($id: ID!) { ticketEvents(ticketId: $id) { kind ticket { priority } } }"
    watching = await _watching(live, world, query, world.agent, world.admin, world.customer)

    await _change_priority(world, world.agent, "high")

    expected = {"kind": "PRIORITY_CHANGED", "ticket": {"priority": "HIGH"}}
    assert await _next_of_each(watching) == [expected] * 3
    assert len(executions) == 1


async def test_a_field_that_looks_at_the_viewer_is_executed_for_each(
    world: World, live: Any, executions: list[Any]
) -> None:
    await run(tickets.ticket_tags_add, ticket=world.ticket, actor=world.agent, tags=[world.urgent])
    query = """subscription($id: ID!) {
      ticketEvents(ticketId: $id) { ticket { tags { name } requester { email } } }
    }"""
    agent, customer = await _watching(live, world, query, world.agent, world.customer)

    await _change_priority(world, world.agent, "high")

    seen_by_agent, seen_by_customer = await _next_of_each([agent, customer])
    assert seen_by_agent["ticket"]["tags"] == [{"name": world.urgent.name}]
    assert seen_by_customer["ticket"]["tags"] == []
    assert len(executions) == 2


async def test_who_made_the_change_is_decided_for_each_subscriber(
    world: World, live: Any, executions: list[Any]
) -> None:
    query = "subscription($id: ID!) { ticketEvents(ticketId: $id) { actor { name } } }"
    watching = await _watching(live, world, query, world.admin, world.agent, world.customer)

    # The agent wrote the ticket's public reply: the admin and the agent (themselves) know that
    # in memory and share one execution; the customer's answer comes from the database.
    await _change_priority(world, world.agent, "high")
    assert await _next_of_each(watching) == [{"actor": {"name": "Alan Agent"}}] * 3
    assert len(executions) == 2

    # The admin is in no department and never wrote on the ticket: only admins may see them.
    executions.clear()
    await _change_priority(world, world.admin, "low")
    assert await _next_of_each(watching) == [
        {"actor": {"name": "Ada Admin"}},
        {"actor": None},
        {"actor": None},
    ]
    assert len(executions) == 3


async def test_types_a_payload_reaches_learn_the_viewer_only_through_viewer() -> None:
    # Sharing rests on this: a field that reads the request without viewer() would be shared.
    # Root queries and mutations (queries.py, delivery.py, inbound.py, mutations/) never run
    # inside an event.
    package = Path(escalated.graphql.__file__).parent
    allowed = {"context.py", "queries.py", "delivery.py", "inbound.py", "subscriptions.py"}
    offenders = [
        path.relative_to(package).as_posix()
        for path in package.glob("*.py")
        if path.name not in allowed and "info.context" in path.read_text()
    ]
    assert offenders == []


async def test_once_an_execution_asks_for_the_viewer_the_others_do_not_wait_for_it(
    world: World, live: Any, executions: list[Any]
) -> None:
    query = "subscription($id: ID!) { ticketEvents(ticketId: $id) { ticket { tags { name } } } }"
    watching = await _watching(live, world, query, world.agent, world.admin, world.customer)

    await _change_priority(world, world.agent, "high")
    await _next_of_each(watching)

    assert len(executions) == 3
    [shared] = executions[0].execution_memo().values()
    # The first was offered, withdrawn when it asked; the other two ran their own at once.
    assert shared.offers == []
    assert shared.personal == [{}]
