"""The GraphQL websocket endpoint: strawberry's channels consumer, with Escalated's origin rule
and connect-time authentication.

Both graphql-transport-ws and the legacy graphql-ws subprotocol are spoken by strawberry. A
refused connection learns nothing but the refusal: a cross-site handshake is closed before it is
accepted, with code 4403 (which servers send as HTTP 403); a bad or missing credential in
``connection_init`` closes the socket with 4403 Forbidden (graphql-ws: ``connection_error``), and
so does losing access later (deactivated, token revoked), found within
REALTIME_ACCESS_RECHECK_SECONDS.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin
from strawberry.types.unset import UNSET, UnsetType

from escalated.conf import escalated_settings
from escalated.models import ApiToken
from escalated.realtime.auth import Refused, authenticate
from escalated.realtime.rechecks import Rechecks, reread_access

FORBIDDEN = 4403


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


class EscalatedGraphQLWSConsumer(GraphQLWSConsumer):
    # Subscriptions hear events through the process's hub (escalated.realtime.hub), so a socket
    # needs no channel of its own: naming no configured layer spares the channel layer one
    # channel and one pending read per open socket.
    channel_layer_alias = "escalated.realtime:no-channel-per-socket"

    async def get_context(self, request: Any, response: Any) -> SocketContext:  # type: ignore[override]
        return SocketContext(request=SocketRequest(scope=request.scope), ws=request)

    async def on_ws_connect(self, context: SocketContext) -> UnsetType:  # type: ignore[override]
        try:
            identity = await database_sync_to_async(authenticate)(
                self.scope, context.connection_params or {}
            )
        except Refused as refusal:
            raise ConnectionRejectionError({"message": str(refusal)}) from refusal
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

    async def disconnect(self, code: int) -> None:
        # Strawberry's disconnect waits for the connection's handler, so a connection_init still
        # being authenticated has registered its rechecks by the time they are forgotten here.
        try:
            await super().disconnect(code)
        finally:
            request = getattr(self, "socket_request", None)
            if request is not None:
                Rechecks.current().forget(request)

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
