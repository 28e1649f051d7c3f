"""``POST /<ROUTE_PREFIX>/cloud/webhook/``: the hub sends a change its agents made.

The call must carry ``X-Escalated-Signature: sha256=<HMAC-SHA256(HOSTED_SIGNING_SECRET, raw
body)>`` (checked in constant time before the body is read as JSON). Each event_id applies once:
a replayed or retried call answers 200 ``duplicate`` and changes nothing. The change is applied
through the services as the hub (``hub:<agent name>`` on the timeline), and is not pushed back.

Answers: 200 ``applied``/``duplicate``; 401 bad signature; 400 not an event; 404 not in synced
mode, or no such ticket; 422 a change the services refuse.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from escalated.access import SystemActor
from escalated.conf import escalated_settings
from escalated.errors import DomainError, NotAllowed
from escalated.hosted import signing, wire
from escalated.models import Ticket
from escalated.services import sync

SOURCE = "hub"


@csrf_exempt
@require_POST
def cloud_webhook(request: HttpRequest) -> HttpResponse:
    secret = escalated_settings.HOSTED_SIGNING_SECRET
    if escalated_settings.MODE != "synced" or not secret:
        return JsonResponse({"status": "not_synced"}, status=404)
    try:
        signing.verify(secret, request.body, request.headers.get(signing.HEADER))
    except signing.SignatureError as error:
        return JsonResponse({"status": "bad_signature", "message": str(error)}, status=401)
    try:
        data = wire.parse(request.body)
    except wire.BadEnvelope as error:
        return JsonResponse({"status": "bad_event", "message": str(error)}, status=400)
    if sync.is_received(source=SOURCE, event_id=data["event_id"]):
        return JsonResponse({"status": "duplicate"})
    try:
        with transaction.atomic(), wire.applying_remote():
            applied = _apply(data)
    except sync.AlreadyApplied:
        return JsonResponse({"status": "duplicate"})
    except (DomainError, NotAllowed) as error:
        return JsonResponse({"status": "refused", "message": str(error)}, status=422)
    if not applied:
        return JsonResponse({"status": "no_such_ticket"}, status=404)
    return JsonResponse({"status": "applied"})


def hub_actor(payload: dict[str, Any]) -> SystemActor:
    name = str(payload.get("actor", {}).get("name") or "")
    return SystemActor(f"hub:{name}" if name else "hub")


def _apply(data: dict[str, Any]) -> bool:
    payload = data["payload"]
    ticket = (
        Ticket.objects.select_for_update().filter(reference=payload["ticket_reference"]).first()
    )
    if ticket is None:
        return False
    sync.event_receive(
        source=SOURCE,
        event_id=data["event_id"],
        event=data["event"],
        occurred_at=wire.occurred_at(data),
        ticket=ticket,
        sequence=payload.get("sequence"),
    )
    actor = hub_actor(payload)
    state = sync.state_for(ticket)
    assert state is not None
    wire.apply_change(
        ticket=ticket, state=state, data=data, author=actor, actor=actor, wins_ties=False
    )
    sync.state_save(state)
    return True
