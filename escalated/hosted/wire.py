"""What both ends of a sync share: event names, the envelope, the HTTP call, and applying the
other side's change through the services.

The envelope (the wire format of the product's hosted sites)::

    {"event": "reply.created", "event_id": "<32 hex>", "timestamp": "<ISO 8601, microseconds>",
     "payload": {
        "ticket_reference": "ESC-00042",   # the ticket's reference on the site
        "sequence": 7,                     # its position in the ticket's stream, from 1
        "ticket": {"subject", "description", "status", "priority", "ticket_type", "channel",
                   "tags": [slug, ...], "requester": {"id", "name", "email"}, ...},
        "changed": ["status"],            # synced fields the event changed
        "tags_added": [{"slug", "name"}], "tags_removed": [{"slug", "name"}],
        "actor": {"id", "name", "staff"},  # id "participant:<email>": someone copied in
        "reply": {"body", "internal"},    # reply.created and note.created
        "attachments": [{"filename", "content_type", "size", "sha256",
                         "content_base64"}],  # the files of the reply (or of the opening
                                              # message, on ticket.created); content_base64
                                              # is null past SYNC_ATTACHMENT_MAX_KB
        "changes": {"before": {...}, "after": {...}}}}  # the activity row's record

``event_id`` and ``timestamp`` are fixed when the event is recorded: every retry sends the same
bytes. ``sequence`` counts a ticket's events per direction (site to hub, hub to site), so a
receiver knows an event's predecessor without asking.

Convergence: each synced field (``subject``, ``status``, ``priority``, each ``tag:<slug>``) has
a clock per ticket on each side (:class:`escalated.models.SyncState`), the time of its last
change. A change from the other side applies only if it happened later than the field's clock;
on a tie the site's change wins. Replies and notes always apply (deduplicated by event_id).
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from escalated import events
from escalated.access import ParticipantActor, SystemActor, is_staff
from escalated.conf import escalated_settings
from escalated.errors import DomainError
from escalated.models import Attachment, Delivery, GuestAccess, Status, SyncState, Tag, Ticket
from escalated.services import outbox, sync
from escalated.services import tickets as service
from escalated.services.attachments import attachment_open, attachments_check
from escalated.services.organisation import tag_create
from escalated.services.references import next_number
from escalated.services.webhooks import post_json

SYNCED_FIELDS = ("subject", "status", "priority")

logger = logging.getLogger(__name__)

_applying: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "escalated_applying_remote", default=False
)


@contextmanager
def applying_remote() -> Iterator[None]:
    """Changes made inside come from the other side: they are not sent back to it."""
    token = _applying.set(True)
    try:
        yield
    finally:
        _applying.reset(token)


def is_applying() -> bool:
    return _applying.get()


# --- names ------------------------------------------------------------------------------------


def _tags(event: Any) -> str:
    return "ticket.tags_added" if event.added else "ticket.tags_removed"


_NAMES: dict[type[events.TicketEvent], str | Callable[[Any], str]] = {
    events.TicketCreated: "ticket.created",
    events.TicketUpdated: "ticket.updated",
    events.TicketStatusChanged: "ticket.status_changed",
    events.TicketAssigned: lambda e: "ticket.assigned" if e.agent else "ticket.unassigned",
    events.TicketPriorityChanged: "ticket.priority_changed",
    events.TicketDepartmentChanged: "ticket.department_changed",
    events.TicketTagsChanged: _tags,
    events.ReplyAdded: lambda e: "note.created" if e.reply.is_internal_note else "reply.created",
    events.NotePinned: lambda e: "note.pinned" if e.pinned else "note.unpinned",
    events.TicketFollowChanged: lambda e: "ticket.followed" if e.following else "ticket.unfollowed",
    events.GuestLinkRotated: "guest.link_rotated",
    events.GuestTicketClaimed: "guest.claimed",
    events.TicketNotified: "ticket.notified",
    events.TicketRated: "ticket.rated",
    events.SlaWarning: "sla.warning",
    events.SlaBreached: "sla.breached",
}


def event_name(event: events.TicketEvent) -> str:
    for kind in type(event).__mro__:
        name = _NAMES.get(kind)
        if name is not None:
            return name if isinstance(name, str) else name(event)
    return f"ticket.{event.verb}"


# --- the envelope -----------------------------------------------------------------------------


def _requester(ticket: Ticket) -> dict[str, Any]:
    user = ticket.requester
    if user is not None:
        return {"id": str(user.pk), "name": events.display_name(user), "email": user.email}
    guest = GuestAccess.objects.filter(ticket_id=ticket.pk).first()
    if guest is not None:
        return {"id": f"guest:{guest.email}", "name": guest.name, "email": guest.email}
    return {"id": None, "name": "", "email": ""}


PARTICIPANT_PREFIX = "participant:"


def _actor(actor: Any) -> dict[str, Any]:
    if isinstance(actor, ParticipantActor):
        # Not the person behind any account on the other side: the receiver makes a participant
        # of that one ticket (escalated.hub.receive), who may reply there and nothing else.
        name = actor.name or actor.email
        return {"id": f"{PARTICIPANT_PREFIX}{actor.email}", "name": name, "staff": False}
    user = events.person(actor)
    if user is not None:
        return {"id": str(user.pk), "name": events.display_name(user), "staff": is_staff(user)}
    label = events.actor_label(actor)
    guest = getattr(actor, "email", None) if label.startswith("guest:") else None
    return {"id": f"guest:{guest}" if guest else None, "name": label, "staff": guest is None}


def changed_fields(event: events.TicketEvent) -> list[str]:
    if isinstance(event, events.TicketCreated):
        return list(SYNCED_FIELDS)
    if isinstance(event, events.TicketUpdated):
        return [name for name in event.changes if name in SYNCED_FIELDS]
    if isinstance(event, events.TicketStatusChanged):
        return ["status"]
    if isinstance(event, events.ReplyAdded) and event.status_change:
        return ["status"]
    if isinstance(event, events.TicketPriorityChanged):
        return ["priority"]
    return []


def _tag_labels(tags: Any) -> list[dict[str, str]]:
    return [{"slug": tag.slug, "name": tag.name} for tag in tags]


def envelope(
    event: events.TicketEvent,
    *,
    reference: str,
    sequence: int | None,
    at: datetime,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The event as the other side receives it, fixed now (inside the change's transaction).

    ``event_id`` is new and random unless given (an export derives it from the rows it sends);
    without a ``sequence`` the receiver takes the event as the next of the ticket's stream."""
    ticket = event.ticket
    # Sorted here, so tags an export prefetched are not read again for each event.
    tags = sorted(ticket.tags.all(), key=lambda tag: tag.slug)
    added = _tag_labels(tags if isinstance(event, events.TicketCreated) else ())
    removed: list[dict[str, str]] = []
    if isinstance(event, events.TicketTagsChanged):
        added, removed = _tag_labels(event.added), _tag_labels(event.removed)
    before, after = event.change()
    payload: dict[str, Any] = {
        "ticket_reference": reference,
        "sequence": sequence,
        "ticket": {
            "subject": ticket.subject,
            "description": ticket.description,
            "status": ticket.status,
            "priority": ticket.priority,
            "ticket_type": ticket.ticket_type,
            "channel": ticket.channel,
            "tags": [tag.slug for tag in tags],
            "requester": _requester(ticket),
            "created_at": ticket.created_at,
        },
        "changed": changed_fields(event),
        "tags_added": added,
        "tags_removed": removed,
        "actor": _actor(event.actor),
        "changes": {"before": before, "after": after},
    }
    if sequence is None:
        del payload["sequence"]
    reply = getattr(event, "reply", None)
    if reply is not None:
        payload["reply"] = {"body": reply.body, "internal": reply.is_internal_note}
    files = getattr(event, "attachments", ())
    if files and isinstance(event, events.TicketCreated | events.ReplyAdded):
        payload["attachments"] = [attachment_entry(file) for file in files]
    body = {
        "event": event_name(event),
        "event_id": event_id or uuid.uuid4().hex,
        "timestamp": at.isoformat(),
        "payload": payload,
    }
    # Through JSON once, so what is stored is exactly what is sent.
    loaded: dict[str, Any] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return loaded


def attachment_entry(attachment: Attachment) -> dict[str, Any]:
    """A stored file as an event carries it: its bytes in base64 up to SYNC_ATTACHMENT_MAX_KB
    (fixed in the row like the rest of the envelope, so a retry sends the same bytes), only
    what it is beyond that."""
    entry: dict[str, Any] = {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": None,
        "content_base64": None,
    }
    if attachment.size > escalated_settings.SYNC_ATTACHMENT_MAX_KB * 1024:
        return entry
    with attachment_open(attachment) as handle:
        data = handle.read()
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    entry["content_base64"] = base64.b64encode(data).decode("ascii")
    return entry


def incoming_files(payload: dict[str, Any]) -> list[ContentFile[bytes]]:
    """The files an event carries that this side accepts: the bytes came whole (size and
    sha256 agree) and pass this side's own attachment limits, each judged alone. A file left out
    (too large to carry, refused here) never stops the reply or ticket it came with."""
    files: list[ContentFile[bytes]] = []
    entries = payload.get("attachments")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("content_base64"), str):
            continue
        try:
            data = base64.b64decode(entry["content_base64"], validate=True)
        except ValueError:
            continue
        if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get(
            "sha256"
        ):
            continue
        upload = ContentFile(data, name=str(entry.get("filename") or "attachment"))
        try:
            attachments_check([upload])
        except DomainError as refusal:
            logger.warning("A synced file was left out: %s", refusal)
            continue
        files.append(upload)
    return files[: escalated_settings.MAX_ATTACHMENTS]


def clock_keys(payload: dict[str, Any]) -> list[str]:
    """The clocks an event moves: its changed fields and the tags it added or removed."""
    tags = [*payload.get("tags_added", ()), *payload.get("tags_removed", ())]
    return [*payload.get("changed", ()), *(f"tag:{tag['slug']}" for tag in tags)]


def build(row: Any) -> outbox.Content:
    return {"body": json.dumps(row.payload, sort_keys=True)}


# --- sending ----------------------------------------------------------------------------------

# Answers that may succeed later: the peer is busy, not ready, or missing a predecessor.
RETRYABLE = frozenset({408, 409, 425, 429})


def can_never_succeed(status: int) -> bool:
    """A 5xx or a RETRYABLE answer is retried; any other answer (a wrong key, a malformed
    event) can never succeed and fails the delivery at once."""
    return status < 500 and status not in RETRYABLE


def send(url: str, body: bytes, headers: dict[str, str]) -> int:
    return post_json(url, body, headers, gives_up=can_never_succeed)


def row(
    event: events.TicketEvent, *, kind: str, reference: str, counter: str, recipient: str
) -> Delivery:
    """The outbox row carrying ``event`` to the other side: the envelope fixed now, the next
    number of the ticket's stream (``counter``), and the clocks of what it changed moved here."""
    ticket = event.ticket
    sequence = next_number(counter)
    body = envelope(event, reference=reference, sequence=sequence, at=timezone.now())
    sync.clocks_touch(ticket, clock_keys(body["payload"]), body["timestamp"])
    return Delivery(
        kind=kind,
        event=body["event"],
        ticket=ticket,
        recipient=recipient,
        sequence=sequence,
        idempotency_key=body["event_id"],
        payload=body,
    )


# --- receiving --------------------------------------------------------------------------------


class BadEnvelope(ValueError):
    """The body is not an event this side can read."""


def parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadEnvelope("The body is not JSON.") from error
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("event"), str)
        and isinstance(data.get("event_id"), str)
        and 0 < len(data["event_id"]) <= 64
        and isinstance(data.get("payload"), dict)
        and isinstance(data["payload"].get("ticket_reference"), str)
        and isinstance(data["payload"].get("ticket"), dict)
        and parse_datetime(str(data.get("timestamp", ""))) is not None
    )
    if not ok:
        raise BadEnvelope("An event needs event, event_id, timestamp and payload.ticket_reference.")
    sequence = data["payload"].get("sequence")
    if sequence is not None and (not isinstance(sequence, int) or sequence < 1):
        raise BadEnvelope("payload.sequence must be a positive integer.")
    return data


def occurred_at(data: dict[str, Any]) -> datetime:
    at = parse_datetime(data["timestamp"])
    assert at is not None  # checked by parse()
    return at if timezone.is_aware(at) else timezone.make_aware(at, UTC)


def _later(clock: str | None, at: datetime, *, wins_ties: bool) -> bool:
    if clock is None:
        return True
    seen = parse_datetime(clock)
    if seen is None:
        return True
    return at > seen or (wins_ties and at == seen)


def _tag(slug: str, name: str) -> Tag:
    tag = Tag.objects.filter(slug=slug).first()
    return tag or tag_create(actor=SystemActor("sync"), name=name or slug, slug=slug)


def _set_field(ticket: Ticket, name: str, value: Any, actor: Any) -> Ticket:
    if name == "status":
        return service.ticket_status_change(
            ticket=ticket, actor=actor, status=value, follow_transitions=False
        )
    if name == "priority":
        return service.ticket_priority_change(ticket=ticket, actor=actor, priority=value)
    return service.ticket_update(ticket=ticket, actor=actor, subject=value)


def apply_change(
    *,
    ticket: Ticket,
    state: SyncState,
    data: dict[str, Any],
    author: Any,
    actor: Any,
    wins_ties: bool,
) -> Ticket:
    """Apply the other side's event to ``ticket`` through the services (inside the caller's
    transaction, under :func:`applying_remote`): its reply or note, then each field it changed
    that changed here earlier. ``author`` writes a reply; ``actor`` makes the other changes.
    The fields' clocks move in ``state``, which the caller saves."""
    payload, at = data["payload"], occurred_at(data)
    clocks = state.clocks
    reply = payload.get("reply")
    if data["event"] in ("reply.created", "note.created") and isinstance(reply, dict):
        ticket = _apply_reply(ticket, payload, reply, author, actor, clocks, at, wins_ties)
    moved: dict[str, str] = {}
    snapshot = payload["ticket"]
    for name in payload.get("changed", ()):
        if name in SYNCED_FIELDS and _later(clocks.get(name), at, wins_ties=wins_ties):
            # Often equal already (the status a reply moved here as it did there): then the
            # service would only lock the row again to change nothing.
            if getattr(ticket, name) != snapshot[name]:
                ticket = _set_field(ticket, name, snapshot[name], actor)
            moved[name] = data["timestamp"]
    for tag in payload.get("tags_added", ()):
        if _later(clocks.get(f"tag:{tag['slug']}"), at, wins_ties=wins_ties):
            ticket = service.ticket_tags_add(
                ticket=ticket, actor=actor, tags=[_tag(tag["slug"], tag["name"])]
            )
            moved[f"tag:{tag['slug']}"] = data["timestamp"]
    for tag in payload.get("tags_removed", ()):
        if _later(clocks.get(f"tag:{tag['slug']}"), at, wins_ties=wins_ties):
            found = Tag.objects.filter(slug=tag["slug"])
            ticket = service.ticket_tags_remove(ticket=ticket, actor=actor, tags=found)
            moved[f"tag:{tag['slug']}"] = data["timestamp"]
    state.clocks = {**clocks, **moved}
    return ticket


def _apply_reply(
    ticket: Ticket,
    payload: dict[str, Any],
    reply: dict[str, Any],
    author: Any,
    actor: Any,
    clocks: dict[str, str],
    at: datetime,
    wins_ties: bool,
) -> Ticket:
    """A reply is never lost: a ticket closed here meanwhile is reopened to take it. A status
    move the reply causes here, that the other side did not make or that a later change here
    overrides, is undone."""
    before = ticket.status
    body = str(reply.get("body", ""))
    files = incoming_files(payload)
    if reply.get("internal"):
        added = service.ticket_note_add(ticket=ticket, author=author, body=body, attachments=files)
    else:
        if ticket.status == Status.CLOSED:
            ticket = service.ticket_status_change(
                ticket=ticket, actor=actor, status=Status.REOPENED, follow_transitions=False
            )
        added = service.ticket_reply(ticket=ticket, author=author, body=body, attachments=files)
    ticket = added.ticket  # the service's locked copy, as it saved it
    keep_ours = "status" not in payload.get("changed", ()) or not _later(
        clocks.get("status"), at, wins_ties=wins_ties
    )
    if ticket.status != before and keep_ours:
        ticket = service.ticket_status_change(
            ticket=ticket, actor=actor, status=before, follow_transitions=False
        )
    return ticket
