"""``POST …/hub/api/v1/events``: a site pushes one event.

Answers:

* 200 ``{"status": "applied"}``, or ``"duplicate"`` for an event_id applied before (a retry);
* 401 for a missing, wrong or revoked key; 400 for a body that is not an event;
* 409 ``{"status": "out_of_order", "expected": n}`` when the event's ``payload.sequence`` is
  past the next one the ticket expects: its predecessor has not arrived. Retryable: the site
  sends the predecessor, then this again;
* 422 for an event that can never apply (a sequence number already used by another event, a
  change the services refuse).

A site's key reaches only that site's tickets: tickets are found by (site, reference), so a
reference of another site's ticket names nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from escalated.access import ParticipantActor, SystemActor
from escalated.errors import DomainError, NotAllowed
from escalated.hosted import wire
from escalated.models import Site, Ticket
from escalated.services import cloud_viewers, sites, sync
from escalated.services import tickets as service


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("status", ""))
        self.status = status
        self.body = body


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> HttpResponse:
    if not sites.hub_enabled():
        return JsonResponse({"status": "not_a_hub"}, status=404)
    site = sites.site_authenticate(request.headers.get("Authorization"))
    if site is None:
        return JsonResponse({"status": "unauthorized"}, status=401)
    try:
        data = wire.parse(request.body)
    except wire.BadEnvelope as error:
        return JsonResponse({"status": "bad_event", "message": str(error)}, status=400)
    try:
        outcome = receive(site, data)
    except Refused as refusal:
        return JsonResponse(refusal.body, status=refusal.status)
    sites.site_seen(site)
    return JsonResponse({"status": outcome})


def source_of(site: Site) -> str:
    return f"site:{site.pk}"


def site_actor(site: Site, payload: dict[str, Any]) -> SystemActor:
    name = str(payload.get("actor", {}).get("name") or "")
    return SystemActor(f"site:{site.slug}:{name}" if name else f"site:{site.slug}")


def receive(site: Site, data: dict[str, Any]) -> str:
    """Apply one event in one transaction; "applied" or "duplicate", else :class:`Refused`."""
    source = source_of(site)
    if sync.is_received(source=source, event_id=data["event_id"]):
        return "duplicate"
    try:
        with transaction.atomic(), wire.applying_remote():
            _apply(site, data)
    except sync.AlreadyApplied:
        return "duplicate"
    except IntegrityError as error:  # a twin created the ticket first: its order decides
        raise Refused(409, {"status": "conflict", "message": str(error)}) from error
    except (DomainError, NotAllowed) as error:
        raise Refused(422, {"status": "refused", "message": str(error)}) from error
    return "applied"


def _apply(site: Site, data: dict[str, Any]) -> None:
    payload = data["payload"]
    reference = payload["ticket_reference"]
    ticket = Ticket.objects.select_for_update().filter(site=site, site_reference=reference).first()
    state = sync.state_for(ticket)
    expected = (state.sequence if state is not None else 0) + 1
    sequence = payload.get("sequence") or expected
    if sequence > expected:
        raise Refused(409, {"status": "out_of_order", "expected": expected})
    if sequence < expected:
        raise Refused(422, {"status": "sequence_used", "expected": expected})
    at = wire.occurred_at(data)
    actor = site_actor(site, payload)
    if ticket is None:
        if data["event"] != "ticket.created":
            raise Refused(409, {"status": "out_of_order", "expected": 1})
        ticket = _create(site, data, actor)
        state = sync.state_for(ticket)
    assert state is not None
    sync.event_receive(
        source=source_of(site),
        event_id=data["event_id"],
        event=data["event"],
        occurred_at=at,
        ticket=ticket,
        sequence=sequence,
    )
    author: Any = actor
    remote = payload.get("actor", {})
    remote_id = str(remote.get("id") or "")
    if not remote.get("staff") and remote_id.startswith(wire.PARTICIPANT_PREFIX):
        # Someone copied on the site's ticket: a participant of this ticket here too, on the
        # site's word (the event is signed), with no account and no rights beyond replying.
        email = remote_id.removeprefix(wire.PARTICIPANT_PREFIX)
        name = str(remote.get("name") or email)
        author = ParticipantActor(ticket_id=ticket.pk, participant_id=None, name=name, email=email)
    elif not remote.get("staff") and remote_id:
        author = sync.site_person(site=site, remote=remote)
    if data["event"] == "ticket.created":
        # The new ticket is the snapshot: its fields' clocks start at the event's time.
        data = {**data, "event": "ticket.updated"}
        author = actor
    ticket = wire.apply_change(
        ticket=ticket, state=state, data=data, author=author, actor=actor, wins_ties=True
    )
    if "assignee" in payload:
        ticket = _assign(site, ticket, payload["assignee"], actor)
    state.sequence = sequence
    sync.state_save(state)


def _assign(site: Site, ticket: Ticket, remote: Any, actor: SystemActor) -> Ticket:
    """The site's word on who works the ticket (an export's last event): one of the site's
    agents, by their site user id, or nobody."""
    if remote is None:
        assignee = None
    elif isinstance(remote, dict) and str(remote.get("id") or ""):
        assignee = cloud_viewers.site_viewer(
            site=site,
            sub=str(remote["id"])[:120],
            name=str(remote.get("name") or ""),
            email=str(remote.get("email") or ""),
            role="agent",
        )
    else:
        raise Refused(422, {"status": "refused", "message": "The assignee names nobody."})
    if ticket.assignee_id == (assignee.pk if assignee is not None else None):
        return ticket
    return service.ticket_assign(ticket=ticket, actor=actor, assignee=assignee)


def _create(site: Site, data: dict[str, Any], actor: SystemActor) -> Ticket:
    snapshot = data["payload"]["ticket"]
    requester = sync.site_person(site=site, remote=snapshot.get("requester") or {})
    ticket = service.ticket_create(
        actor=actor,
        subject=snapshot.get("subject"),
        description=snapshot.get("description", ""),
        priority=snapshot.get("priority"),
        ticket_type=snapshot.get("ticket_type"),
        channel=snapshot.get("channel") or "web",
        department=site.department,
        requester=requester,
        attachments=wire.incoming_files(data["payload"]),
    )
    return sync.ticket_site_link(
        ticket=ticket, site=site, reference=data["payload"]["ticket_reference"]
    )
