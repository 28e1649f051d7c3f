"""Ticket participants: the people copied on a ticket's email.

Whoever writes to a ticket by email (its requester, an agent, a participant) may copy others in;
each address on the Cc line that is not the requester's, not the sender's and not one of ours
becomes a :class:`~escalated.models.TicketParticipant`. A participant may answer the ticket by
email (escalated.mail.threading makes them a :class:`~escalated.access.ParticipantActor`), and
that is all: they get no portal access and never see an internal note.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.functions import Lower

from escalated.access import ParticipantActor, is_staff, prime_department_ids
from escalated.models import GuestAccess, InboundEmail, Ticket, TicketParticipant
from escalated.services.message_ids import is_own_address

# Per ticket: a Cc line of hundreds (a mailing list copied in) adds no more than this.
MAX_PARTICIPANTS = 50
MAX_NAME = 150


def participant_actor(participant: TicketParticipant, user: Any = None) -> ParticipantActor:
    return ParticipantActor(
        ticket_id=participant.ticket_id,
        participant_id=participant.pk,
        name=participant.name,
        email=participant.email,
        user=user,
    )


def _requester_address(ticket: Ticket) -> str:
    if ticket.requester_id is not None:
        return str(getattr(ticket.requester, "email", "") or "").lower()
    access = GuestAccess.objects.filter(ticket_id=ticket.pk).values_list("email", flat=True)
    return (access.first() or "").lower()


def ticket_participants_add(
    *,
    ticket: Ticket,
    copied: Iterable[tuple[str, str]],
    sender: str,
    inbound_email: InboundEmail | None = None,
) -> list[TicketParticipant]:
    """Make participants of the people ``copied`` (display name, address) on an email from
    ``sender`` that reached ``ticket``; return the new ones. Runs inside the email's processing
    transaction (its timeline row names them). Staff accounts are left out: they act on the
    tickets they can see anyway, as staff."""
    wanted: dict[str, str] = {}
    for name, address in copied:
        address = address.strip().lower()
        if "@" in address and address != sender and not is_own_address(address):
            wanted.setdefault(address, " ".join(name.split())[:MAX_NAME])
    if not wanted:
        return []
    wanted.pop(_requester_address(ticket), None)
    existing = set(TicketParticipant.objects.filter(ticket=ticket).values_list("email", flat=True))
    room = MAX_PARTICIPANTS - len(existing)
    new = [a for a in wanted if a not in existing][: max(room, 0)]
    if not new:
        return []
    accounts: dict[str, Any] = {}
    users = get_user_model().objects.annotate(address=Lower("email"))
    for user in users.filter(address__in=new, is_active=True).order_by("-pk"):
        accounts[user.address] = user  # the oldest account wins, as for senders
    prime_department_ids(accounts.values())
    rows = [
        TicketParticipant(
            ticket=ticket,
            email=address,
            name=wanted[address],
            user=accounts.get(address),
            inbound_email=inbound_email,
        )
        for address in new
        if not (address in accounts and is_staff(accounts[address]))
    ]
    # Two emails copying the same person, processed at once: the second insert is a no-op.
    TicketParticipant.objects.bulk_create(rows, ignore_conflicts=True)
    return rows
