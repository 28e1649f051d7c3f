"""Escalated's models, one module per aggregate."""

from escalated.models.activity import TicketActivity
from escalated.models.attachments import Attachment
from escalated.models.guests import GuestAccess
from escalated.models.organisation import CannedResponse, Department, Tag
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
    "Attachment",
    "CannedResponse",
    "Channel",
    "Counter",
    "Department",
    "GuestAccess",
    "Priority",
    "Reply",
    "Status",
    "Tag",
    "Ticket",
    "TicketActivity",
    "TicketFollower",
    "TicketType",
    "TokenScope",
]
