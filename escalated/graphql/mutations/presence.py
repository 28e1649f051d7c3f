"""Presence: agents say they are viewing or typing on a ticket, so others see them there."""

from __future__ import annotations

import strawberry
from strawberry import Info, relay

from escalated.graphql.context import viewer
from escalated.graphql.errors import UserError, staff_mutation_payload
from escalated.graphql.ids import load
from escalated.graphql.live import PresenceState, TicketViewer
from escalated.graphql.types import TicketNode
from escalated.services import presence as service


@strawberry.input
class TicketPresenceInput:
    ticket_id: relay.GlobalID
    state: PresenceState = strawberry.field(
        description="VIEWING or TYPING (repeat it within PRESENCE_TTL_SECONDS to stay listed), "
        "or LEFT."
    )


@strawberry.type
class TicketPresencePayload:
    viewers: list[TicketViewer] = strawberry.field(
        default_factory=list, description="Who is on the ticket now, the caller included."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PresenceMutations:
    @strawberry.mutation(
        description="Say you are viewing or typing on a ticket, or have left it (staff only). "
        "Entries lapse on their own when not renewed."
    )
    @staff_mutation_payload
    def ticket_presence(self, info: Info, input: TicketPresenceInput) -> TicketPresencePayload:
        ticket = load(info, input.ticket_id, TicketNode, field="ticket_id")
        rows = service.ticket_presence_set(
            ticket=ticket, actor=viewer(info), state=input.state.value
        )
        return TicketPresencePayload(viewers=[TicketViewer.of(row) for row in rows])
