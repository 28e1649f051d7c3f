"""Moving a self-hosted site to the hub (before switching it to ``cloud`` mode): every ticket is
sent as the synced-mode events the hub would have received had the site been synced from the
start, in the same envelope (:mod:`escalated.hosted.wire`), to the same endpoint
(:mod:`escalated.hub.receive`). The hub has no import path of its own to keep.

A ticket's stream, in order:

1. ``ticket.created``: the ticket as it is now (subject, description, priority, type, channel,
   tags, requester, the names of its opening files), in the status it was opened in;
2. its replies and internal notes, and the status changes on its timeline, in the order they
   happened; each carries the status it left the ticket in (so the hub's own reply rules move
   the ticket as the site's did, with no back-and-forth);
3. ``ticket.updated``: subject, status, priority, tags and assignee as they are now (what the
   timeline does not replay: priority and subject edits, tag changes, assignments). The
   assignee is the site's agent by their site user id; the hub makes its person for them, an
   agent of the site, as their first viewer assertion in cloud mode would
   (:func:`escalated.services.cloud_viewers.site_viewer`).

Files travel as the synced events carry them (:func:`escalated.hosted.wire.attachment_entry`):
their bytes in base64 up to ``SYNC_ATTACHMENT_MAX_KB``, checked whole by the hub; a larger file
arrives as its name only.

Every event_id is derived from the site's rows (a UUID 5 of the ticket's reference and opening
time and the reply's or timeline row's id, or for step 3 the state sent), so a second run sends
the same ids, the hub answers ``duplicate`` for everything it has, and only what is new since
(a reply, a changed state) applies. The events carry no ``sequence``: the hub takes each as the
next of the ticket's stream, and the exporter sends one ticket's events one at a time, leaving
the rest of a ticket out at its first refusal, so the order holds. Nothing is written to the
site's database: resuming is running again.

What the hub does not take from an export: followers, the site's department and timestamps
(the hub's rows are dated when they arrive), files above ``SYNC_ATTACHMENT_MAX_KB``.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q

from escalated import events
from escalated.access import GuestActor, SystemActor, prime_department_ids
from escalated.hosted import push, wire
from escalated.models import Attachment, Reply, Status, Ticket, TicketActivity
from escalated.services.outbox import DeliveryError
from escalated.services.webhooks import post_json_answer

# Fixed for good: changing it would give every exported event a new id, and a re-run would
# send every reply a second time.
NAMESPACE = uuid.UUID("5d2f8f52-4a8e-4b0e-9b7e-0c1e3f6a2d71")
EXPORTER = SystemActor("export")
REPLY_VERBS = ("replied", "note_added")


class ExportAborted(Exception):
    """Nothing more can be sent this run (the hub is unreachable, refuses the key, or is not a
    hub): the run stops; what was sent stays sent, and the next run continues."""


class EventRefused(Exception):
    """The hub refused one event: its ticket's later events are left out this run."""


# --- the events of one ticket -----------------------------------------------------------------


def event_id(ticket: Ticket, *parts: object) -> str:
    seed = ":".join([ticket.reference, ticket.created_at.isoformat(), *map(str, parts)])
    return uuid.uuid5(NAMESPACE, seed).hex


def tickets_to_export() -> Any:
    """The site's own tickets (not ones a hub keeps for its sites), with what their events
    read, in the order they were opened."""
    timeline = TicketActivity.objects.filter(
        Q(after__has_key="status") | Q(before__has_key="tags_removed")
    ).select_related("actor")
    return (
        Ticket.objects.filter(site__isnull=True)
        .select_related("requester", "assignee")
        .prefetch_related(
            "tags",
            Prefetch(
                "replies",
                queryset=Reply.objects.select_related("author")
                .prefetch_related("attachments")
                .order_by("created_at", "id"),
                to_attr="export_replies",
            ),
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(reply__isnull=True).order_by("id"),
                to_attr="export_files",
            ),
            Prefetch("activities", queryset=timeline.order_by("id"), to_attr="export_timeline"),
        )
        .order_by("pk")
    )


def _as_of(ticket: Ticket, status: str) -> Ticket:
    """The ticket as an event saw it: what is sent of it now, in the status it had then."""
    then = copy.copy(ticket)
    then.status = status
    return then


def _actor(user: Any, label: str, ticket: Ticket) -> Any:
    """Who a reply or timeline row names, as the wire's actor reads them."""
    if user is not None:
        return user
    if label.startswith("guest:"):
        return GuestActor(ticket_id=ticket.pk, access_id=0, name="", email=label[len("guest:") :])
    return SystemActor(label or EXPORTER.label)


def _envelope(event: events.TicketEvent, ticket: Ticket, key: tuple[object, ...], at: Any) -> Any:
    return wire.envelope(
        event, reference=ticket.reference, sequence=None, at=at, event_id=event_id(ticket, *key)
    )


def ticket_events(ticket: Ticket) -> list[dict[str, Any]]:
    """The envelopes of ``ticket`` (loaded by :func:`tickets_to_export`), in sending order."""
    timeline: list[TicketActivity] = ticket.export_timeline  # type: ignore[attr-defined]
    opening = next((row for row in timeline if row.verb == "created"), None)
    status = str((opening.after.get("status") if opening else None) or Status.OPEN)
    opener = (
        _actor(opening.actor, opening.actor_label, ticket)
        if opening
        else (ticket.requester or EXPORTER)
    )
    created = events.TicketCreated(
        ticket=_as_of(ticket, status),
        actor=opener,
        attachments=tuple(ticket.export_files),  # type: ignore[attr-defined]
    )
    bodies = [_envelope(created, ticket, ("created",), ticket.created_at)]

    moves: dict[Any, TicketActivity] = {}
    steps: list[tuple[Any, int, int, Reply | TicketActivity]] = []
    for row in timeline:
        if "status" not in row.after or row.verb == "created":
            continue
        if "reply_id" in row.after:
            moves[row.after["reply_id"]] = row
        else:
            steps.append((row.created_at, 1, row.pk, row))
    replies: list[Reply] = ticket.export_replies  # type: ignore[attr-defined]
    steps += [(reply.created_at, 0, reply.pk, reply) for reply in replies]
    steps.sort(key=lambda step: step[:3])

    last = ticket.created_at
    for at, _kind, _pk, item in steps:
        last = max(last, at)
        if isinstance(item, Reply):
            move = moves.get(item.pk)
            if move is not None:
                status = str(move.after["status"])
            event: events.TicketEvent = events.ReplyAdded(
                ticket=_as_of(ticket, status),
                actor=_actor(item.author, item.author_label, ticket),
                reply=item,
                status_change=(str(move.before.get("status")), status) if move else None,
                attachments=tuple(item.attachments.all()),
            )
            bodies.append(_envelope(event, ticket, ("reply", item.pk), at))
        else:
            old, status = str(item.before.get("status")), str(item.after["status"])
            event = events.TicketStatusChanged(
                ticket=_as_of(ticket, status),
                actor=_actor(item.actor, item.actor_label, ticket),
                old=old,
                new=status,
                reason=str(item.after.get("reason", "")),
            )
            bodies.append(_envelope(event, ticket, ("activity", item.pk), at))
    bodies.append(_state(ticket, timeline, max(last, ticket.updated_at)))
    return bodies


def _state(ticket: Ticket, timeline: list[TicketActivity], at: Any) -> dict[str, Any]:
    """Step 3: the synced fields and tags as they are now. Its id is the state it sends, so an
    unchanged ticket sends the same event again (a duplicate) and a changed one a new one."""
    tags = sorted(ticket.tags.all(), key=lambda tag: tag.slug)
    present = {tag.slug for tag in tags}
    removed = sorted(
        {slug for row in timeline for slug in row.before.get("tags_removed", ())} - present
    )
    now = {name: getattr(ticket, name) for name in wire.SYNCED_FIELDS}
    event = events.TicketUpdated(
        ticket=ticket, actor=EXPORTER, changes={name: (None, value) for name, value in now.items()}
    )
    assignee = _assignee(ticket)
    key = ("state", json.dumps([now, sorted(present), removed, assignee], sort_keys=True))
    body: dict[str, Any] = _envelope(event, ticket, key, at)
    body["payload"]["tags_added"] = [{"slug": tag.slug, "name": tag.name} for tag in tags]
    body["payload"]["tags_removed"] = [{"slug": slug, "name": slug} for slug in removed]
    body["payload"]["assignee"] = assignee
    return body


def _assignee(ticket: Ticket) -> dict[str, str] | None:
    """The site's agent the ticket is assigned to, as the hub will know them once the site is
    in cloud mode (the site's user id: the ``sub`` of their viewer assertions)."""
    agent = ticket.assignee
    if agent is None:
        return None
    return {"id": str(agent.pk), "name": events.display_name(agent), "email": agent.email or ""}


# --- sending ----------------------------------------------------------------------------------


@dataclass
class Hub:
    """Where the events go, and how hard to try each one."""

    url: str
    key: str
    retries: int = 3
    backoff_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def send(self, body: dict[str, Any]) -> str:
        """Send one event: ``"applied"`` or ``"duplicate"``; else :class:`EventRefused` (this
        ticket) or :class:`ExportAborted` (this run)."""
        data = json.dumps(body, sort_keys=True).encode("utf-8")
        headers = push.hub_headers(body["event"], self.key)
        problem, last_status = "", 0
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                answer = post_json_answer(self.url, data, headers)
            except DeliveryError as error:
                if error.permanent:
                    raise ExportAborted(f"The hub's address is refused: {error}") from error
                problem, last_status = f"the hub is unreachable ({error})", 0
                continue
            status, text = answer.status, answer.body[:300].decode("utf-8", "replace")
            if 200 <= status < 300:
                return "duplicate" if _status_of(answer.body) == "duplicate" else "applied"
            if status in (401, 403):
                raise ExportAborted(
                    f"The hub refused the site key (HTTP {status}): check HOSTED_API_KEY or "
                    "--key, and that the site is not revoked on the hub."
                )
            if status == 404:
                raise ExportAborted(
                    f"No hub answers at {self.url} (HTTP 404): check HOSTED_API_URL or --url "
                    "(the hub's …/hub/api/v1) and that the hub role is enabled there."
                )
            problem, last_status = f"HTTP {status}: {text}", status
            if not (status >= 500 or status in wire.RETRYABLE):
                raise EventRefused(problem)
        if 400 <= last_status < 500:  # still busy or out of order: this ticket only
            raise EventRefused(problem)
        raise ExportAborted(f"Gave up after {self.retries + 1} attempts: {problem}.")


def _status_of(body: bytes) -> str:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(data.get("status", "")) if isinstance(data, dict) else ""


@dataclass
class Report:
    """What a run did. ``exported``: tickets the hub took at least one new event of;
    ``present``: tickets the hub had in full already; ``failed``: references left unfinished."""

    tickets: int = 0
    exported: int = 0
    present: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    applied: int = 0
    duplicates: int = 0
    events: int = 0
    aborted: str = ""
    # The last ticket up to which every ticket is on the hub: ``after`` for a resumed run.
    done_through: str = ""


def _share_people(page: list[Ticket]) -> None:
    """One object per person across the page, their departments read at once: deciding who is
    staff (for each event's actor) then reads nothing again per reply or per ticket."""
    people: dict[Any, Any] = {}

    def shared(user: Any) -> Any:
        return None if user is None else people.setdefault(user.pk, user)

    for ticket in page:
        ticket.requester = shared(ticket.requester)
        for reply in ticket.export_replies:  # type: ignore[attr-defined]
            reply.author = shared(reply.author)
        for row in ticket.export_timeline:  # type: ignore[attr-defined]
            row.actor = shared(row.actor)
    prime_department_ids(people.values())


def batches(batch_size: int, limit: int | None, after: int = 0) -> Iterator[list[Ticket]]:
    """The tickets to export after the one with id ``after``, ``batch_size`` at a time (keyset
    pages by id), at most ``limit`` of them."""
    left = limit
    while left is None or left > 0:
        size = batch_size if left is None else min(batch_size, left)
        page = list(tickets_to_export().filter(pk__gt=after)[:size])
        if not page:
            return
        _share_people(page)
        yield page
        after = page[-1].pk
        if left is not None:
            left -= len(page)


def export(
    hub: Hub | None,
    *,
    batch_size: int = 100,
    limit: int | None = None,
    after: str | None = None,
    progress: Callable[[Report], None] = lambda report: None,
) -> Report:
    """Send every ticket's events (``hub=None``: a dry run, sending nothing), or those of the
    tickets opened after the one whose reference is ``after``. Stops at the first
    :class:`ExportAborted`, noting why in the report."""
    report = Report()
    start = 0
    if after:
        found = Ticket.objects.filter(reference=after, site__isnull=True).first()
        if found is None:
            raise ValueError(f"There is no ticket {after} on this site.")
        start = found.pk
    for page in batches(batch_size, limit, start):
        for ticket in page:
            bodies = ticket_events(ticket)
            report.tickets += 1
            report.events += len(bodies)
            if hub is None:
                continue
            try:
                outcomes = _send_ticket(hub, bodies, report)
            except EventRefused as refusal:
                report.failed[ticket.reference] = str(refusal)
                continue
            except ExportAborted as abort:
                report.failed[ticket.reference] = "not finished"
                report.aborted = str(abort)
                return report
            if "applied" in outcomes:
                report.exported += 1
            else:
                report.present += 1
            if not report.failed:
                report.done_through = ticket.reference
        progress(report)
    return report


def _send_ticket(hub: Hub, bodies: list[dict[str, Any]], report: Report) -> set[str]:
    outcomes = set()
    for body in bodies:
        outcome = hub.send(body)
        outcomes.add(outcome)
        if outcome == "applied":
            report.applied += 1
        else:
            report.duplicates += 1
    return outcomes
