"""The ticket state machine: which status may follow which, and the timestamps each move sets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode
from escalated.models import Status, Ticket

_WORKING = (
    Status.IN_PROGRESS,
    Status.WAITING_ON_CUSTOMER,
    Status.WAITING_ON_AGENT,
    Status.ESCALATED,
    Status.RESOLVED,
    Status.CLOSED,
)

DEFAULT_TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    Status.OPEN: _WORKING,
    Status.IN_PROGRESS: (Status.OPEN, *_WORKING),
    Status.WAITING_ON_CUSTOMER: (Status.OPEN, *_WORKING),
    Status.WAITING_ON_AGENT: (Status.OPEN, *_WORKING),
    Status.ESCALATED: (Status.OPEN, *_WORKING),
    Status.RESOLVED: (Status.REOPENED, Status.CLOSED),
    Status.CLOSED: (Status.REOPENED,),
    Status.REOPENED: _WORKING,
}


def transitions() -> dict[str, frozenset[str]]:
    """The default table with the host's STATUS_TRANSITIONS overrides laid over it."""
    table = {source: frozenset(targets) for source, targets in DEFAULT_TRANSITIONS.items()}
    for source, targets in (escalated_settings.STATUS_TRANSITIONS or {}).items():
        table[source] = frozenset(targets)
    return table


def can_move(old: str, new: str) -> bool:
    return new in transitions().get(old, frozenset())


def require_move(old: str, new: str) -> None:
    if not can_move(old, new):
        allowed = ", ".join(sorted(transitions().get(old, ()))) or "nothing"
        raise DomainError(
            f"A ticket cannot move from {old} to {new} (from {old} it may move to: {allowed}).",
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )


def apply_status(ticket: Ticket, new: str, now: datetime) -> list[str]:
    """Set ``new`` on ``ticket`` with its timestamps; return the changed field names.

    The invariant kept here: ``resolved_at`` is set exactly when the ticket is resolved or
    closed, ``closed_at`` exactly when it is closed. A reopen clears both.
    """
    ticket.status = new
    changed = ["status"]
    if new == Status.RESOLVED:
        ticket.resolved_at, ticket.closed_at = now, None
        changed += ["resolved_at", "closed_at"]
    elif new == Status.CLOSED:
        ticket.closed_at = now
        changed.append("closed_at")
        if ticket.resolved_at is None:
            # Closed without being resolved first: it was settled when it was closed.
            ticket.resolved_at = now
            changed.append("resolved_at")
    elif ticket.resolved_at is not None or ticket.closed_at is not None:
        ticket.resolved_at = ticket.closed_at = None
        changed += ["resolved_at", "closed_at"]
    return changed
