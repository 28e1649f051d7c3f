"""Presence on a ticket: who is viewing it or typing an answer, so agents see each other before
they both reply. An entry lives ``PRESENCE_TTL_SECONDS`` unless renewed; ``left`` removes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from escalated import events
from escalated.access import TicketAction, require_staff, require_ticket_action
from escalated.conf import escalated_settings
from escalated.errors import Problem, collect
from escalated.models import PresenceState, Ticket, TicketPresence

LEFT = "left"


def ticket_presence_set(*, ticket: Ticket, actor: Any, state: str) -> list[TicketPresence]:
    """Say the actor is viewing or typing on ``ticket`` (renewing the entry), or has ``left``.

    Staff only. Renewing an entry in the same state tells nobody; a new entry, a new state or a
    departure is announced to ``ticketViewers`` subscribers after commit. Returns who is there.
    """
    require_staff(actor)
    require_ticket_action(actor, ticket, TicketAction.VIEW)
    if state != LEFT and state not in PresenceState.values:
        allowed = ", ".join([*PresenceState.values, LEFT])
        collect([Problem(f"Unknown state {state!r}; use one of {allowed}.", field="state")])
    now = timezone.now()
    with transaction.atomic():
        mine = TicketPresence.objects.select_for_update().filter(ticket=ticket, user=actor)
        current = mine.first()
        was = current.state if current is not None and current.expires_at > now else None
        if state == LEFT:
            mine.delete()
        else:
            expires = now + timedelta(seconds=escalated_settings.PRESENCE_TTL_SECONDS)
            TicketPresence.objects.update_or_create(
                ticket=ticket,
                user=actor,
                defaults={"state": state, "updated_at": now, "expires_at": expires},
            )
        # Expired entries of this ticket are gone for good; clear them while we are here.
        TicketPresence.objects.filter(ticket=ticket, expires_at__lte=now).delete()
        if was != (None if state == LEFT else state):
            events.announce(events.PresenceChanged(ticket_id=ticket.pk))
    return list(ticket_viewers(ticket_id=ticket.pk))


def ticket_viewers(*, ticket_id: int) -> QuerySet[TicketPresence]:
    """The live entries of a ticket, in order of arrival. Callers check access to the ticket."""
    return (
        TicketPresence.objects.filter(ticket_id=ticket_id, expires_at__gt=timezone.now())
        .select_related("user")
        .order_by("id")
    )
