"""The same, end to end: a real uvicorn process serving the project's asgi.py, real websocket
clients and HTTP mutations on loopback; and two processes sharing one Redis channel layer."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from tests.realtime.servers import Socket, graphql_post, server, socket_url, world_database

pytestmark = pytest.mark.asyncio

EVENTS = """
subscription($id: ID!) { ticketEvents(ticketId: $id) { kind ticket { priority } reply { body } } }
"""
PRIORITY = """
mutation($input: TicketPriorityChangeInput!) { ticketPriorityChange(input: $input) { errors { code } } }
"""
REPLY = "mutation($input: TicketReplyInput!) { ticketReply(input: $input) { errors { code } } }"
NOTE = "mutation($input: TicketNoteAddInput!) { ticketNoteAdd(input: $input) { errors { code } } }"
PROTOCOL = ["graphql-transport-ws"]


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("live") / "world.sqlite3"
    return path, world_database(path)


async def _subscribe(address: str, world: dict[str, Any], person: str) -> tuple[Any, Socket]:
    # Two processes starting at once on a loaded 2-core machine take more than the default 10 s.
    connection = await connect(socket_url(address), subprotocols=PROTOCOL, open_timeout=60)
    client = Socket(connection)
    ack = await client.init({"authorization": f"Bearer {world['tokens'][person]}"})
    assert ack == {"type": "connection_ack"}
    await client.subscribe("1", EVENTS, {"id": world["ticket"]})
    return connection, client


async def _settled(address: str, world: dict[str, Any], clients: list[Socket]) -> None:
    """Nudge the ticket until every client has heard of it: a subscription joins its group a
    moment after the subscribe message, and only then hears anything."""
    pending = set(range(len(clients)))
    for attempt in range(50):
        priority = ("LOW", "HIGH")[attempt % 2]
        variables = {"input": {"ticketId": world["ticket"], "priority": priority}}
        await asyncio.to_thread(
            graphql_post, address, world["tokens"]["admin"], PRIORITY, variables
        )
        for index in list(pending):
            try:
                await clients[index].receive(timeout=0.3)
                pending.discard(index)
            except TimeoutError:
                pass
        if not pending:
            break
    assert not pending, "some subscribers never heard anything"
    for client in clients:  # drain the nudges still on their way
        with pytest.raises(TimeoutError):
            while True:
                await client.receive(timeout=0.5)


async def test_a_real_server_delivers_replies_and_keeps_notes_from_customers(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    with server(path) as served:
        address = served.address
        customer_socket, customer = await _subscribe(address, world, "customer")
        agent_socket, agent = await _subscribe(address, world, "agent")
        await _settled(address, world, [customer, agent])
        agent_token = world["tokens"]["agent"]

        reply = {"input": {"ticketId": world["ticket"], "body": "On it"}}
        await asyncio.to_thread(graphql_post, address, agent_token, REPLY, reply)
        note = {"input": {"ticketId": world["ticket"], "body": "Internal only"}}
        await asyncio.to_thread(graphql_post, address, agent_token, NOTE, note)

        heard = (await customer.receive())["payload"]["data"]["ticketEvents"]
        assert (heard["kind"], heard["reply"]) == ("REPLY_ADDED", {"body": "On it"})
        assert (await agent.receive())["payload"]["data"]["ticketEvents"]["kind"] == "REPLY_ADDED"
        noted = (await agent.receive())["payload"]["data"]["ticketEvents"]
        assert (noted["kind"], noted["reply"]) == ("NOTE_ADDED", {"body": "Internal only"})
        with pytest.raises(TimeoutError):
            await customer.receive(timeout=1)
        await customer_socket.close()
        await agent_socket.close()


async def test_a_real_server_refuses_bad_tokens_and_cross_site_pages(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, _world = world_db
    with server(path) as served:
        address = served.address
        async with connect(socket_url(address), subprotocols=PROTOCOL) as connection:
            with pytest.raises(ConnectionClosedError) as closed:
                await Socket(connection).init({"authorization": "Bearer esc_forged"})
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

        with pytest.raises(InvalidStatus) as refused:
            await connect(
                socket_url(address),
                subprotocols=PROTOCOL,
                additional_headers={"Origin": "https://evil.example"},
            )
        assert refused.value.response.status_code == 403


@pytest.mark.redis
async def test_two_processes_share_one_redis_channel_layer(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    """A mutation handled by one process reaches a subscriber connected to the other."""
    path, world = world_db
    url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    group = f"asgi:group:escalated.ticket.{world['ticket_pk']}".encode()
    store = redis.Redis.from_url(url)
    store.delete(group)
    with server(path, redis_url=url) as one, server(path, redis_url=url) as other:
        first, second = one.address, other.address
        connection, customer = await _subscribe(first, world, "customer")
        for _ in range(500):  # the subscription has joined once its channel is in the group
            if store.zcard(group):
                break
            await asyncio.sleep(0.02)
        assert store.zcard(group) == 1

        reply = {"input": {"ticketId": world["ticket"], "body": "From the other process"}}
        await asyncio.to_thread(graphql_post, second, world["tokens"]["agent"], REPLY, reply)

        heard = await customer.receive()
        assert heard["payload"]["data"]["ticketEvents"]["reply"] == {
            "body": "From the other process"
        }
        await connection.close()


async def test_a_real_server_runs_queries_and_mutations_over_the_socket(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    with server(path) as served:
        # A generous opening timeout: the server may still be importing on a busy machine.
        opened = connect(socket_url(served.address), subprotocols=PROTOCOL, open_timeout=60)
        async with opened as connection:
            client = Socket(connection)
            ack = await client.init({"authorization": f"Bearer {world['tokens']['customer']}"})
            assert ack == {"type": "connection_ack"}

            await client.subscribe("q", "{ viewer { role } }", {})
            assert await client.receive() == {
                "id": "q",
                "type": "next",
                "payload": {"data": {"viewer": {"role": "CUSTOMER"}}},
            }
            assert (await client.receive())["type"] == "complete"

            variables = {"input": {"ticketId": world["ticket"], "body": "<p>By socket</p>"}}
            await client.subscribe("m", REPLY, variables)
            answer = await client.receive()
            assert answer["payload"] == {"data": {"ticketReply": {"errors": []}}}, answer
            assert (await client.receive())["type"] == "complete"
