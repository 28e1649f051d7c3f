"""What a resolver needs to know about the request it serves."""

from __future__ import annotations

from typing import Any

from strawberry import Info

from escalated.authentication import request_actor
from escalated.graphql.event_execution import viewer_asked


def viewer(info: Info) -> Any:
    """Who the request acts as: a user, a guest holding a ticket's token, or an AnonymousUser.

    Resolvers learn the viewer here and nowhere else: asking marks the running execution as
    the viewer's own (see :mod:`escalated.graphql.event_execution`)."""
    viewer_asked()
    return request_actor(info.context.request)


def api_token(info: Info) -> Any:
    """The API token the request authenticated with, if it used one."""
    viewer_asked()
    return getattr(info.context.request, "escalated_token", None)


def cross_site_session(info: Info) -> bool:
    """Whether the request is a websocket signed in by session cookie from another site's page
    (see escalated.realtime.consumer): the one kind of request that may read but not write."""
    viewer_asked()
    return bool(getattr(info.context.request, "cross_site_session", False))


def caller_key(info: Info) -> str:
    """Who is asking, for counting their requests: the API token, else the signed-in user, else
    the guest link, else the client's IP address."""
    viewer_asked()
    request = info.context.request
    token = getattr(request, "escalated_token", None)
    if token is not None:
        return f"token:{token.pk}"
    me = request_actor(request)
    access = getattr(me, "access_id", None)
    if access is not None:
        return f"guest:{access}"
    if getattr(me, "is_authenticated", False):
        return f"user:{me.pk}"
    meta = getattr(request, "META", None)
    if meta is not None:
        return f"ip:{meta.get('REMOTE_ADDR', '')}"
    client = request.scope.get("client") or ("",)  # a websocket: the ASGI scope's client
    return f"ip:{client[0]}"


def set_response_header(info: Info, name: str, value: str) -> None:
    """Set a header on the HTTP response (nothing over a websocket, which has none)."""
    response = getattr(info.context, "response", None)
    if response is not None:
        response.headers[name] = value
