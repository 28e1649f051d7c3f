"""Sweeps run by management commands: closing long-resolved tickets, purging old activity.

Candidates are chosen with set-based queries, a batch at a time. Closing then goes through
``ticket_close`` one ticket at a time, because a close is an action: it takes the row lock, writes
its activity row and sends its signals like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from escalated.models import Status, Ticket, TicketActivity
from escalated.services.tickets import ticket_close

BATCH_SIZE = 500


def cutoff_for(days: int) -> tuple[datetime, str]:
    """The instant ``days`` days ago, and how a command says it."""
    cutoff = timezone.now() - timedelta(days=days)
    plural = "" if days == 1 else "s"
    return cutoff, f"more than {days} day{plural} ago (before {cutoff:%Y-%m-%d %H:%M %Z})"


def resolved_before(cutoff: datetime) -> QuerySet[Ticket]:
    """Tickets still resolved whose resolution is older than ``cutoff``."""
    return Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)


def batches(queryset: QuerySet[Any], *fields: str, size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    """``queryset``'s rows (as tuples of ``fields``, the primary key first) in batches of
    ``size``, by primary key: one statement per batch, and rows changed behind the cursor are
    neither skipped nor repeated."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", *fields)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def resolved_ticket_close(*, ticket_id: int, actor: Any, cutoff: datetime) -> Ticket | None:
    """Close the ticket if it is still resolved since before ``cutoff``; None if it has moved on
    since it was chosen (reopened, closed by someone else)."""
    with transaction.atomic():
        ticket = resolved_before(cutoff).select_for_update().filter(pk=ticket_id).first()
        return None if ticket is None else ticket_close(ticket=ticket, actor=actor)


def activities_before(cutoff: datetime) -> QuerySet[TicketActivity]:
    """Timeline rows older than ``cutoff``, except those recording a status: they are the
    ticket's status history, which SLA clocks are replayed from whenever the ticket changes
    (see :func:`escalated.services.sla.ticket_history`)."""
    return TicketActivity.objects.filter(created_at__lt=cutoff).exclude(after__has_key="status")


def activities_purge(*, cutoff: datetime, batch_size: int = BATCH_SIZE) -> Iterator[int]:
    """Delete activity rows older than ``cutoff``, a batch per transaction; yield each batch's
    count. Deleting by primary keys keeps each statement (and its locks) short."""
    for rows in batches(activities_before(cutoff), size=batch_size):
        ids = [row[0] for row in rows]
        deleted, _ = TicketActivity.objects.filter(pk__in=ids).delete()
        yield deleted
