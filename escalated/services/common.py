"""Small pieces every service module uses."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import Enum
from typing import Any, Final, Literal, TypeVar

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from escalated.access import require_may_manage
from escalated.errors import ErrorCode, Problem
from escalated.models import Department, Ticket


class _Unset(Enum):
    """Marks an argument the caller did not give, as distinct from an explicit None."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]

T = TypeVar("T")


def lock_ticket(ticket: Ticket, *, related: tuple[str, ...] = ()) -> Ticket:
    """Re-read ``ticket`` under a row lock (a no-op lock on SQLite, which serialises writers);
    inside a :class:`TicketBatch`, the batch's copy, locked with the others. ``related``: the
    ticket's people or department to read with it (joined, and not locked: only the ticket's
    row is), for a service that is sure to need them."""
    batch = _batch.get()
    if batch is not None and ticket.pk in batch.tickets:
        return batch.tickets[ticket.pk]
    if related:
        locked = Ticket.objects.select_related(*related).select_for_update(of=("self",))
        return locked.get(pk=ticket.pk)
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def ticket_save(ticket: Ticket, fields: Iterable[str]) -> None:
    """Save these fields of a locked ticket (and its ``updated_at``); inside a
    :class:`TicketBatch`, once for the whole batch when it ends."""
    if not ticket_save_with_batch(ticket, [*fields, "updated_at"]):
        ticket.save(update_fields=[*fields, "updated_at"])


def ticket_save_with_batch(ticket: Ticket, fields: Iterable[str]) -> bool:
    """Inside a :class:`TicketBatch`, leave these fields of the batch's copy of a ticket to the
    batch's one write (only these: ``updated_at`` moves only when it is one of them); False when
    ``ticket`` is not a batch copy, for the caller to write it itself."""
    batch = _batch.get()
    if batch is None or batch.tickets.get(ticket.pk) is not ticket:
        return False
    batch.dirty.setdefault(ticket.pk, set()).update(fields)
    return True


def ticket_transaction() -> AbstractContextManager[Any]:
    """The transaction a ticket service runs in: its own (a savepoint inside another); inside a
    :class:`TicketBatch` none, since the batch's services only change its tickets in memory and
    the batch writes them, and their events, at its end."""
    return nullcontext() if _batch.get() is not None else transaction.atomic()


class TicketBatch:
    """Many tickets changed through the services at once, with the statements of one change.

    Inside ``with TicketBatch(ids):`` (within a transaction), the services that take their
    ticket with :func:`lock_ticket`, save it with :func:`ticket_save` and run in
    :func:`ticket_transaction` (status, priority, assignment, department) work on the batch's
    copies, locked together in one statement; at the end, the events are recorded together
    (:func:`escalated.events.recorded_together`: one activity row per action, SLA clocks, outbox
    rows, and signals and live events after the commit, as for one change), and then the
    changed tickets are written, what the events changed on them included (one UPDATE per
    distinct set of new values; see :func:`ticket_save_with_batch`). Each :meth:`unit`
    is all or nothing: one that raises leaves its tickets and events as they were. Services
    that write other rows (replies, tags) keep writing them at once; run those units in a
    savepoint.
    """

    def __init__(self, ticket_ids: Iterable[int]) -> None:
        self.ids = sorted(set(ticket_ids))
        self.tickets: dict[int, Ticket] = {}
        self.dirty: dict[int, set[str]] = {}
        self._token: Any = None
        self._events: Any = None

    def __enter__(self) -> TicketBatch:
        from escalated import events

        locked = list(
            Ticket.objects.select_for_update(of=("self",))
            .select_related("department")
            .filter(pk__in=self.ids)
            .order_by("pk")
        )
        # A batch's tickets share a few agents: read each once and give every ticket the same
        # copy, rather than a joined copy of the user row per ticket.
        assignee = Ticket._meta.get_field("assignee")
        agents = get_user_model()._default_manager.in_bulk(
            {t.assignee_id for t in locked if t.assignee_id is not None}
        )
        for ticket in locked:
            assignee.set_cached_value(ticket, agents.get(ticket.assignee_id))
        self.tickets = {t.pk: t for t in locked}
        self._events = events.recorded_together()
        self.recorded = self._events.__enter__()
        self._token = _batch.set(self)
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is not None:
            _batch.reset(self._token)
            self._events.__exit__(kind, error, trace)
            return
        # The events are recorded while the batch is still open, and the tickets written after:
        # what the events' handlers change on the tickets (their public activity time) joins
        # the batch's one write instead of updating the same rows a second time.
        try:
            now = timezone.now()
            for pk, names in self.dirty.items():
                if "updated_at" in names:
                    self.tickets[pk].updated_at = now
            self._events.__exit__(None, None, None)
        finally:
            _batch.reset(self._token)
        self._write()

    def _write(self) -> None:
        """One UPDATE per distinct set of new values: a rule's episodes leave their tickets
        alike (the same priority, status, assignee), so a batch takes a few statements, and
        none of Django's bulk_update CASE per row, whose building cost more than the rest of
        the batch together."""
        alike: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        for pk, names in self.dirty.items():
            ticket = self.tickets[pk]
            columns = (Ticket._meta.get_field(name).attname for name in names)  # type: ignore[union-attr]
            values = tuple(sorted((column, getattr(ticket, column)) for column in columns))
            alike.setdefault(values, []).append(pk)
        for values, pks in alike.items():
            Ticket.objects.filter(pk__in=pks).update(**dict(values))

    @contextmanager
    def unit(self, ticket_id: int) -> Iterator[Ticket]:
        """One all-or-nothing change of one ticket: on an error, the ticket's copy, its pending
        fields and the events recorded inside are put back as they were."""
        ticket = self.tickets[ticket_id]
        state = ticket.__dict__.copy()
        cache = dict(ticket._state.fields_cache)
        dirty = set(self.dirty.get(ticket_id, ()))
        mark = len(self.recorded)
        try:
            yield ticket
        except BaseException:
            ticket.__dict__.clear()
            ticket.__dict__.update(state)
            ticket._state.fields_cache = cache
            if dirty:
                self.dirty[ticket_id] = dirty
            else:
                self.dirty.pop(ticket_id, None)
            del self.recorded[mark:]
            raise


_batch: contextvars.ContextVar[TicketBatch | None] = contextvars.ContextVar(
    "escalated_ticket_batch", default=None
)


def choice(value: Any, choices: type[Any], *, field: str) -> list[Problem]:
    """A problem when ``value`` is not one of a TextChoices' values."""
    if value in choices.values:
        return []
    allowed = ", ".join(choices.values)
    return [
        Problem(
            f"Unknown {field.replace('_', ' ')} {value!r}; use one of {allowed}.",
            ErrorCode.INVALID,
            field,
        )
    ]


def active_department(department: Department | None, *, field: str) -> list[Problem]:
    if department is not None and not department.is_active:
        return [
            Problem(f"The department {department.name!r} is not active.", ErrorCode.INACTIVE, field)
        ]
    return []


def set_given(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the given (not UNSET) values on ``obj``; return the names that changed."""
    names = []
    for name, value in values.items():
        if value is not UNSET and getattr(obj, name) != value:
            setattr(obj, name, value)
            names.append(name)
    return names


def reshare(actor: Any, obj: Any, changed: list[str]) -> list[str]:
    """After an edit of a shared-or-personal staff tool (canned response, macro): when
    ``is_shared`` changed, sharing hands it to the admins and unsharing makes it the actor's own.
    Returns the further field names changed."""
    if "is_shared" not in changed:
        return []
    require_may_manage(actor, obj)
    obj.owner = None if obj.is_shared else actor
    return ["owner"]
