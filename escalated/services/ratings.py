"""Customer satisfaction: the requester rates a settled ticket, once."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from escalated import events
from escalated.access import TicketAction, require_ticket_action
from escalated.errors import DomainError, ErrorCode, Problem, collect
from escalated.models import MAX_RATING, MIN_RATING, SatisfactionRating, Status, Ticket
from escalated.services.common import lock_ticket
from escalated.services.text import optional_text

MAX_COMMENT = 5000
RATEABLE = (Status.RESOLVED, Status.CLOSED)


def ticket_rate(
    *, ticket: Ticket, actor: Any, rating: int, comment: str | None = ""
) -> SatisfactionRating:
    """Record the requester's rating (1-5, with an optional plain-text comment) of a resolved or
    closed ticket.

    Only the requester may rate (see :func:`escalated.access.is_requester`), and only once: sending
    the same rating again returns it unchanged (a retry), a different one is refused.
    """
    comment = (comment or "").strip()
    problems = optional_text(comment, field="comment", max_length=MAX_COMMENT)
    if not MIN_RATING <= rating <= MAX_RATING:
        problems.append(
            Problem(f"Rate from {MIN_RATING} to {MAX_RATING}.", ErrorCode.INVALID, "rating")
        )
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.RATE)
        collect(problems)
        existing = SatisfactionRating.objects.filter(ticket=ticket).first()
        if existing is not None:
            if (existing.rating, existing.comment) == (rating, comment):
                return existing
            raise DomainError(
                "This ticket has already been rated.", code=ErrorCode.DUPLICATE, field="ticket_id"
            )
        if ticket.status not in RATEABLE:
            raise DomainError(
                "Only a resolved or closed ticket can be rated.",
                code=ErrorCode.TICKET_NOT_RESOLVED,
                field="ticket_id",
            )
        saved = SatisfactionRating.objects.create(
            ticket=ticket, rating=rating, comment=comment, rated_by=events.person(actor)
        )
        events.record(events.TicketRated(ticket=ticket, actor=actor, rating=saved))
    return saved
