"""Agents' own working state."""

from __future__ import annotations

import strawberry
from strawberry import Info, relay

from escalated.graphql.context import viewer
from escalated.graphql.enums import AgentAvailability
from escalated.graphql.errors import UserError, staff_mutation_payload
from escalated.graphql.ids import load_optional
from escalated.graphql.types import UserNode
from escalated.services import routing

Errors = strawberry.field(default_factory=list)


@strawberry.input
class AgentAvailabilitySetInput:
    availability: AgentAvailability
    agent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Whose availability; the viewer's own when null (others: admins)."
    )


@strawberry.type
class AgentAvailabilitySetPayload:
    agent: UserNode | None = None
    availability: AgentAvailability | None = None
    errors: list[UserError] = Errors


@strawberry.type
class AgentMutations:
    @strawberry.mutation(
        description="Mark an agent available or away; away agents get no auto-assigned tickets."
    )
    @staff_mutation_payload
    def agent_availability_set(
        self, info: Info, input: AgentAvailabilitySetInput
    ) -> AgentAvailabilitySetPayload:
        actor = viewer(info)
        agent = load_optional(info, input.agent_id, UserNode, field="agent_id") or actor
        profile = routing.agent_availability_set(
            actor=actor, agent=agent, availability=input.availability
        )
        return AgentAvailabilitySetPayload(agent=agent, availability=profile.availability)
