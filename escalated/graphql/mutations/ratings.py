"""The requester's satisfaction rating."""

from __future__ import annotations

import strawberry
from strawberry import Info, relay

from escalated.graphql.context import viewer
from escalated.graphql.errors import UserError, guest_mutation_payload
from escalated.graphql.ids import load
from escalated.graphql.types import SatisfactionRatingNode, TicketNode
from escalated.services import ratings as service

Errors = strawberry.field(default_factory=list)


@strawberry.input
class TicketRateInput:
    ticket_id: relay.GlobalID
    rating: int = strawberry.field(description="1 (poor) to 5 (great).")
    comment: str = strawberry.field(default="", description="Plain text, optional.")


@strawberry.type
class TicketRatePayload:
    rating: SatisfactionRatingNode | None = None
    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class RatingMutations:
    @strawberry.mutation(description="Rate a resolved or closed ticket, once (its requester only).")
    @guest_mutation_payload
    def ticket_rate(self, info: Info, input: TicketRateInput) -> TicketRatePayload:
        rating = service.ticket_rate(
            ticket=load(info, input.ticket_id, TicketNode, field="ticket_id"),
            actor=viewer(info),
            rating=input.rating,
            comment=input.comment,
        )
        return TicketRatePayload(rating=rating, ticket=rating.ticket)
