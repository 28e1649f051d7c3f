"""REALTIME_RATE_LIMIT against a real uvicorn process and real websocket clients: connections
held open per account and per client IP (closed with 4429), operations per connection (a typed
error for that operation only), and, on Redis, one count shared by two processes."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from tests.realtime.servers import Server, Socket, graphql_post, server, socket_url, world_database

pytestmark = pytest.mark.asyncio

PROTOCOL = ["graphql-transport-ws"]
EVENTS = "subscription($id: ID!) { ticketEvents(ticketId: $id) { kind } }"
PRIORITY = """mutation($input: TicketPriorityChangeInput!) {
    ticketPriorityChange(input: $input) { errors { code } } }"""


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("limits") / "world.sqlite3"
    return path, world_database(path)


@contextmanager
def limited(path: Path, redis_url: str | None = None, **limits: int) -> Iterator[Server]:
    given = {"CONNECTIONS_PER_USER": 100, "CONNECTIONS_PER_IP": 100, **limits}
    env = {"ESCALATED_SERVER_SETTINGS": json.dumps({"REALTIME_RATE_LIMIT": given})}
    if redis_url:
        env["ESCALATED_SERVER_CACHE_URL"] = redis_url
        env["ESCALATED_SERVER_CACHE_PREFIX"] = f"escalated-test-{uuid.uuid4().hex}"
    with server(path, **env) as served:
        yield served


async def _open(address: str, token: str) -> tuple[Any, Socket, dict[str, Any]]:
    # A server still starting holds the handshake in its backlog: on the shared 2-core machine
    # two processes starting at once take longer than the client's default 10 s.
    connection = await connect(socket_url(address), subprotocols=PROTOCOL, open_timeout=60)
    client = Socket(connection)
    try:
        answer = await client.init({"authorization": f"Bearer {token}"})
    except ConnectionClosedError as closed:
        frame = closed.rcvd
        code, reason = (frame.code, frame.reason) if frame is not None else (None, None)
        return connection, client, {"closed": code, "reason": reason}
    return connection, client, answer


async def test_an_account_over_its_connections_is_closed_with_4429(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    customer, agent = world["tokens"]["customer"], world["tokens"]["agent"]
    with limited(path, CONNECTIONS_PER_USER=2) as served:
        held = [await _open(served.address, customer) for _ in range(2)]
        _, _, third = await _open(served.address, customer)
        _, _, theirs = await _open(served.address, agent)
        await held[0][0].close()
        await asyncio.sleep(0.3)  # the server hears of the close
        _, _, again = await _open(served.address, customer)

    assert [answer for _, _, answer in held] == [{"type": "connection_ack"}] * 2
    assert third == {"closed": 4429, "reason": "Too many connections"}
    assert theirs == {"type": "connection_ack"}  # a budget per account
    assert again == {"type": "connection_ack"}  # a closed socket gives its place back


async def test_a_client_ip_over_its_connections_is_closed_with_4429(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    tokens = world["tokens"]
    with limited(path, CONNECTIONS_PER_IP=2) as served:
        answers = [
            (await _open(served.address, tokens[person]))[2]
            for person in ("customer", "agent", "admin")
        ]

    assert answers[:2] == [{"type": "connection_ack"}] * 2
    assert answers[2]["closed"] == 4429


async def test_an_operation_over_the_connections_limit_is_refused_alone(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    with limited(path, SUBSCRIPTIONS_PER_CONNECTION=2) as served:
        connection, client, ack = await _open(served.address, world["tokens"]["agent"])
        assert ack == {"type": "connection_ack"}
        for op in ("1", "2", "3"):
            await client.subscribe(op, EVENTS, {"id": world["ticket"]})
        refused = await client.receive()
        await asyncio.sleep(0.5)  # both subscriptions join the ticket's group
        change = {"input": {"ticketId": world["ticket"], "priority": "HIGH"}}
        await asyncio.to_thread(
            graphql_post, served.address, world["tokens"]["admin"], PRIORITY, change
        )
        heard = sorted([(await client.receive())["id"] for _ in range(2)])
        await connection.send(json.dumps({"id": "1", "type": "complete"}))
        await client.subscribe("4", EVENTS, {"id": world["ticket"]})
        await asyncio.sleep(0.5)
        change["input"]["priority"] = "LOW"
        await asyncio.to_thread(
            graphql_post, served.address, world["tokens"]["admin"], PRIORITY, change
        )
        after = sorted([(await client.receive())["id"] for _ in range(2)])
        await connection.close()

    assert refused["id"] == "3" and refused["type"] == "error"
    assert refused["payload"][0]["extensions"] == {"code": "RATE_LIMITED"}
    assert heard == ["1", "2"]  # the socket and its other operations carry on
    assert after == ["2", "4"]  # a completed operation frees its place


@pytest.mark.redis
async def test_two_processes_count_one_accounts_connections_together(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"escalated-test-{uuid.uuid4().hex}"
    env = {
        "ESCALATED_SERVER_SETTINGS": json.dumps(
            {"REALTIME_RATE_LIMIT": {"CONNECTIONS_PER_USER": 1}}
        ),
        "ESCALATED_SERVER_CACHE_URL": url,
        "ESCALATED_SERVER_CACHE_PREFIX": prefix,
    }
    token = world["tokens"]["customer"]
    with server(path, **env) as one, server(path, **env) as other:
        first, _, admitted = await _open(one.address, token)
        _, _, refused = await _open(other.address, token)
        await first.close()
        await asyncio.sleep(0.3)
        _, _, later = await _open(other.address, token)

    assert admitted == {"type": "connection_ack"}
    assert refused["closed"] == 4429
    assert later == {"type": "connection_ack"}


async def test_a_reply_over_the_socket_spends_the_same_budget_as_over_http(
    world_db: tuple[Path, dict[str, Any]],
) -> None:
    path, world = world_db
    reply = "mutation($input: TicketReplyInput!) { ticketReply(input: $input) { reply { id } } }"
    count = "query($id: ID!) { node(id: $id) { ... on Ticket { replies { totalCount } } } }"
    token = world["tokens"]["customer"]
    settings = {"MESSAGE_RATE_LIMIT": {"REPLIES_PER_REQUESTER": 1}}
    env = {"ESCALATED_SERVER_SETTINGS": json.dumps(settings)}
    with server(path, **env) as served:
        before = graphql_post(served.address, token, count, {"id": world["ticket"]})
        connection, client, ack = await _open(served.address, token)
        assert ack == {"type": "connection_ack"}
        for op in ("1", "2"):
            body = {"input": {"ticketId": world["ticket"], "body": f"Socket {op}"}}
            await client.subscribe(op, reply, body)
        answers = {}
        while len(answers) < 2:
            message = await client.receive()
            if message["type"] == "next":
                answers[message["id"]] = message["payload"]
        await connection.close()
        after = graphql_post(served.address, token, count, {"id": world["ticket"]})

    assert "errors" not in answers["1"]
    (error,) = answers["2"]["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] > 0
    replies = before["node"]["replies"]["totalCount"]
    assert after["node"]["replies"]["totalCount"] == replies + 1
