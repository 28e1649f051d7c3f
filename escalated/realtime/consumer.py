"""The GraphQL websocket endpoint: strawberry's channels consumer, with Escalated's origin rule
and connect-time authentication.

Both graphql-transport-ws and the legacy graphql-ws subprotocol are spoken by strawberry. A
refused connection learns nothing but the refusal: a cross-site handshake is closed before it is
accepted, with code 4403 (which servers send as HTTP 403); a bad or missing credential in
``connection_init`` closes the socket with 4403 Forbidden (graphql-ws: ``connection_error``), and
so does losing access later (deactivated, token revoked), found within
REALTIME_ACCESS_RECHECK_SECONDS.

REALTIME_RATE_LIMIT bounds what one caller holds open: a ``connection_init`` beyond the
connections one account, guest link or client IP may hold closes the socket with 4429 (legacy
graphql-ws: ``connection_error`` with code RATE_LIMITED), and a ``subscribe`` beyond the
operations one socket may run at once is answered with an ``error`` message for that id whose
error has ``extensions.code`` RATE_LIMITED; the socket and its other operations carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from graphql import GraphQLError
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.unset import UNSET, UnsetType

from escalated.conf import escalated_settings
from escalated.models import ApiToken
from escalated.realtime.auth import Identity, Refused, authenticate
from escalated.realtime.rechecks import Rechecks, reread_access
from escalated.services.ratelimit import Hold, hold_take

logger = logging.getLogger(__name__)

FORBIDDEN = 4403
TOO_MANY_CONNECTIONS = 4429
# Open connections are counted per minute-long window (escalated.services.ratelimit.Hold): a
# connection lost with its process stops counting within two minutes.
HOLD_WINDOW_SECONDS = 60


def _operations_limit() -> int:
    limit: int = escalated_settings.REALTIME_RATE_LIMIT["SUBSCRIPTIONS_PER_CONNECTION"]
    return limit


class _TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """Strawberry's graphql-transport-ws handler, refusing an operation over the connection's
    limit with a typed error (strawberry's own says only "Subscription limit reached")."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = _operations_limit()
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = GraphQLError(
                f"This connection is running {limit} operations already; complete one first.",
                extensions={"code": "RATE_LIMITED"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def handle_task_exception(self, error: Exception) -> None:
        # A client that goes away while an event is on its way (closed tab, lost network) is
        # how sockets end, not a fault: one line at INFO, not strawberry's traceback.
        if isinstance(error, OSError):
            logger.info("A subscriber left while an event was sent to it: %r", error)
            return
        await super().handle_task_exception(error)


def _connection_budgets(scope: Mapping[str, Any], identity: Identity) -> list[tuple[str, str, int]]:
    limits = escalated_settings.REALTIME_RATE_LIMIT
    client = scope.get("client") or ("",)
    budgets = [("ws-ip", str(client[0]), limits["CONNECTIONS_PER_IP"])]
    user = identity.user
    access = getattr(user, "access_id", None)
    if access is not None:
        budgets.append(("ws-user", f"guest:{access}", limits["CONNECTIONS_PER_USER"]))
    elif getattr(user, "is_authenticated", False):
        budgets.append(("ws-user", f"user:{user.pk}", limits["CONNECTIONS_PER_USER"]))
    return budgets


@dataclass(eq=False)  # one per connection, told apart by identity
class SocketRequest:
    """What resolvers read from ``info.context.request``, for a websocket connection: the user
    authenticated at connect, and the API token when one was used."""

    scope: Mapping[str, Any]
    user: Any = field(default_factory=AnonymousUser)
    escalated_token: ApiToken | None = None
    # The Django session key, when the session cookie authenticated the connection.
    session_key: str | None = None
    # Signed in by session cookie from a page of another site (one WEBSOCKET_ALLOWED_ORIGINS
    # admits): it may read, but not run mutations, as Django's CSRF check refuses a POST from
    # such a page (see escalated.graphql.errors).
    cross_site_session: bool = False


@dataclass
class SocketContext:
    request: SocketRequest
    # The consumer, whose channel the subscriptions listen on.
    ws: GraphQLWSConsumer
    # The connection_init payload; strawberry fills it in.
    connection_params: dict[str, Any] | None = None


# Subscriptions hear events through the process's hub (escalated.realtime.hub), so a socket
# needs no channel of its own: naming no configured layer spares the channel layer one channel
# and one pending read per open socket.
NO_CHANNEL_PER_SOCKET = "escalated.realtime:no-channel-per-socket"


class EscalatedGraphQLWSConsumer(GraphQLWSConsumer):
    channel_layer_alias = NO_CHANNEL_PER_SOCKET
    graphql_transport_ws_handler_class = _TransportWSHandler
    _hold: Hold | None = None
    _hold_task: asyncio.Task[None] | None = None
    _refusal: tuple[int, str] | None = None

    # Read per connection from REALTIME_RATE_LIMIT (strawberry's legacy graphql-ws handler
    # applies it; graphql-transport-ws answers first, with a typed error, in the handler above).
    @property
    def max_subscriptions_per_connection(self) -> int:
        return _operations_limit()

    @max_subscriptions_per_connection.setter
    def max_subscriptions_per_connection(self, _given: int | None) -> None:
        pass

    async def get_context(self, request: Any, response: Any) -> SocketContext:  # type: ignore[override]
        return SocketContext(request=SocketRequest(scope=request.scope), ws=request)

    async def on_ws_connect(self, context: SocketContext) -> UnsetType:  # type: ignore[override]
        try:
            identity = await database_sync_to_async(authenticate)(
                self.scope, context.connection_params or {}
            )
        except Refused as refusal:
            raise ConnectionRejectionError({"message": str(refusal)}) from refusal
        budgets = _connection_budgets(self.scope, identity)
        hold = await sync_to_async(hold_take, thread_sensitive=False)(
            budgets,
            window=HOLD_WINDOW_SECONDS,
            cache=escalated_settings.REALTIME_RATE_LIMIT["CACHE"],
        )
        if hold is None:
            message = "Too many connections are open from here; close one first."
            self._refusal = (TOO_MANY_CONNECTIONS, "Too many connections")
            raise ConnectionRejectionError({"message": message, "code": "RATE_LIMITED"})
        self._hold = hold
        self._hold_task = asyncio.create_task(self._keep_counted(hold))
        context.request.user = identity.user
        context.request.escalated_token = identity.token
        context.request.session_key = identity.session_key
        context.request.cross_site_session = identity.session_key is not None and not (
            _same_site(self.scope)
        )
        await reread_access(context.request)
        self.socket_request = context.request
        Rechecks.current().watch(context.request, on_lost=self._access_lost)
        return UNSET

    async def _access_lost(self) -> None:
        await self.close(code=FORBIDDEN)

    async def _keep_counted(self, hold: Hold) -> None:
        while True:
            await asyncio.sleep(hold.window / 2)
            await sync_to_async(hold.refresh, thread_sensitive=False)()

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # Strawberry closes a rejected connection_init with 4403; a refusal for too many
        # connections says so with its own code.
        if self._refusal is not None and code == FORBIDDEN:
            code, reason = self._refusal
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        # Strawberry's disconnect waits for the connection's handler, so a connection_init still
        # being authenticated has registered its rechecks by the time they are forgotten here.
        try:
            await super().disconnect(code)
        finally:
            request = getattr(self, "socket_request", None)
            if request is not None:
                Rechecks.current().forget(request)
            await self._release_hold()

    async def _release_hold(self) -> None:
        task, hold = self._hold_task, self._hold
        self._hold_task = self._hold = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if hold is not None:
            await sync_to_async(hold.release, thread_sensitive=False)()

    def encode_json(self, data: object) -> str | bytes:
        return _next_messages.encode(data, super().encode_json)

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        # Read on every handshake, so a changed setting applies without a restart of the router.
        allowed = normalize_allowed_origins(escalated_settings.WEBSOCKET_ALLOWED_ORIGINS)
        return "*" in allowed or normalize_origin(origin) in allowed

    async def reject_websocket(self, request: Any) -> Any:
        await request.close(code=FORBIDDEN)
        return request


def _same_site(scope: Mapping[str, Any]) -> bool:
    """Whether the handshake came from this site's own pages (or a trusted one): its Origin
    is the host it was sent to, or one of Django's CSRF_TRUSTED_ORIGINS. No Origin: not a
    browser, which cannot be made to send the cookie by another site's page."""
    headers = dict(scope.get("headers") or ())
    origin = headers.get(b"origin")
    if origin is None:
        return True
    given = normalize_origin(origin.decode("latin-1"))
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    host = headers.get(b"host", b"").decode("latin-1")
    trusted = normalize_allowed_origins([o for o in settings.CSRF_TRUSTED_ORIGINS if "*" not in o])
    return given is not None and (
        given == normalize_origin(f"{scheme}://{host}") or given in trusted
    )


class _SharedResults:
    """Encodes a ``next`` message's result once for all the sockets it goes to.

    Subscribers who share an execution of an event (escalated.graphql.event_execution) are sent
    the same result object; only the operation id around it differs. The last few results'
    encodings are kept, with the results themselves (so their ids are not reused meanwhile).
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.recent: OrderedDict[int, tuple[object, str | bytes]] = OrderedDict()

    def encode(self, message: object, encode: Callable[[object], str | bytes]) -> str | bytes:
        if not (
            isinstance(message, dict)
            and message.get("type") == "next"
            and message.keys() == {"id", "type", "payload"}
            and isinstance(message["payload"], dict)
            and message["payload"].keys() == {"data"}
        ):
            return encode(message)
        data = message["payload"]["data"]
        kept = self.recent.get(id(data))
        if kept is None or kept[0] is not data:
            kept = self.recent[id(data)] = (data, encode(message["payload"]))
            if len(self.recent) > self.size:
                self.recent.popitem(last=False)
        operation = encode(message["id"])
        payload = kept[1]
        if isinstance(payload, bytes) or isinstance(operation, bytes):
            return encode(message)  # a host's encoder returning bytes: no splicing
        return f'{{"id":{operation},"type":"next","payload":{payload}}}'


_next_messages = _SharedResults()
