"""Who a ticket is for, whether a signed-in user or a guest: one answer for every place that
addresses the requester (placeholders, notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escalated.events import display_name
from escalated.models import GuestAccess, Ticket


@dataclass(frozen=True)
class Requester:
    name: str
    first_name: str
    email: str
    user: Any  # the account, or None for a guest


def requester_of(ticket: Ticket) -> Requester | None:
    """The ticket's requester: its user, else the guest who opened it, else None."""
    user = ticket.requester
    if user is not None:
        first = (getattr(user, "first_name", "") or "").strip()
        name = display_name(user)
        return Requester(name=name, first_name=first or name, email=user.email or "", user=user)
    try:
        guest = ticket.guest_access
    except GuestAccess.DoesNotExist:
        return None
    first = guest.name.split()[0] if guest.name.split() else guest.name
    return Requester(name=guest.name, first_name=first, email=guest.email, user=None)
