"""Webhooks: the endpoints admins register, and the signed calls made to them.

Every webhook event goes to each active endpoint subscribed to it and to ``WEBHOOK_URL``. The
body is JSON::

    {"event": "reply.created", "deliveryId": "<idempotency key>", "timestamp": "<ISO 8601>",
     "actor": "Alan Agent", "changes": {"before": {...}, "after": {...}},
     "ticket": {... as the GraphQL API shapes a Ticket ...},
     "reply": {... for reply.created and note.created ...}}

signed as described in :mod:`escalated.signatures`, and sent through :mod:`escalated.safe_http`.
The ticket is shaped by running a GraphQL query against the schema (the GraphQL layer registers
the function at start-up, see ``apps.py``), so a webhook shows a ticket exactly as the API does.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.module_loading import import_string

from escalated import __version__
from escalated.access import require_admin
from escalated.conf import escalated_settings
from escalated.errors import ErrorCode, Problem, collect
from escalated.events import TicketEvent
from escalated.models import Delivery, DeliveryKind, Webhook
from escalated.safe_http import Response, UnsafeTarget, check_url, post
from escalated.services import outbox
from escalated.services.common import UNSET, Unset
from escalated.signatures import HEADER, sign

# The events an endpoint can subscribe to.
WEBHOOK_EVENTS = (
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.unassigned",
    "ticket.priority_changed",
    "ticket.department_changed",
    "ticket.tags_changed",
    "reply.created",
    "note.created",
    "ticket.rated",
    "ticket.notified",
    "sla.warning",
    "sla.breached",
)

MIN_SECRET_LENGTH = 16

_shaper: str | None = None


def use_ticket_shaper(path: str) -> None:
    """Name the function ``(ticket_id=, reply_id=) -> {"ticket": …, "reply": …}`` that shapes
    webhook bodies. The GraphQL layer registers its own at start-up; the domain does not import
    the API."""
    global _shaper
    _shaper = path


def require_https() -> bool:
    configured = escalated_settings.WEBHOOK_REQUIRE_HTTPS
    return configured if configured is not None else not settings.DEBUG


def allow_private() -> bool:
    return bool(escalated_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS)


# --- endpoints --------------------------------------------------------------------------------


def _url_problems(url: str | None) -> list[Problem]:
    if not url or not url.strip():
        return [Problem("Give the endpoint's URL.", ErrorCode.REQUIRED, "url")]
    if len(url) > 500:
        return [Problem("The URL is longer than 500 characters.", ErrorCode.TOO_LONG, "url")]
    try:
        check_url(url, require_https=require_https(), allow_private=allow_private())
    except UnsafeTarget as error:
        return [Problem(str(error), ErrorCode.INVALID, "url")]
    return []


def _events_problems(names: list[str]) -> list[Problem]:
    unknown = sorted(set(names) - set(WEBHOOK_EVENTS))
    if unknown:
        return [
            Problem(
                f"Unknown events {', '.join(unknown)}; use any of {', '.join(WEBHOOK_EVENTS)}.",
                ErrorCode.INVALID,
                "events",
            )
        ]
    return []


def _secret_problems(secret: str) -> list[Problem]:
    if len(secret) < MIN_SECRET_LENGTH:
        return [
            Problem(
                f"The secret must be at least {MIN_SECRET_LENGTH} characters long.",
                ErrorCode.INVALID,
                "secret",
            )
        ]
    if len(secret) > 128:
        return [Problem("The secret is longer than 128 characters.", ErrorCode.TOO_LONG, "secret")]
    return []


def webhook_create(
    *,
    actor: Any,
    url: str | None,
    events: list[str] | None = None,
    secret: str | None = None,
    is_active: bool = True,
    description: str = "",
) -> Webhook:
    """Register an endpoint; without a secret, one is generated (read it from the result once)."""
    require_admin(actor)
    events = list(dict.fromkeys(events or []))
    secret = secret if secret else secrets.token_urlsafe(32)
    collect(
        [
            *_url_problems(url),
            *_events_problems(events),
            *_secret_problems(secret),
            *_description_problems(description),
        ]
    )
    return Webhook.objects.create(
        url=(url or "").strip(),
        events=events,
        secret=secret,
        is_active=is_active,
        description=description,
    )


def _description_problems(description: str | Unset) -> list[Problem]:
    if description is not UNSET and len(description) > 255:
        return [Problem("Keep it under 256 characters.", ErrorCode.TOO_LONG, "description")]
    return []


def webhook_update(
    *,
    actor: Any,
    webhook: Webhook,
    url: str | Unset = UNSET,
    events: list[str] | Unset = UNSET,
    secret: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    description: str | Unset = UNSET,
) -> Webhook:
    """Change an endpoint. Rows still waiting to be sent go to its new URL, with its new secret."""
    require_admin(actor)
    problems: list[Problem] = _description_problems(description)
    if url is not UNSET:
        problems += _url_problems(url)
        url = url.strip()
    if events is not UNSET:
        events = list(dict.fromkeys(events))
        problems += _events_problems(events)
    if secret is not UNSET:
        problems += _secret_problems(secret)
    collect(problems)
    values = {
        "url": url,
        "events": events,
        "secret": secret,
        "is_active": is_active,
        "description": description,
    }
    changed = [name for name, value in values.items() if value is not UNSET]
    for name in changed:
        setattr(webhook, name, values[name])
    if changed:
        webhook.save(update_fields=[*changed, "updated_at"])
    return webhook


def webhook_delete(*, actor: Any, webhook: Webhook) -> None:
    """Remove an endpoint and its delivery log; nothing more is sent to it."""
    require_admin(actor)
    webhook.delete()


# --- rows for an event ------------------------------------------------------------------------


def webhook_rows(
    event: TicketEvent,
    name: str,
    facts: dict[str, Any],
    *,
    endpoints: Iterable[Webhook] | None = None,
) -> list[Delivery]:
    """One row per active endpoint subscribed to ``name``, and one for WEBHOOK_URL.
    ``endpoints`` are the active endpoints when the caller has already read them."""
    if endpoints is None:
        endpoints = Webhook.objects.filter(is_active=True)
    targets: list[tuple[Webhook | None, str]] = [
        (hook, hook.url) for hook in endpoints if hook.wants(name)
    ]
    if escalated_settings.WEBHOOK_URL:
        targets.append((None, escalated_settings.WEBHOOK_URL))
    return [
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event=name,
            ticket=event.ticket,
            webhook=hook,
            recipient=url,
            payload=facts,
        )
        for hook, url in targets
    ]


# --- building and sending a call --------------------------------------------------------------


def webhook_build(row: Delivery) -> outbox.Content:
    if row.ticket_id is None:
        raise outbox.DeliveryError("The ticket no longer exists.", permanent=True)
    if _shaper is None:
        raise outbox.DeliveryError("No ticket shaper is registered (is the app ready?).")
    payload = row.payload
    shaped = import_string(_shaper)(ticket_id=row.ticket_id, reply_id=payload.get("reply_id"))
    if shaped.get("ticket") is None:
        raise outbox.DeliveryError("The ticket no longer exists.", permanent=True)
    body = {
        "event": row.event,
        "deliveryId": row.idempotency_key,
        "timestamp": row.created_at,
        "actor": payload.get("actor", ""),
        "changes": {"before": payload.get("before", {}), "after": payload.get("after", {})},
        **shaped,
    }
    return {"body": json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True)}


def webhook_send(row: Delivery, content: outbox.Content) -> int:
    hook = row.webhook
    if hook is not None and not hook.is_active:
        raise outbox.DeliveryError("The endpoint was deactivated.", permanent=True)
    body = content["body"].encode("utf-8")
    secret = hook.secret if hook is not None else escalated_settings.WEBHOOK_SECRET
    headers = {"X-Escalated-Event": row.event, "X-Escalated-Delivery": row.idempotency_key}
    if secret:
        headers[HEADER] = sign(secret, body)
    return post_json(hook.url if hook is not None else row.recipient, body, headers)


def post_json_answer(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST a JSON body under the webhook rules (https, no private networks, the timeout) and
    return the answer, whatever its status. A URL the rules refuse is a permanent
    :class:`~escalated.services.outbox.DeliveryError`, a network failure a temporary one."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"escalated-django/{__version__}",
        **headers,
    }
    try:
        return post(
            url,
            body,
            headers,
            timeout=escalated_settings.WEBHOOK_TIMEOUT_SECONDS,
            require_https=require_https(),
            allow_private=allow_private(),
        )
    except UnsafeTarget as error:
        raise outbox.DeliveryError(f"Refused: {error}", permanent=True) from error
    except OSError as error:
        raise outbox.DeliveryError(f"{type(error).__name__}: {error}") from error


def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    gives_up: Callable[[int], bool] = lambda status: False,
) -> int:
    """POST a JSON body for the outbox (see :func:`post_json_answer`); a 2xx is delivered. Any
    other answer is a failed attempt, retried unless ``gives_up(status)`` says retrying cannot
    help."""
    response = post_json_answer(url, body, headers)
    if 200 <= response.status < 300:
        return response.status
    excerpt = response.body[:300].decode("utf-8", "replace")
    raise outbox.DeliveryError(
        f"HTTP {response.status}: {excerpt}",
        status_code=response.status,
        permanent=gives_up(response.status),
    )


WEBHOOK = outbox.Channel(build=webhook_build, send=webhook_send)
