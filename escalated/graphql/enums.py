"""GraphQL enums, made from the model choices so there is one list of each."""

from enum import Enum

import strawberry

from escalated.access import Role as _Role
from escalated.errors import ErrorCode
from escalated.models import (
    AssignmentMode,
    Availability,
    Channel,
    Priority,
    Status,
    TicketType,
    TokenScope,
)
from escalated.services.macros import MacroActionType as _MacroActionType

TicketStatus = strawberry.enum(
    Status, name="TicketStatus", description="Where a ticket is in its life."
)
TicketPriority = strawberry.enum(
    Priority, name="TicketPriority", description="How urgent a ticket is."
)
TicketKind = strawberry.enum(
    TicketType, name="TicketType", description="What kind of request a ticket is."
)
TicketChannel = strawberry.enum(Channel, name="TicketChannel", description="How a ticket came in.")
ApiTokenScope = strawberry.enum(
    TokenScope, name="ApiTokenScope", description="What a token may do."
)
UserErrorCode = strawberry.enum(
    ErrorCode, name="UserErrorCode", description="Why input was refused."
)
Role = strawberry.enum(_Role, name="Role", description="Who the viewer is to the helpdesk.")
DepartmentAssignment = strawberry.enum(
    AssignmentMode, name="AssignmentMode", description="How a department hands out new tickets."
)
AgentAvailability = strawberry.enum(
    Availability, name="AgentAvailability", description="Whether an agent takes new tickets."
)
MacroActionType = strawberry.enum(
    _MacroActionType, name="MacroActionType", description="What one step of a macro does."
)


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"
