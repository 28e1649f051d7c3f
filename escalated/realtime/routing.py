"""ASGI routing for the GraphQL websocket, for a host to mount in its own ASGI application::

    # asgi.py
    from channels.routing import ProtocolTypeRouter
    from django.core.asgi import get_asgi_application

    django_asgi = get_asgi_application()  # first: it sets Django up

    from escalated.realtime.routing import websocket_application

    application = ProtocolTypeRouter({"http": django_asgi, "websocket": websocket_application})

A host with websocket routes of its own adds :data:`websocket_urlpatterns` to its URLRouter
instead (inside channels' ``AuthMiddlewareStack``, which reads the session cookie).

The socket lives at the same path as the HTTP endpoint, ``/<ROUTE_PREFIX>/graphql/``.
"""

from __future__ import annotations

import re
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import re_path

from escalated.checks import WITH_URLS, stop_on_errors
from escalated.conf import escalated_settings
from escalated.graphql.schema import schema
from escalated.realtime.consumer import EscalatedGraphQLWSConsumer


def graphql_path_pattern() -> str:
    """The websocket route, relative to the site root as channels' URLRouter sees it."""
    prefix = escalated_settings.ROUTE_PREFIX.strip("/")
    return rf"^{re.escape(prefix)}/graphql/?$" if prefix else r"^graphql/?$"


def hub_path_pattern() -> str:
    """The hub's websocket for cloud-mode sites' relays (``{HOSTED_API_URL}/graphql``)."""
    prefix = escalated_settings.ROUTE_PREFIX.strip("/")
    return rf"^{re.escape(prefix)}/hub/api/v1/graphql/?$" if prefix else r"^hub/api/v1/graphql/?$"


def _consumer() -> Any:
    if escalated_settings.MODE == "cloud":
        from escalated.cloud.relay import CloudRelayConsumer

        return CloudRelayConsumer.as_asgi()  # every frame goes to the hub's socket
    return EscalatedGraphQLWSConsumer.as_asgi(schema=schema)


websocket_urlpatterns = [
    re_path(graphql_path_pattern(), _consumer()),
    re_path(hub_path_pattern(), EscalatedGraphQLWSConsumer.as_asgi(schema=schema)),
]

websocket_application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))

# Apps are loaded by now (the host's asgi.py sets Django up first), so the URLconf can be read:
# a ROUTE_PREFIX that disagrees with it would serve the websocket where nobody connects.
stop_on_errors(WITH_URLS)
