"""Escalated's models, one module per aggregate."""

from escalated.models.activity import TicketActivity
from escalated.models.organisation import CannedResponse, Department, Tag
from escalated.models.rules import EscalationRule, RuleFiring, RuleMatch, RuleTrigger
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
    TicketType,
)
from escalated.models.tokens import ApiToken, TokenScope

__all__ = [
    "OPEN_STATUSES",
    "PRIORITY_RANK",
    "STATUS_RANK",
    "ApiToken",
    "CannedResponse",
    "Channel",
    "Counter",
    "Department",
    "EscalationRule",
    "Priority",
    "Reply",
    "RuleFiring",
    "RuleMatch",
    "RuleTrigger",
    "Status",
    "Tag",
    "Ticket",
    "TicketActivity",
    "TicketFollower",
    "TicketType",
    "TokenScope",
]
