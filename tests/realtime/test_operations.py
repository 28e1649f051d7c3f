"""Queries and mutations over the websocket (graphql-transport-ws allows them, GraphiQL sends
them there) work exactly as over HTTP: same answers, same permissions, and a mutation over a
socket signed in by session cookie needs a page of this site, as Django's CSRF check does."""

from __future__ import annotations

from typing import Any

import pytest

from escalated.models import Ticket
from tests.conftest import World, gid
from tests.realtime.conftest import Live, bearer, communicator, connect, run

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

VIEWER = "{ viewer { role user { name } guest { name } } }"
CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
    ticket { subject requester { name } } errors { field code } } }"""
TICKET = "query($id: ID!) { ticket(id: $id) { subject replies(first: 10) { totalCount } } }"


async def _answer(connection: Live, query: str, variables: dict[str, Any] | None = None) -> Any:
    op = await connection.subscribe(query, variables)
    message = await connection.receive(op)
    assert message["type"] == "next", message
    assert (await connection.receive(op))["type"] == "complete"
    return message["payload"]


async def test_a_guest_runs_a_query_over_the_socket(world: World) -> None:
    headers = await run(world.guest_headers)
    token = headers["X-Escalated-Guest-Token"]
    connection = Live(communicator(params={"guestToken": token}))
    await connection.communicator.gql_init()

    payload = await _answer(connection, VIEWER)

    assert payload == {
        "data": {"viewer": {"role": "GUEST", "user": None, "guest": {"name": "Gus Guest"}}}
    }
    await connection.close()


async def test_a_session_user_runs_a_mutation_over_the_socket(world: World) -> None:
    connection = await connect(world.customer, origin="http://testserver")

    payload = await _answer(connection, CREATE, {"input": {"subject": "Over the socket"}})

    assert payload["data"]["ticketCreate"] == {
        "ticket": {"subject": "Over the socket", "requester": {"name": "Cora Customer"}},
        "errors": [],
    }
    assert await run(Ticket.objects.filter(subject="Over the socket").count) == 1
    await connection.close()


async def test_permissions_are_the_same_as_over_http(world: World) -> None:
    connection = await connect(world.other_customer)

    payload = await _answer(connection, TICKET, {"id": gid(world.ticket)})
    assert payload == {"data": {"ticket": None}}  # not theirs: not found, as over HTTP

    mine = await connect(world.customer)
    payload = await _answer(mine, TICKET, {"id": gid(world.ticket)})
    assert payload["data"]["ticket"]["replies"]["totalCount"] == 1  # the note stays hidden
    await connection.close()
    await mine.close()


async def test_a_read_only_token_cannot_mutate_over_the_socket(world: World) -> None:
    token = await run(bearer, user=world.customer, scopes=("read",))
    connection = await connect(token=token)

    payload = await _answer(connection, CREATE, {"input": {"subject": "Nope"}})

    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not await run(Ticket.objects.filter(subject="Nope").exists)
    await connection.close()


async def test_a_page_of_another_site_cannot_mutate_with_the_session(
    world: World, settings: Any
) -> None:
    settings.ESCALATED = {"WEBSOCKET_ALLOWED_ORIGINS": ["https://app.example"]}
    connection = await connect(world.customer, origin="https://app.example")

    refused = await _answer(connection, CREATE, {"input": {"subject": "Forged"}})
    allowed = await _answer(connection, VIEWER)

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not await run(Ticket.objects.filter(subject="Forged").exists)
    assert allowed["data"]["viewer"]["role"] == "CUSTOMER"  # reading stays allowed
    await connection.close()


async def test_a_trusted_origin_or_a_token_may_mutate_from_another_site(
    world: World, settings: Any
) -> None:
    settings.ESCALATED = {"WEBSOCKET_ALLOWED_ORIGINS": ["https://app.example"]}
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example"]
    by_session = await connect(world.customer, origin="https://app.example")
    settings.CSRF_TRUSTED_ORIGINS = []
    token = await run(bearer, user=world.customer)
    by_token = await connect(token=token, origin="https://app.example")

    for connection, subject in ((by_session, "Trusted"), (by_token, "Token")):
        payload = await _answer(connection, CREATE, {"input": {"subject": subject}})
        assert payload["data"]["ticketCreate"]["errors"] == [], payload
        await connection.close()
