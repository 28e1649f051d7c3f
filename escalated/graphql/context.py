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
