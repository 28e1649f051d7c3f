"""Which ticket a message answers, and who wrote it.

Candidates, in order: a ticket reference in the subject (``[ESC-00042]``), the Message-IDs in
In-Reply-To and References (ours, or those of mail we received on a ticket), then a signed reply
address (``support+<id>-<tag>@…``). The first candidate whose sender may reply on it wins: the
requester (an account or the guest who opened it), staff who can see it, or a participant (someone
copied on one of its emails, escalated.services.participants). Anyone else gets a new ticket, so
quoting someone's reference never writes into their ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from escalated.access import TicketAction, require_ticket_action
from escalated.errors import NotAllowed
from escalated.mail.parsing import SUBJECT_REFERENCE, ParsedEmail
from escalated.models import GuestAccess, InboundEmail, Ticket, TicketParticipant
from escalated.services.guests import guest_actor
from escalated.services.message_ids import ticket_id_from_addresses, ticket_id_from_headers
from escalated.services.participants import participant_actor

_ANGLE_IDS = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Thread:
    ticket: Ticket | None  # the ticket to reply on; None: open a new one
    actor: Any  # who replies on ``ticket``: the sender's account or their guest actor there
    user: Any  # the sender's account, if they have one (who opens a new ticket)


def sender_user(address: str) -> Any:
    """The active account with this email address (the oldest, if several share it)."""
    if not address:
        return None
    users = get_user_model().objects.filter(email__iexact=address, is_active=True)
    return users.order_by("pk").first()


def _candidates(email: ParsedEmail) -> list[int]:
    ids: list[int] = []
    references = SUBJECT_REFERENCE.findall(email.subject)
    if references:
        found = dict(Ticket.objects.filter(reference__in=references).values_list("reference", "pk"))
        ids += [found[r] for r in references if r in found]
    ours = ticket_id_from_headers(email.in_reply_to, email.references)
    if ours is not None:
        ids.append(ours)
    quoted = _ANGLE_IDS.findall(f"{email.in_reply_to} {email.references}")
    if quoted:
        received = InboundEmail.objects.filter(message_id__in=quoted, ticket__isnull=False)
        ids += list(received.order_by("-pk").values_list("ticket_id", flat=True))
    by_address = ticket_id_from_addresses(*email.address_headers)
    if by_address is not None:
        ids.append(by_address)
    return list(dict.fromkeys(ids))


def _actor_on(ticket: Ticket, user: Any, address: str) -> Any:
    """Who the sender is on ``ticket``, if they may reply on it; else None. Their own rights
    first (requester, staff; a guest requester by address), then a participant's."""
    if user is not None:
        try:
            require_ticket_action(user, ticket, TicketAction.REPLY)
        except NotAllowed:
            pass
        else:
            return user
    else:
        access = GuestAccess.objects.filter(
            ticket=ticket, email=address, claimed_at__isnull=True
        ).first()
        if access is not None:
            return guest_actor(access)
    participant = TicketParticipant.objects.filter(ticket=ticket, email=address).first()
    return participant_actor(participant, user) if participant is not None else None


def thread_of(email: ParsedEmail) -> Thread:
    user = sender_user(email.sender)
    ids = _candidates(email)
    tickets = Ticket.objects.in_bulk(ids) if ids else {}
    for ticket_id in ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            continue
        actor = _actor_on(ticket, user, email.sender)
        if actor is not None:
            return Thread(ticket, actor, user)
    return Thread(None, None, user)
