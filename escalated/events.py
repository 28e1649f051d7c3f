"""Domain events and their fan-out: the one way anything leaves a change.

A service describes what it did as one event (one action) and calls :func:`record` inside its
transaction. From there:

* durable records are written in that same transaction, so they commit or vanish with the change:
  the activity row (exactly one per action), and the outbox rows of the emails and webhook calls
  it causes (sent after the commit, see :mod:`escalated.services.outbox`);
* everything else runs once, after the transaction commits: the Django signals and the ids
  live subscribers listen for (:mod:`escalated.realtime.publish`).

The handler tables at the bottom of this module are the whole fan-out, read top to bottom.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.dispatch import Signal
from django.utils import timezone

from escalated import signals
from escalated.access import GuestActor, ParticipantActor, SystemActor
from escalated.models import (
    Attachment,
    Department,
    Reply,
    SatisfactionRating,
    Status,
    Tag,
    Ticket,
    TicketActivity,
)
from escalated.realtime import publish as realtime
from escalated.services.common import ticket_save_with_batch
from escalated.services.sla import ticket_sla_recompute, tickets_sla_recompute

if TYPE_CHECKING:
    from escalated.access import Actor

logger = logging.getLogger(__name__)

Change = tuple[dict[str, Any], dict[str, Any]]
SignalCall = tuple[Signal, type, dict[str, Any]]


def person(actor: Any) -> Any:
    """The user behind an actor, or None for rules and commands."""
    if actor is None or isinstance(actor, SystemActor):
        return None
    if isinstance(actor, ParticipantActor):
        return actor.user
    return actor if getattr(actor, "is_authenticated", False) else None


def actor_label(actor: Any) -> str:
    """How an actor who is not a user is named on the timeline and on replies."""
    if isinstance(actor, ParticipantActor):
        return "" if actor.user is not None else actor.label
    return actor.label if isinstance(actor, SystemActor | GuestActor) else ""


def _attachment_names(attachments: tuple[Attachment, ...]) -> dict[str, Any]:
    return {"attachments": [a.filename for a in attachments]} if attachments else {}


def user_label(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": display_name(user)}


def display_name(user: Any) -> str:
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def _department_label(department: Department | None) -> dict[str, Any] | None:
    return None if department is None else {"id": department.pk, "name": department.name}


@dataclass(frozen=True, kw_only=True)
class TicketEvent:
    """Something that happened to one ticket, by one actor."""

    verb: ClassVar[str]
    ticket: Ticket
    actor: Actor

    @property
    def user(self) -> Any:
        return person(self.actor)

    def change(self) -> Change:
        """What the activity row records: (before, after)."""
        return {}, {}

    def signals(self) -> list[SignalCall]:
        return []


def _status_signals(event: TicketEvent, old: str, new: str, reason: str) -> list[SignalCall]:
    ticket, user = event.ticket, event.user
    calls: list[SignalCall] = [
        (
            signals.ticket_status_changed,
            Ticket,
            {"ticket": ticket, "user": user, "old_status": old, "new_status": new},
        )
    ]
    follow_up = {
        Status.RESOLVED: (signals.ticket_resolved, {}),
        Status.CLOSED: (signals.ticket_closed, {}),
        Status.REOPENED: (signals.ticket_reopened, {}),
        Status.ESCALATED: (signals.ticket_escalated, {"reason": reason}),
    }.get(Status(new))
    if follow_up is not None:
        signal, extra = follow_up
        calls.append((signal, Ticket, {"ticket": ticket, "user": user, **extra}))
    return calls


@dataclass(frozen=True, kw_only=True)
class TicketCreated(TicketEvent):
    verb = "created"
    attachments: tuple[Attachment, ...] = ()
    # The department's assignment mode, when auto-assignment chose the assignee.
    routed: str = ""

    def change(self) -> Change:
        t = self.ticket
        after: dict[str, Any] = {"status": t.status, "priority": t.priority, "subject": t.subject}
        if t.assignee_id is not None:
            after["assignee"] = user_label(t.assignee)
        if self.routed:
            after["routed"] = self.routed
        return {}, {**after, **_attachment_names(self.attachments)}

    def signals(self) -> list[SignalCall]:
        base = {"ticket": self.ticket, "user": self.user}
        calls: list[SignalCall] = [(signals.ticket_created, Ticket, base)]
        if self.ticket.assignee_id is not None:
            calls.append((signals.ticket_assigned, Ticket, {**base, "agent": self.ticket.assignee}))
        return calls


@dataclass(frozen=True, kw_only=True)
class TicketUpdated(TicketEvent):
    verb = "updated"
    changes: dict[str, tuple[Any, Any]]

    def change(self) -> Change:
        return (
            {name: old for name, (old, _new) in self.changes.items()},
            {name: new for name, (_old, new) in self.changes.items()},
        )

    def signals(self) -> list[SignalCall]:
        kwargs = {"ticket": self.ticket, "user": self.user, "changes": self.changes}
        return [(signals.ticket_updated, Ticket, kwargs)]


@dataclass(frozen=True, kw_only=True)
class TicketStatusChanged(TicketEvent):
    verb = "status_changed"
    old: str
    new: str
    reason: str = ""

    def change(self) -> Change:
        after: dict[str, Any] = {"status": self.new}
        if self.reason:
            after["reason"] = self.reason
        return {"status": self.old}, after

    def signals(self) -> list[SignalCall]:
        return _status_signals(self, self.old, self.new, self.reason)


@dataclass(frozen=True, kw_only=True)
class TicketAssigned(TicketEvent):
    """Assignment changed; ``agent`` is None when the ticket was unassigned."""

    verb = "assigned"
    previous: Any
    agent: Any

    def change(self) -> Change:
        return {"assignee": user_label(self.previous)}, {"assignee": user_label(self.agent)}

    def signals(self) -> list[SignalCall]:
        calls: list[SignalCall] = []
        base = {"ticket": self.ticket, "user": self.user}
        if self.previous is not None:
            calls.append(
                (signals.ticket_unassigned, Ticket, {**base, "previous_agent": self.previous})
            )
        if self.agent is not None:
            calls.append((signals.ticket_assigned, Ticket, {**base, "agent": self.agent}))
        return calls


@dataclass(frozen=True, kw_only=True)
class TicketPriorityChanged(TicketEvent):
    verb = "priority_changed"
    old: str
    new: str

    def change(self) -> Change:
        return {"priority": self.old}, {"priority": self.new}

    def signals(self) -> list[SignalCall]:
        kwargs = {
            "ticket": self.ticket,
            "user": self.user,
            "old_priority": self.old,
            "new_priority": self.new,
        }
        return [(signals.ticket_priority_changed, Ticket, kwargs)]


@dataclass(frozen=True, kw_only=True)
class TicketDepartmentChanged(TicketEvent):
    verb = "department_changed"
    old: Department | None
    new: Department | None

    def change(self) -> Change:
        return {"department": _department_label(self.old)}, {
            "department": _department_label(self.new)
        }

    def signals(self) -> list[SignalCall]:
        kwargs = {
            "ticket": self.ticket,
            "user": self.user,
            "old_department": self.old,
            "new_department": self.new,
        }
        return [(signals.department_changed, Ticket, kwargs)]


@dataclass(frozen=True, kw_only=True)
class TicketTagsChanged(TicketEvent):
    verb = "tags_changed"
    added: tuple[Tag, ...] = ()
    removed: tuple[Tag, ...] = ()

    def change(self) -> Change:
        before = {"tags_removed": [t.slug for t in self.removed]} if self.removed else {}
        after = {"tags_added": [t.slug for t in self.added]} if self.added else {}
        return before, after

    def signals(self) -> list[SignalCall]:
        base = {"ticket": self.ticket, "user": self.user}
        return [(signals.tag_added, Tag, {**base, "tag": tag}) for tag in self.added] + [
            (signals.tag_removed, Tag, {**base, "tag": tag}) for tag in self.removed
        ]


@dataclass(frozen=True, kw_only=True)
class ReplyAdded(TicketEvent):
    """A public reply or an internal note, with the status move it caused, if any."""

    reply: Reply
    status_change: tuple[str, str] | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def verb(self) -> str:  # type: ignore[override]
        return "note_added" if self.reply.is_internal_note else "replied"

    def change(self) -> Change:
        after: dict[str, Any] = {"reply_id": self.reply.pk, **_attachment_names(self.attachments)}
        before: dict[str, Any] = {}
        if self.status_change:
            before["status"], after["status"] = self.status_change
        return before, after

    def signals(self) -> list[SignalCall]:
        kwargs = {"reply": self.reply, "ticket": self.ticket, "user": self.user}
        signal = (
            signals.internal_note_added if self.reply.is_internal_note else signals.reply_created
        )
        calls: list[SignalCall] = [(signal, Reply, kwargs)]
        if self.status_change:
            calls += _status_signals(self, *self.status_change, reason="")
        return calls


@dataclass(frozen=True, kw_only=True)
class NotePinned(TicketEvent):
    reply: Reply
    pinned: bool

    @property
    def verb(self) -> str:  # type: ignore[override]
        return "note_pinned" if self.pinned else "note_unpinned"

    def change(self) -> Change:
        return {"reply_id": self.reply.pk, "pinned": not self.pinned}, {
            "reply_id": self.reply.pk,
            "pinned": self.pinned,
        }


@dataclass(frozen=True, kw_only=True)
class TicketFollowChanged(TicketEvent):
    following: bool

    @property
    def verb(self) -> str:  # type: ignore[override]
        return "followed" if self.following else "unfollowed"


# --- guests -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GuestTicketCreated(TicketCreated):
    """A guest opened a ticket; ``guest_link`` is their magic link, for the email only (never
    written to the timeline)."""

    guest_name: str
    guest_email: str
    guest_link: str = field(repr=False)

    def change(self) -> Change:
        before, after = super().change()
        return before, {**after, "guest": self.guest_email}

    def signals(self) -> list[SignalCall]:
        return [*super().signals(), _guest_link_signal(self)]


@dataclass(frozen=True, kw_only=True)
class GuestLinkRotated(TicketEvent):
    """Staff replaced a guest's token: earlier links stop working, a new one is sent."""

    verb = "guest_link_rotated"
    guest_name: str
    guest_email: str
    guest_link: str = field(repr=False)

    def change(self) -> Change:
        return {}, {"guest": self.guest_email}

    def signals(self) -> list[SignalCall]:
        return [_guest_link_signal(self)]


GuestLinkEvent = GuestTicketCreated | GuestLinkRotated


def _guest_link_signal(event: GuestLinkEvent) -> SignalCall:
    kwargs = {
        "ticket": event.ticket,
        "name": event.guest_name,
        "email": event.guest_email,
        "link": event.guest_link,
    }
    return (signals.guest_link_issued, Ticket, kwargs)


@dataclass(frozen=True, kw_only=True)
class GuestTicketClaimed(TicketEvent):
    """A signed-in user with the guest's verified email took the ticket into their account."""

    verb = "guest_claimed"
    guest_email: str

    def change(self) -> Change:
        return {"requester": None, "guest": self.guest_email}, {"requester": user_label(self.user)}

    def signals(self) -> list[SignalCall]:
        kwargs = {"ticket": self.ticket, "user": self.user, "email": self.guest_email}
        return [(signals.guest_ticket_claimed, Ticket, kwargs)]


@dataclass(frozen=True, kw_only=True)
class EmailReceived(TicketEvent):
    """An inbound email reached the ticket: it opened it, or ``reply`` is what it added.
    ``refused`` names the files it carried that the attachment limits turned away, with why;
    ``participants`` the addresses it copied in that became the ticket's participants."""

    verb = "email_received"
    inbound_email_id: int
    sender: str
    message_id: str
    reply: Reply | None = None
    refused: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()

    def change(self) -> Change:
        after: dict[str, Any] = {
            "inbound_email": self.inbound_email_id,
            "from": self.sender,
            "message_id": self.message_id,
        }
        if self.reply is not None:
            after["reply_id"] = self.reply.pk
        if self.refused:
            after["refused_attachments"] = list(self.refused)
        if self.participants:
            after["participants_added"] = list(self.participants)
        return {}, after


@dataclass(frozen=True, kw_only=True)
class TicketNotified(TicketEvent):
    """Someone asked for people to be told about the ticket (an escalation rule's notify action):
    ``to`` is department, assignee, email or webhooks."""

    verb = "notified"
    to: str
    department: Department | None = None
    email: str = ""
    message: str = ""

    def change(self) -> Change:
        after: dict[str, Any] = {"to": self.to}
        if self.department is not None:
            after["department"] = _department_label(self.department)
        if self.email:
            after["email"] = self.email
        if self.message:
            after["message"] = self.message
        return {}, after


@dataclass(frozen=True, kw_only=True)
class TicketRated(TicketEvent):
    verb = "rated"
    rating: SatisfactionRating

    def change(self) -> Change:
        return {}, {"rating": self.rating.rating, "commented": bool(self.rating.comment)}

    def signals(self) -> list[SignalCall]:
        kwargs = {"rating": self.rating, "ticket": self.ticket, "user": self.user}
        return [(signals.ticket_rated, SatisfactionRating, kwargs)]


@dataclass(frozen=True, kw_only=True)
class SlaBreached(TicketEvent):
    """A clock ran out before its metric was met (announced once per clock cycle)."""

    verb = "sla_breached"
    metric: str
    due_at: datetime

    def change(self) -> Change:
        return {}, {"metric": self.metric, "due_at": self.due_at}

    def signals(self) -> list[SignalCall]:
        return [(signals.sla_breached, Ticket, {"ticket": self.ticket, "breach_type": self.metric})]


@dataclass(frozen=True, kw_only=True)
class SlaWarning(TicketEvent):
    """A clock is about to run out; ``remaining`` counts the way its target counts."""

    verb = "sla_warning"
    metric: str
    due_at: datetime
    remaining: timedelta

    def change(self) -> Change:
        after = {
            "metric": self.metric,
            "due_at": self.due_at,
            "remaining_seconds": int(self.remaining.total_seconds()),
        }
        return {}, after

    def signals(self) -> list[SignalCall]:
        kwargs = {"ticket": self.ticket, "warning_type": self.metric, "remaining": self.remaining}
        return [(signals.sla_warning, Ticket, kwargs)]


# --- combining several events of one ticket into one activity row ---------------------------


@dataclass
class _Combined:
    verb: str
    rows: dict[int, tuple[Any, dict[str, Any], dict[str, Any]]] = field(default_factory=dict)

    def add(self, event: TicketEvent) -> None:
        _actor, before, after = self.rows.setdefault(event.ticket.pk, (event.actor, {}, {}))
        old, new = event.change()
        for key, value in old.items():
            before.setdefault(key, value)  # keep the earliest "before"
        after.update(new)


_combining: contextvars.ContextVar[_Combined | None] = contextvars.ContextVar(
    "escalated_combined_activity", default=None
)


@contextmanager
def one_activity(verb: str, *, context: dict[str, Any] | None = None) -> Iterator[None]:
    """Record everything that happens inside as one activity row per ticket, named ``verb``.

    Used where one request makes several changes (a bulk update, a macro): the timeline shows one
    action, while each change still sends its own signals. ``context`` is added to each row's
    ``after`` (say, which macro it was); a ticket nothing happened to gets no row.
    """
    combined = _Combined(verb)
    token = _combining.set(combined)
    try:
        yield
    finally:
        _combining.reset(token)
    for ticket_id, (actor, before, after) in combined.rows.items():
        _write_activity(ticket_id, actor, verb, before, {**after, **(context or {})})


# --- the fan-out ------------------------------------------------------------------------------


def _activity(
    ticket_id: int, actor: Any, verb: str, before: dict[str, Any], after: dict[str, Any]
) -> TicketActivity:
    return TicketActivity(
        ticket_id=ticket_id,
        actor=person(actor),
        actor_label=actor_label(actor),
        verb=verb,
        before=before,
        after=after,
    )


def _write_activity(
    ticket_id: int, actor: Any, verb: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    _activity(ticket_id, actor, verb, before, after).save(force_insert=True)


# The kinds of change a customer or guest hears of: what shows on their ticket page. Everything
# else (notes, tags, follows, SLA clocks, notifications sent, guest links) is for staff only. An
# allow-list, so that a verb added later stays with staff until someone decides otherwise. Live
# events to customers and their ticket's last public activity both follow it.
PUBLIC_VERBS = frozenset(
    {
        "created",
        "updated",
        "replied",
        "status_changed",
        "priority_changed",
        "assigned",
        "department_changed",
        "rated",
        "guest_claimed",
    }
)


def touch_public_activity(event: TicketEvent) -> None:
    """Move the ticket's ``public_activity_at`` (the last-activity time customers and guests
    see) for a change they can see; ``updated_at`` moves for every change."""
    _touch_public_activity([event])


def _touch_public_activity(batch: Sequence[TicketEvent]) -> None:
    tickets = {event.ticket.pk: event.ticket for event in batch if event.verb in PUBLIC_VERBS}
    if not tickets:
        return
    now = timezone.now()
    alone = []
    for ticket in tickets.values():
        ticket.public_activity_at = now
        if not ticket_save_with_batch(ticket, ["public_activity_at"]):
            alone.append(ticket.pk)
    if alone:
        Ticket.objects.filter(pk__in=alone).update(public_activity_at=now)


touch_public_activity.many = _touch_public_activity  # type: ignore[attr-defined]


def write_activity(event: TicketEvent) -> None:
    combined = _combining.get()
    if combined is not None:
        combined.add(event)
        return
    before, after = event.change()
    _write_activity(event.ticket.pk, event.actor, event.verb, before, after)


def write_outbox(event: TicketEvent) -> None:
    # Imported here: the services import this module.
    from escalated.services.notifications import notify

    notify(event)


def _write_outboxes(batch: Sequence[TicketEvent]) -> None:
    from escalated.services.notifications import notify_many

    notify_many(batch)


write_outbox.many = _write_outboxes  # type: ignore[attr-defined]


def _write_activities(batch: Sequence[TicketEvent]) -> None:
    """:func:`write_activity` for a sweep's batch: one INSERT for all its rows."""
    if _combining.get() is not None:
        for event in batch:
            write_activity(event)
        return
    connection = connections[router.db_for_write(TicketActivity)]
    if connection.vendor != "postgresql":
        rows = [_activity(e.ticket.pk, e.actor, e.verb, *e.change()) for e in batch]
        TicketActivity.objects.bulk_create(rows)
        return
    _insert_activities(connection, batch)


def _insert_activities(connection: Any, batch: Sequence[TicketEvent]) -> None:
    """The rows :func:`_activity` would make, in one INSERT of one JSON document that
    PostgreSQL takes apart: building a model, adapting its values and dumping two JSON fields
    per row cost more than the database's work for a sweep's batch. The JSON is what the
    fields' own encoder writes; one time stamp for the batch, and the ids keep its order."""
    rows = []
    for event in batch:
        before, after = event.change()
        rows.append(
            {
                "ticket": event.ticket.pk,
                "actor": getattr(person(event.actor), "pk", None),
                "label": actor_label(event.actor),
                "verb": event.verb,
                "before": before,
                "after": after,
            }
        )
    meta = TicketActivity._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)  # type: ignore[union-attr]
        for name in ("ticket", "actor", "actor_label", "verb", "before", "after", "created_at")
    )
    created = meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    # Identifiers are the model's, quoted; the values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
        "SELECT r.ticket, r.actor, r.label, r.verb, r.before, r.after, %s "
        "FROM jsonb_to_recordset(%s::jsonb) "
        "AS r(ticket bigint, actor bigint, label text, verb text, before jsonb, after jsonb)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [created, json.dumps(rows, cls=DjangoJSONEncoder)])


write_activity.many = _write_activities  # type: ignore[attr-defined]


# What moves SLA clocks: their start, the replies that meet them, the statuses that pause, stop
# and restart them, and whatever selects the policy (priority, department, type, tags).
_MOVES_SLA_CLOCKS = (
    TicketCreated,
    GuestTicketClaimed,  # the requester stops being a guest: policies may select differently
    TicketStatusChanged,
    TicketPriorityChanged,
    TicketDepartmentChanged,
    TicketTagsChanged,
)


def _moves_clocks(event: TicketEvent) -> bool:
    return isinstance(event, _MOVES_SLA_CLOCKS) or (
        (isinstance(event, ReplyAdded) and not event.reply.is_internal_note)
        or (isinstance(event, TicketUpdated) and "ticket_type" in event.changes)
    )


def recompute_sla_clocks(event: TicketEvent) -> None:
    if _moves_clocks(event):
        ticket_sla_recompute(ticket=event.ticket)


def _recompute_many(batch: Sequence[TicketEvent]) -> None:
    """:func:`recompute_sla_clocks` for a batch: each moved ticket once, in its final state."""
    moved = [event.ticket for event in batch if _moves_clocks(event)]
    if moved:
        tickets_sla_recompute(tickets=moved)


recompute_sla_clocks.many = _recompute_many  # type: ignore[attr-defined]


def send_signals(event: TicketEvent) -> None:
    for signal, sender, kwargs in event.signals():
        signal.send(sender=sender, **kwargs)


# Activity keys that name a ticket field other than by the field's own name.
_CHANGED_FIELD = {"tags_added": "tags", "tags_removed": "tags"}
# Activity keys that describe the action rather than a field of the ticket.
_NOT_FIELDS = frozenset(
    {
        "reply_id",
        "pinned",
        "reason",
        "attachments",
        "routed",
        "guest",
        "rating",
        "commented",
        "metric",
        "due_at",
        "remaining_seconds",
        "to",
        "email",
        "message",
        "inbound_email",
        "from",
        "message_id",
        "refused_attachments",
    }
)


def publish_live(event: TicketEvent) -> None:
    """Tell live subscribers (GraphQL subscriptions) what happened: ids only; each subscriber
    reloads the ticket through its own permissions."""
    before, after = event.change()
    changed = {_CHANGED_FIELD.get(key, key) for key in (*before, *after)} - _NOT_FIELDS
    assignees: tuple[Any, Any] = (None, None)
    if isinstance(event, TicketAssigned):
        assignees = (event.previous, event.agent)
    elif isinstance(event, TicketCreated) and event.ticket.assignee_id is not None:
        changed.add("assignee")
        assignees = (None, event.ticket.assignee)
    reply = getattr(event, "reply", None)
    realtime.publish_ticket_news(
        realtime.TicketNews(
            ticket_id=event.ticket.pk,
            verb=event.verb,
            actor_id=getattr(person(event.actor), "pk", None),
            reply_id=reply.pk if reply is not None else None,
            changed=tuple(sorted(changed)),
            previous_assignee_id=getattr(assignees[0], "pk", None),
            assignee_id=getattr(assignees[1], "pk", None),
        )
    )


def evaluate_escalation_rules(event: TicketEvent) -> None:
    """Event-triggered escalation rules look at the ticket once the change has committed."""
    # Imported here: the rules act through the services, which import this module.
    from escalated.services.escalation.evaluation import rules_on_event

    rules_on_event(event)


# Run inside the change's transaction: they commit or roll back with it. A handler may carry a
# ``many`` attribute, a function that handles a whole batch of events at once (record_many).
IN_TRANSACTION: tuple[Callable[[TicketEvent], None], ...] = (
    write_activity,
    touch_public_activity,
    recompute_sla_clocks,
    write_outbox,
)
# Run once, after the change has committed.
AFTER_COMMIT: tuple[Callable[[TicketEvent], None], ...] = (
    send_signals,
    publish_live,
    evaluate_escalation_rules,
)


_together: contextvars.ContextVar[list[TicketEvent] | None] = contextvars.ContextVar(
    "escalated_recorded_together", default=None
)


@contextmanager
def recorded_together() -> Iterator[list[TicketEvent]]:
    """Inside, :func:`record` keeps each event; when the block ends without an error, they are
    recorded with :func:`record_many` (the statements of one batch, whatever their number). The
    list it gives is theirs: removing events from it unrecords them (a change undone)."""
    kept: list[TicketEvent] = []
    token = _together.set(kept)
    try:
        yield kept
    finally:
        _together.reset(token)
    record_many(kept)


def record(event: TicketEvent) -> None:
    """Record ``event`` inside the current transaction and schedule its after-commit fan-out."""
    kept = _together.get()
    if kept is not None:
        kept.append(event)
        return
    for handler in IN_TRANSACTION:
        handler(event)
    transaction.on_commit(_after_commit([event]), robust=True)


def record_many(batch: Sequence[TicketEvent]) -> None:
    """Record a sweep's events (e.g. check_sla's breaches) as :func:`record` would record each,
    with a bounded number of statements: handlers that can take the batch at once do."""
    if not batch:
        return
    for handler in IN_TRANSACTION:
        many = getattr(handler, "many", None)
        if many is not None:
            many(batch)
        else:
            for event in batch:
                handler(event)
    transaction.on_commit(_after_commit(list(batch)), robust=True)


def _after_commit(batch: list[TicketEvent]) -> Callable[[], None]:
    """One commit callback for the events' fan-out, handler by handler, event by event. A
    failing handler is logged and the others still run: it cannot undo or block what already
    committed."""

    def run() -> None:
        for handler in AFTER_COMMIT:
            for event in batch:
                try:
                    handler(event)
                except Exception:
                    logger.exception(
                        "%s failed after the commit of %s on ticket #%s.",
                        handler.__name__,
                        event.verb,
                        event.ticket.pk,
                    )

    return run


# --- presence: live only, no timeline row ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PresenceChanged:
    """Someone began or stopped viewing or typing on a ticket. Not an action on the ticket, so
    it writes no activity row and sends no signal; live subscribers hear of it after commit."""

    ticket_id: int


def announce(event: PresenceChanged) -> None:
    """Schedule the after-commit fan-out of a presence change."""
    transaction.on_commit(lambda: realtime.publish_presence(event.ticket_id), robust=True)
