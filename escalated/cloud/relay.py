"""Cloud mode, site side: the site's GraphQL websocket relayed to the hub's.

The client speaks graphql-transport-ws (or the legacy graphql-ws) to the site as it would to a
self-hosted helpdesk. Its ``connection_init`` is authenticated here, by the site's own rules
(the session cookie of a same-site page, or ``{"authorization": "Bearer <api token>"}``); the
relay then opens a socket to the hub (``{HOSTED_API_URL}/graphql`` as ws/wss) whose
``connection_init`` carries the site key and a fresh viewer assertion, and from then on passes
every frame both ways unchanged, so subscriptions hear the events the hub causes. A guest's
link is the hub's: its ``connection_init`` goes to the hub as the client sent it.

A hub that cannot be reached within ``HOSTED_TIMEOUT_SECONDS`` closes the client's socket with
4503 and the reason ``HUB_UNAVAILABLE``; when the hub closes its side, the client's closes with
the hub's code. A session socket from another site's page is refused (the relay cannot tell a
read from a write), as is a socket whose first message is not ``connection_init``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from escalated.cloud import forward
from escalated.conf import escalated_settings
from escalated.realtime.auth import GUEST_TOKEN_KEYS, Refused, authenticate
from escalated.realtime.consumer import NO_CHANNEL_PER_SOCKET

logger = logging.getLogger(__name__)

PROTOCOLS = ("graphql-transport-ws", "graphql-ws")
FORBIDDEN = 4403
BAD_REQUEST = 4400
UNAVAILABLE = 4503


def hub_socket_url() -> str:
    parts = urlsplit(forward.graphql_url())
    return urlunsplit(("wss" if parts.scheme == "https" else "ws", *parts[1:]))


def _hub_init(scope: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The connection_init payload for the hub (runs the ORM: call it from a thread)."""
    if any(key in payload for key in GUEST_TOKEN_KEYS):
        return payload
    identity = authenticate(scope, payload)
    if identity.session_key is not None and not _same_site(scope):
        raise Refused("A session socket from another site's page cannot be relayed.")
    headers = forward.hub_headers(identity.user)
    return {"authorization": headers["Authorization"], "viewer": headers["X-Escalated-Viewer"]}


def _same_site(scope: Any) -> bool:
    from escalated.realtime.consumer import _same_site as same_site

    return same_site(scope)


class CloudRelayConsumer(AsyncWebsocketConsumer):
    # A relayed socket hears only its hub connection, never the site's channel layer.
    channel_layer_alias = NO_CHANNEL_PER_SOCKET
    upstream: Any = None
    pump: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols") or []
        self.protocol = next((p for p in PROTOCOLS if p in offered), None)
        if self.protocol is None:
            await self.close(code=BAD_REQUEST)
            return
        await self.accept(subprotocol=self.protocol)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.upstream is not None:
            await self.upstream.send(text_data if text_data is not None else bytes_data)
            return
        if self.pump is not None:
            return  # still connecting to the hub: the client waits for connection_ack
        try:
            message = json.loads(text_data or "")
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "connection_init":
            await self.close(code=BAD_REQUEST)
            return
        self.pump = asyncio.create_task(self._relay(message.get("payload") or {}))

    async def _relay(self, payload: dict[str, Any]) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, WebSocketException

        try:
            init = await database_sync_to_async(_hub_init)(self.scope, payload)
        except Refused as refusal:
            logger.info("Refused a relayed socket: %s", refusal)
            await self.close(code=FORBIDDEN)
            return
        timeout = float(escalated_settings.HOSTED_TIMEOUT_SECONDS)
        try:
            upstream = await connect(
                hub_socket_url(),
                subprotocols=[self.protocol],  # type: ignore[list-item]
                open_timeout=timeout,
                user_agent_header="escalated-django (cloud relay)",
            )
            await upstream.send(json.dumps({"type": "connection_init", "payload": init}))
        except (OSError, TimeoutError, WebSocketException) as error:
            logger.warning(
                "The hub's websocket cannot be reached: %s: %s", type(error).__name__, error
            )
            # The ASGI close event carries the reason (the consumer's close() has none in every
            # channels release this package supports).
            await self.base_send(
                {"type": "websocket.close", "code": UNAVAILABLE, "reason": forward.CODE}
            )
            return
        self.upstream = upstream
        code = 1000
        try:
            async for frame in upstream:
                if isinstance(frame, bytes):
                    await self.send(bytes_data=frame)
                else:
                    await self.send(text_data=frame)
        except ConnectionClosed:
            pass
        finally:
            code = upstream.close_code or 1000
        await self.close(code=code if code >= 4000 or code == 1000 else UNAVAILABLE)

    async def disconnect(self, code: int) -> None:
        upstream, pump = self.upstream, self.pump
        if upstream is not None:
            with contextlib.suppress(Exception):
                await upstream.close()
        if pump is not None and not pump.done():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
