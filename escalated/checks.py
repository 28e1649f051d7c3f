"""System checks: a bad ESCALATED setting stops start-up with a message naming the key.

The same checks stop a server that never runs ``manage.py`` (uvicorn, daphne, gunicorn, a
Celery worker): :func:`stop_on_errors` runs them when the app loads and raises
``ImproperlyConfigured`` with exactly the lines ``manage.py check`` prints. The check of where
the URLs are mounted needs the URLconf, which cannot be imported while apps are still loading,
so it runs when the ASGI application is built (:mod:`escalated.realtime.routing`) and under
``manage.py check``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from escalated.conf import escalated_settings, inbound_email_problems, setting_problems

logger = logging.getLogger(__name__)

SETTINGS_HINT = "See the settings table in Escalated's README."


@register()
def check_escalated_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    user = getattr(settings, "ESCALATED", {})
    return [
        Error(problem, hint=SETTINGS_HINT, id="escalated.E001")
        for problem in setting_problems(user)
    ]


@register()
def check_content_sniffing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Attachments are typed by libmagic; without it every upload would fail, so say so now."""
    try:
        import magic

        magic.from_buffer(b"%PDF-1.4", mime=True)
    except (ImportError, OSError) as error:
        return [
            Error(
                f"libmagic cannot be loaded ({error}); attachment types cannot be checked.",
                hint="Install libmagic: 'apt-get install libmagic1' on Debian and Ubuntu, "
                "'brew install libmagic' on macOS.",
                id="escalated.E002",
            )
        ]
    return []


@register()
def check_hosting_mode(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Synced and cloud modes need what :func:`hub_connection_problems` lists."""
    mode = escalated_settings.MODE
    if mode == "synced":
        return [
            Error(problem, hint="See 'Synced mode and the hub' in the README.", id="escalated.E004")
            for problem in hub_connection_problems(mode)
        ]
    if mode == "cloud":
        return [
            Error(problem, hint="See 'Cloud mode' in the README.", id="escalated.E009")
            for problem in hub_connection_problems(mode)
        ]
    return []


def hub_connection_problems(mode: str) -> list[str]:
    """What a synced or cloud site lacks to reach its hub: the API URL (events go to
    ``{URL}/events``, cloud operations to ``{URL}/graphql``, so no query or fragment), the site
    key ``siteCreate`` gave, and the site's signing secret (synced: the hub signs its calls back
    with it; cloud: the site signs its viewer assertions with it)."""
    from escalated.hosted.signing import MIN_SECRET_LENGTH
    from escalated.services.sites import KEY_SCHEME

    url = escalated_settings.HOSTED_API_URL
    key = escalated_settings.HOSTED_API_KEY
    secret = escalated_settings.HOSTED_SIGNING_SECRET
    problems: list[str] = []
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        problems.append(
            f"ESCALATED['HOSTED_API_URL'] must be the hub's absolute http(s) API URL in {mode} "
            "mode, without a query or fragment."
        )
    # Only this project's hub runs the GraphQL schema a cloud site forwards to; a synced site
    # may push to any hub that speaks the event wire format, whatever its keys look like.
    if (
        not isinstance(key, str)
        or not key
        or (mode == "cloud" and not key.startswith(f"{KEY_SCHEME}_"))
    ):
        problems.append(
            "ESCALATED['HOSTED_API_KEY'] must be the site key the hub gave you"
            + (f" ({KEY_SCHEME}_…)." if mode == "cloud" else ".")
        )
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            "ESCALATED['HOSTED_SIGNING_SECRET'] must be the hub's signing secret for this site "
            f"(at least {MIN_SECRET_LENGTH} characters)."
        )
    if mode == "cloud" and escalated_settings.HUB["ENABLED"]:
        problems.append(
            "ESCALATED['HUB']['ENABLED'] is True in cloud mode: a hub keeps tickets, a cloud-mode "
            "site keeps none."
        )
    return problems


@register()
def check_channel_layers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Live queues publish through the channel layer; without one they stay silent."""
    if getattr(settings, "CHANNEL_LAYERS", None):
        return []
    return [
        Warning(
            "CHANNEL_LAYERS is not set, so GraphQL subscriptions (live queues, ticket events, "
            "presence) never hear of a change.",
            hint="Set CHANNEL_LAYERS: {'default': {'BACKEND': "
            "'channels.layers.InMemoryChannelLayer'}} serves one process; with several, use "
            "channels_redis.core.RedisChannelLayer (pip install escalated-django[redis]).",
            id="escalated.W002",
        )
    ]


@register()
def check_channel_layer_read_timeout(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """channels_redis waits for a message with a blocking pop of ``brpop_timeout`` (5 s), and
    redis-py 8 gives every socket a 5 s read timeout by default: the two race, so an idle
    receive fails every 5 s (logged errors, websocket consumers torn down) and a message popped
    as the client gives up is lost. The read timeout must be longer than the pop, or none."""
    messages: list[CheckMessage] = []
    for alias, layer in (getattr(settings, "CHANNEL_LAYERS", None) or {}).items():
        if layer.get("BACKEND") != "channels_redis.core.RedisChannelLayer":
            continue
        for host, timeout, pop in _redis_read_timeouts(layer.get("CONFIG") or {}):
            if timeout is not None and timeout <= pop:
                messages.append(
                    Warning(
                        f"CHANNEL_LAYERS[{alias!r}] reads {host} with a {timeout:g} s socket "
                        f"timeout, no longer than channels_redis' {pop:g} s blocking read: idle "
                        "receives fail every few seconds and a message can be lost.",
                        hint='Give the host a longer read timeout: {"address": "redis://…", '
                        '"socket_timeout": 15} (see "Live queues" in Escalated\'s README).',
                        id="escalated.W005",
                    )
                )
    return messages


def _redis_read_timeouts(config: dict[str, Any]) -> list[tuple[str, float | None, float]]:
    """(host, the socket read timeout redis-py will use, the layer's blocking pop) per host,
    read from the connection pools channels_redis would build (building one connects nothing)."""
    try:
        from channels_redis.core import RedisChannelLayer
        from channels_redis.utils import create_pool, decode_hosts
        from redis.asyncio.connection import AbstractConnection
    except ImportError:  # channels_redis missing: the layer itself reports that
        return []
    import inspect

    default = inspect.signature(AbstractConnection.__init__).parameters["socket_timeout"].default
    pop = float(RedisChannelLayer.brpop_timeout)
    found = []
    for host in decode_hosts(config.get("hosts")):
        try:
            kwargs = create_pool(host).connection_kwargs
        except (TypeError, ValueError):  # a malformed host fails loudly when the layer starts
            continue
        label = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"  # never the password
        found.append((label, kwargs.get("socket_timeout", default), pop))
    return found


@register(Tags.database)
def check_background_delivery(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Immediate delivery sends on a thread of its own, which SQLite's default transactions
    cannot share the database with; the outbox then sends in the request instead."""
    from django.db import connections

    from escalated.services.outbox import writes_beside_requests

    connection: Any = connections["default"]
    if (
        escalated_settings.OUTBOX["DELIVERY"] != "immediate"
        or connection.vendor != "sqlite"
        or connection.is_in_memory_db()
        or writes_beside_requests(connection)
    ):
        return []
    return [
        Warning(
            "The default database is SQLite with deferred transactions, so emails and webhook "
            "calls are sent inside the request that caused them (a slow mail server slows it).",
            hint="Add 'OPTIONS': {'transaction_mode': 'IMMEDIATE'} to DATABASES['default'] "
            "to send them on a background thread, or use OUTBOX DELIVERY 'worker'.",
            id="escalated.W004",
        )
    ]


@register(Tags.urls)
def check_route_prefix(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """ROUTE_PREFIX must name where the host mounted ``escalated.urls``: the websocket route
    and the links in emails are built from it, the HTTP routes from the URLconf."""
    if setting_problems({"ROUTE_PREFIX": escalated_settings.ROUTE_PREFIX}):
        return []  # E001 already says the value is wrong
    prefix = escalated_settings.ROUTE_PREFIX.strip("/")
    expected = f"/{prefix}/graphql/" if prefix else "/graphql/"
    try:
        mounted = reverse("escalated:graphql")
    except NoReverseMatch:
        return [
            Warning(
                "Escalated's URLs are not mounted: the URLconf has no 'escalated' namespace.",
                hint=f"Add path({prefix + '/' if prefix else ''!r}, include('escalated.urls')) "
                "to your urlpatterns.",
                id="escalated.W003",
            )
        ]
    if mounted == expected:
        return []
    return [
        Error(
            f"ESCALATED['ROUTE_PREFIX'] is {escalated_settings.ROUTE_PREFIX!r}, but the GraphQL "
            f"endpoint is mounted at {mounted!r}: websockets would be served at {expected!r} and "
            "links in emails would point there too.",
            hint="Make ROUTE_PREFIX the path you include('escalated.urls') under, e.g. "
            f"{mounted.removesuffix('graphql/').strip('/')!r}.",
            id="escalated.E003",
        )
    ]


# --- inbound email ------------------------------------------------------------------------------


@register()
def check_inbound_email(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Inbound email that is switched on must have what its adapter needs to authenticate."""
    if setting_problems(getattr(settings, "ESCALATED", {})):
        return []  # E001 already names the bad values
    return [
        Error(problem, hint="See 'Inbound email' in Escalated's README.", id="escalated.E005")
        for problem in inbound_email_problems()
    ]


# What runs when the app loads (no URLconf yet), and what is added once it can be imported.
AT_LOAD: tuple[Callable[..., list[CheckMessage]], ...] = (
    check_escalated_settings,
    check_content_sniffing,
    check_hosting_mode,
    check_channel_layers,
    check_background_delivery,
    check_inbound_email,
)
WITH_URLS = (check_route_prefix,)


def stop_on_errors(checks: Iterable[Callable[..., list[CheckMessage]]]) -> None:
    """Run ``checks`` outside ``manage.py``: log their warnings and raise on their errors,
    each line as ``manage.py check`` prints it (silenced checks stay silent)."""
    if _a_management_command():
        return  # the command runs the same checks itself and prints them its own way
    messages = [message for check in checks for message in check() if not message.is_silenced()]
    for message in messages:
        if not message.is_serious():
            logger.warning("%s", message)
    errors = [str(message) for message in messages if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "Escalated cannot start; the system check found:\n" + "\n".join(errors)
        )


def _a_management_command() -> bool:
    """Whether this process is ``manage.py``/``django-admin``, whose commands run the system
    checks themselves (and ``check`` should print them, not a traceback)."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return program in {"manage.py", "django-admin"} or (
        program == "__main__.py" and Path(sys.argv[0]).parent.name == "django"
    )
