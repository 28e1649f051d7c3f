"""Sending ids to the channel layer once a change has committed.

Called by the after-commit fan-out in :mod:`escalated.events`; nothing else publishes. A message
names what happened (ticket id, verb, reply id, the people an assignment moved between) and
never carries content, so the channel layer (Redis in production) never holds a subject, a
body or a note.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from escalated.realtime.groups import (
    PRESENCE_MESSAGE,
    QUEUE_GROUP,
    TICKET_MESSAGE,
    agent_group,
    presence_group,
    ticket_group,
)

logger = logging.getLogger(__name__)

# Verbs whose events concern only staff: they change nothing a customer sees on the ticket page,
# and follows are private to the follower. They go to queue subscribers (all staff) only.
QUEUE_ONLY_VERBS = frozenset({"followed", "unfollowed"})


@dataclass(frozen=True)
class TicketNews:
    """What a ticket event says over the channel layer: ids and codes only."""

    ticket_id: int
    verb: str
    actor_id: int | None = None
    reply_id: int | None = None
    # Names of the Ticket model fields that changed.
    changed: tuple[str, ...] = ()
    # For assignment changes: who had the ticket before and who has it now.
    previous_assignee_id: int | None = None
    assignee_id: int | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # When the change committed (Unix time), so clients and benchmarks can tell how late it is.
    at: float = field(default_factory=time.time)

    def groups(self) -> list[str]:
        groups = [QUEUE_GROUP]
        if self.verb not in QUEUE_ONLY_VERBS:
            groups.append(ticket_group(self.ticket_id))
        if "assignee" in self.changed:
            groups += [
                agent_group(person)
                for person in {self.previous_assignee_id, self.assignee_id}
                if person is not None
            ]
        return groups

    def message(self) -> dict[str, Any]:
        return {
            "type": TICKET_MESSAGE,
            "event_id": self.event_id,
            "ticket_id": self.ticket_id,
            "verb": self.verb,
            "actor_id": self.actor_id,
            "reply_id": self.reply_id,
            "changed": list(self.changed),
            "previous_assignee_id": self.previous_assignee_id,
            "assignee_id": self.assignee_id,
            "at": self.at,
        }


def publish_ticket_news(news: TicketNews) -> None:
    """Send ``news`` to each group that wants it (one copy per group, marked with the group)."""
    _send(news.groups(), news.message())


def publish_presence(ticket_id: int) -> None:
    """Tell ``ticketViewers`` subscribers of the ticket to re-read who is there."""
    _send(
        [presence_group(ticket_id)],
        {"type": PRESENCE_MESSAGE, "ticket_id": ticket_id, "event_id": uuid.uuid4().hex},
    )


def _send(groups: Iterable[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        # The host configured no CHANNEL_LAYERS: there is nobody to tell.
        return
    async_to_sync(_group_send_all)(layer, list(groups), message)


async def _group_send_all(layer: Any, groups: list[str], message: dict[str, Any]) -> None:
    await asyncio.gather(
        *(layer.group_send(group, {**message, "group": group}) for group in groups)
    )
