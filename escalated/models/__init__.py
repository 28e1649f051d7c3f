"""Escalated's models, one module per aggregate."""

from escalated.models.activity import TicketActivity
from escalated.models.attachments import Attachment
from escalated.models.delivery import Delivery, DeliveryKind, DeliveryStatus, Webhook
from escalated.models.guests import GuestAccess
from escalated.models.inbound import InboundEmail, InboundProvider, InboundStatus
from escalated.models.macros import Macro
from escalated.models.organisation import AssignmentMode, CannedResponse, Department, Tag
from escalated.models.presence import PresenceState, TicketPresence
from escalated.models.ratings import MAX_RATING, MIN_RATING, SatisfactionRating
from escalated.models.routing import AgentProfile, Availability, RoutingCursor
from escalated.models.rules import EscalationRule, RuleFiring, RuleMatch, RuleTrigger
from escalated.models.settings import StoredSetting
from escalated.models.sites import ReceivedEvent, Site, SitePerson, SpentAssertion, SyncState
from escalated.models.sla import BusinessSchedule, Metric, SlaClock, SlaPolicy
from escalated.models.tickets import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    STATUS_RANK,
    Channel,
    Counter,
    Priority,
    Reply,
    Status,
    Ticket,
    TicketFollower,
    TicketParticipant,
    TicketType,
)
from escalated.models.tokens import ApiToken, TokenScope

__all__ = [
    "MAX_RATING",
    "MIN_RATING",
    "OPEN_STATUSES",
    "PRIORITY_RANK",
    "STATUS_RANK",
    "AgentProfile",
    "ApiToken",
    "AssignmentMode",
    "Attachment",
    "Availability",
    "BusinessSchedule",
    "CannedResponse",
    "Channel",
    "Counter",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "Department",
    "EscalationRule",
    "GuestAccess",
    "InboundEmail",
    "InboundProvider",
    "InboundStatus",
    "Macro",
    "Metric",
    "PresenceState",
    "Priority",
    "ReceivedEvent",
    "Reply",
    "RoutingCursor",
    "RuleFiring",
    "RuleMatch",
    "RuleTrigger",
    "SatisfactionRating",
    "Site",
    "SitePerson",
    "SlaClock",
    "SlaPolicy",
    "SpentAssertion",
    "Status",
    "StoredSetting",
    "SyncState",
    "Tag",
    "Ticket",
    "TicketActivity",
    "TicketFollower",
    "TicketParticipant",
    "TicketPresence",
    "TicketType",
    "TokenScope",
    "Webhook",
]
