"""The load test's two kinds of client, on asyncio with nothing beyond the standard library and
``websockets`` (already a test dependency): a GraphQL-over-HTTP poster that tells "never sent"
from "sent, no answer", and a ``queueEvents`` subscriber that records every event it hears,
session by session (a session ends when its server goes away; the subscriber then opens a new
one on a server still up).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any


class Refused(Exception):
    """The request never reached a server (connect failed): nothing can have been written."""


class Lost(Exception):
    """The request was sent, and no complete answer came back: it may or may not have run."""


async def graphql_post(
    address: str, token: str, query: str, variables: dict[str, Any], *, timeout: float = 120
) -> tuple[int, dict[str, Any]]:
    """POST one operation over a fresh HTTP/1.1 connection; the status and the JSON body."""
    host, port = address.rsplit(":", 1)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 10)
    except (OSError, TimeoutError) as error:
        raise Refused(str(error)) from error
    body = json.dumps({"query": query, "variables": variables}).encode()
    head = (
        f"POST /support/graphql/ HTTP/1.1\r\nHost: {address}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        writer.write(head + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(-1), timeout)
    except TimeoutError as error:
        raise Lost(f"no answer within {timeout} s") from error
    except OSError as error:
        raise Lost(f"{type(error).__name__}: {error}") from error
    finally:
        writer.close()
    return _parse_response(raw)


def _parse_response(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise Lost("connection closed before the response's headers")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        rest = _unchunk(rest)
    elif "content-length" in headers and len(rest) < int(headers["content-length"]):
        raise Lost("connection closed mid-body")
    try:
        return status, json.loads(rest) if rest else {}
    except ValueError as error:
        if status >= 500:
            return status, {}
        raise Lost(f"unreadable body: {rest[:80]!r}") from error


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, sep, data = data.partition(b"\r\n")
        if not sep:
            raise Lost("connection closed mid-chunk")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        if len(data) < size + 2:
            raise Lost("connection closed mid-chunk")
        out += data[:size]
        data = data[size + 2 :]


QUEUE_EVENTS = "subscription { queueEvents { kind ticketId occurredAt change } }"


@dataclass
class Session:
    """One subscription on one connection: every event it received, as (kind, ticket pk,
    occurredAt as Unix time, arrival as Unix time), in arrival order."""

    server: str
    opened: float
    events: list[tuple[str, int, float, float]] = field(default_factory=list)
    ended: str = ""  # "closed" (by us, at the end), or why it broke


@dataclass
class Subscriber:
    user_id: int
    token: str
    sessions: list[Session] = field(default_factory=list)
    stopping: bool = False
    connection: Any = None

    @property
    def current(self) -> Session | None:
        return self.sessions[-1] if self.sessions else None

    async def run(self, servers: Any) -> None:
        """Hold a subscription until told to stop, reopening it on a live server whenever the
        one it is on goes away. ``servers.pick(n)`` names a server believed up."""
        from strawberry import relay
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        attempt = 0
        while not self.stopping:
            address = servers.pick(self.user_id + attempt)
            attempt += 1
            session = Session(address, time.time())
            try:
                async with connect(
                    f"ws://{address}/support/graphql/",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    open_timeout=60,
                    ping_interval=None,
                    max_queue=None,
                ) as connection:
                    self.connection = connection
                    init = {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {self.token}"},
                    }
                    await connection.send(json.dumps(init))
                    ack = json.loads(await asyncio.wait_for(connection.recv(), 60))
                    if ack.get("type") != "connection_ack":
                        raise RuntimeError(f"not acknowledged: {ack}")
                    start = {"id": "q", "type": "subscribe", "payload": {"query": QUEUE_EVENTS}}
                    await connection.send(json.dumps(start))
                    self.sessions.append(session)
                    async for raw in connection:
                        message = json.loads(raw)
                        if message.get("type") == "ping":
                            await connection.send(json.dumps({"type": "pong"}))
                            continue
                        if message.get("type") != "next":
                            session.ended = f"unexpected {message}"
                            break
                        event = message["payload"]["data"]["queueEvents"]
                        pk = int(relay.GlobalID.from_id(event["ticketId"]).node_id)
                        at = _timestamp(event["occurredAt"])
                        session.events.append((event["kind"], pk, at, time.time()))
            except (OSError, ConnectionClosed, TimeoutError, RuntimeError) as error:
                session.ended = session.ended or f"{type(error).__name__}: {error}"
            if self.stopping:
                session.ended = session.ended or "closed"
                return
            session.ended = session.ended or "server closed the socket"
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        self.stopping = True
        if self.connection is not None:
            await self.connection.close()


def _timestamp(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()
