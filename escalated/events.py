"""Domain events and their fan-out: the one way anything leaves a change.

A service describes what it did as one event (one action) and calls :func:`record` inside its
transaction. From there:

* durable records are written in that same transaction, so they commit or vanish with the change:
  the activity row (exactly one per action);
* everything else runs once, after the transaction commits: the Django signals.

The handler tables at the bottom of this module are the whole fan-out, read top to bottom.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import transaction
from django.dispatch import Signal

from escalated import signals
from escalated.access import SystemActor
from escalated.models import Department, Reply, Status, Tag, Ticket, TicketActivity

if TYPE_CHECKING:
    from escalated.access import Actor

logger = logging.getLogger(__name__)

Change = tuple[dict[str, Any], dict[str, Any]]
SignalCall = tuple[Signal, type, dict[str, Any]]


def person(actor: Any) -> Any:
    """The user behind an actor, or None for rules and commands."""
    if actor is None or isinstance(actor, SystemActor):
        return None
    return actor if getattr(actor, "is_authenticated", False) else None


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

    def change(self) -> Change:
        t = self.ticket
        return {}, {"status": t.status, "priority": t.priority, "subject": t.subject}

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

    @property
    def verb(self) -> str:  # type: ignore[override]
        return "note_added" if self.reply.is_internal_note else "replied"

    def change(self) -> Change:
        after: dict[str, Any] = {"reply_id": self.reply.pk}
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
def one_activity(verb: str) -> Iterator[None]:
    """Record everything that happens inside as one activity row per ticket, named ``verb``.

    Used where one request makes several changes (a bulk update, a macro): the timeline shows one
    action, while each change still sends its own signals.
    """
    combined = _Combined(verb)
    token = _combining.set(combined)
    try:
        yield
    finally:
        _combining.reset(token)
    for ticket_id, (actor, before, after) in combined.rows.items():
        _write_activity(ticket_id, actor, verb, before, after)


# --- the fan-out ------------------------------------------------------------------------------


def _write_activity(
    ticket_id: int, actor: Any, verb: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    TicketActivity.objects.create(
        ticket_id=ticket_id,
        actor=person(actor),
        actor_label=actor.label if isinstance(actor, SystemActor) else "",
        verb=verb,
        before=before,
        after=after,
    )


def write_activity(event: TicketEvent) -> None:
    combined = _combining.get()
    if combined is not None:
        combined.add(event)
        return
    before, after = event.change()
    _write_activity(event.ticket.pk, event.actor, event.verb, before, after)


def send_signals(event: TicketEvent) -> None:
    for signal, sender, kwargs in event.signals():
        signal.send(sender=sender, **kwargs)


def evaluate_escalation_rules(event: TicketEvent) -> None:
    """Event-triggered escalation rules look at the ticket once the change has committed."""
    # Imported here: the rules act through the services, which import this module.
    from escalated.services.escalation.evaluation import rules_on_event

    rules_on_event(event)


# Run inside the change's transaction: they commit or roll back with it.
IN_TRANSACTION: tuple[Callable[[TicketEvent], None], ...] = (write_activity,)
# Run once, after the change has committed.
AFTER_COMMIT: tuple[Callable[[TicketEvent], None], ...] = (
    send_signals,
    evaluate_escalation_rules,
)


def record(event: TicketEvent) -> None:
    """Record ``event`` inside the current transaction and schedule its after-commit fan-out."""
    for handler in IN_TRANSACTION:
        handler(event)
    for handler in AFTER_COMMIT:
        # robust: a failing receiver is logged and cannot undo or block what already committed.
        transaction.on_commit(_bind(handler, event), robust=True)


def _bind(handler: Callable[[TicketEvent], None], event: TicketEvent) -> Callable[[], None]:
    def run() -> None:
        handler(event)

    return run
