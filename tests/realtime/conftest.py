"""Websocket clients for the live tests: strawberry's channels communicator against the ASGI
application, speaking graphql-transport-ws (or legacy graphql-ws)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.conf import settings
from django.test import Client
from strawberry.channels.testing import GraphQLWebsocketCommunicator
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from escalated.realtime.hub import Hub
from escalated.realtime.routing import websocket_application
from escalated.services import tokens

PATH = "/support/graphql/"


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Any:
    """A new channel layer for every test: each test runs its own event loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def bearer(user: Any, *, scopes: tuple[str, ...] = ("read", "write")) -> str:
    return tokens.api_token_create(actor=user, name="live", scopes=scopes)[1]


class Live:
    """One websocket connection; subscribe, then read what arrives for each subscription."""

    def __init__(self, communicator: GraphQLWebsocketCommunicator) -> None:
        self.communicator = communicator
        self._ids = itertools.count(1)
        self._inbox: dict[str, list[dict[str, Any]]] = {}

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op = str(next(self._ids))
        await self.communicator.send_json_to(
            {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        return op

    async def receive(self, op: str, timeout: float = 3) -> dict[str, Any]:
        """The next message for subscription ``op`` (next, error or complete)."""
        queued = self._inbox.setdefault(op, [])
        while not queued:
            message = await self.communicator.receive_json_from(timeout=timeout)
            self._inbox.setdefault(message.get("id", ""), []).append(message)
        return queued.pop(0)

    async def next(self, op: str, timeout: float = 3) -> dict[str, Any]:
        """The data of the next result for ``op``; fails on anything else."""
        message = await self.receive(op, timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        return message["payload"]["data"]

    async def refused(self, op: str) -> str:
        """The error code that ended subscription ``op`` (a result with errors, then complete)."""
        message = await self.receive(op)
        assert message["type"] in ("next", "error"), message
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert message["type"] == "error" or message["payload"]["data"] is None, message
        if message["type"] == "next":
            assert (await self.receive(op))["type"] == "complete"
        return errors[0]["extensions"]["code"]

    async def nothing(self, timeout: float = 0.3) -> None:
        """Assert that nothing more arrives (for any subscription) within ``timeout``."""
        assert not any(self._inbox.values()), self._inbox
        assert await self.communicator.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


def communicator(
    *,
    cookie: str | None = None,
    origin: str | None = None,
    protocol: str = GRAPHQL_TRANSPORT_WS_PROTOCOL,
    params: dict[str, Any] | None = None,
) -> GraphQLWebsocketCommunicator:
    headers = [(b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return GraphQLWebsocketCommunicator(
        websocket_application,
        PATH,
        headers=headers,
        protocol=protocol,
        connection_params=params or {},
    )


async def connect(user: Any = None, *, token: str | None = None, **kwargs: Any) -> Live:
    """An acknowledged connection as ``user`` (by session cookie) or by API ``token``."""
    cookie = await database_sync_to_async(session_cookie)(user) if user is not None else None
    params = {"authorization": f"Bearer {token}"} if token else None
    comm = communicator(cookie=cookie, params=params, **kwargs)
    await comm.gql_init()
    return Live(comm)


@pytest_asyncio.fixture
async def live() -> AsyncIterator[Any]:
    """``await live(user)`` opens a connection; all are closed after the test."""
    opened: list[Live] = []

    async def open_as(user: Any = None, **kwargs: Any) -> Live:
        connection = await connect(user, **kwargs)
        opened.append(connection)
        return connection

    yield open_as
    for connection in opened:
        await connection.close()


async def joined(group: str, members: int = 1, timeout: float = 5) -> None:
    """Wait until ``members`` subscriptions of this process listen to ``group``: a subscription
    listens once its resolver has checked access, and only then can it hear of a change."""
    hub = Hub.current()
    deadline = asyncio.get_running_loop().time() + timeout
    while len(hub.listeners.get(group, ())) < members:
        assert asyncio.get_running_loop().time() < deadline, f"nobody joined {group}"
        await asyncio.sleep(0.01)


async def run(function: Any, /, **kwargs: Any) -> Any:
    """Call a service (or anything touching the ORM) from the test's event loop."""
    return await database_sync_to_async(function)(**kwargs)
