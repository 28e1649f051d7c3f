"""The channel-layer groups live events travel through, and the message types they carry.

Messages hold ids and codes only, never content: every subscriber reloads what an id names
through its own permissions before sending anything to its client.
"""

from __future__ import annotations

# Every ticket change, for queue subscribers (each decides with its own filter and access).
QUEUE_GROUP = "escalated.queue"

# Message types (channels wants one on every message; the hub routes by group).
TICKET_MESSAGE = "escalated.ticket_event"
PRESENCE_MESSAGE = "escalated.presence"


def ticket_group(ticket_id: int) -> str:
    """Changes to one ticket."""
    return f"escalated.ticket.{ticket_id}"


def agent_group(user_id: int) -> str:
    """Assignments given to or taken from one person."""
    return f"escalated.agent.{user_id}"


def presence_group(ticket_id: int) -> str:
    """Who is viewing or typing on one ticket."""
    return f"escalated.presence.{ticket_id}"
