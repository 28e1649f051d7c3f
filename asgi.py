"""ASGI entry point of the demo project: Django over HTTP, and GraphQL subscriptions over the
websocket at the same path as the HTTP endpoint (/support/graphql/).

    uvicorn asgi:application

A host project mounts Escalated the same way in its own asgi.py (see escalated.realtime.routing).
"""

import os

from channels.routing import ProtocolTypeRouter
from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

# Set Django up before anything imports models.
http_application = get_asgi_application()

from escalated.realtime.collector import settle_collector  # noqa: E402
from escalated.realtime.routing import websocket_application  # noqa: E402

if settings.DEBUG and "django.contrib.staticfiles" in settings.INSTALLED_APPS:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    # What runserver does: serve the admin's and GraphiQL's static files while developing.
    http_application = ASGIStaticFilesHandler(http_application)

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application})

# Last: keep the garbage collector's full passes short and rare in a process holding many
# sockets (escalated.realtime.collector says why and what it costs).
settle_collector()
