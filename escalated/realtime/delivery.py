"""From a published id to what one subscriber may see.

Every subscription re-checks each event for its own subscriber, against the ticket as it is now:
a customer never hears of an internal note, and an agent whose ticket moved to a department they
are not in hears nothing more of it. What does not depend on the subscriber (loading the ticket
and reply an event names, and whether a ticket matches a given queue filter) is done once per
event per process and shared by every subscription in the process, so a thousand open queues
cost one load per event, not a thousand.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from escalated.access import (
    agent_department_ids,
    can_see_reply,
    can_see_ticket,
    is_staff,
    role_of,
)
from escalated.conf import escalated_settings
from escalated.filters import TicketFilter
from escalated.models import ApiToken, Reply, Ticket

T = TypeVar("T")

# Verbs of changes only staff see: tags are staff-only, notes are internal, follows are private.
STAFF_ONLY_VERBS = frozenset(
    {"tags_changed", "note_added", "note_pinned", "note_unpinned", "followed", "unfollowed"}
)


# --- the subscriber ----------------------------------------------------------------------------


async def current_user(request: Any) -> Any | None:
    """The connection's user, with role and departments read from the database at most
    ``REALTIME_ACCESS_RECHECK_SECONDS`` ago; None once they may no longer use the helpdesk
    (deactivated, deleted, or their API token revoked or expired).

    Reading ahead keeps every later check in memory: no query runs on the event loop.
    """
    recheck = escalated_settings.REALTIME_ACCESS_RECHECK_SECONDS
    if time.monotonic() - request.access_read_at >= recheck or not request.access_read_at:
        user = await database_sync_to_async(_reread)(request.user, request.escalated_token)
        request.user = user if user is not None else AnonymousUser()
        request.access_read_at = time.monotonic()
    return request.user if request.user.is_authenticated else None


def _reread(user: Any, token: ApiToken | None) -> Any | None:
    if token is not None:
        token = ApiToken.objects.select_related("user").filter(pk=token.pk).first()
        if token is None or not token.is_usable:
            return None
        user = token.user
    else:
        user = get_user_model()._default_manager.filter(pk=user.pk).first()
    if user is None or not user.is_active:
        return None
    role_of(user)
    agent_department_ids(user)
    return user


# --- loads shared by the subscriptions of one process -------------------------------------------


class _EventMemo:
    """Results about one event, computed once by whichever subscription asks first and awaited
    by the rest. Holds the most recent events only."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._events: OrderedDict[str, dict[Hashable, asyncio.Future[Any]]] = OrderedDict()

    async def get(self, event_id: str, key: Hashable, compute: Callable[[], T]) -> T:
        slots = self._events.get(event_id)
        if slots is None:
            slots = self._events[event_id] = {}
            while len(self._events) > self.size:
                self._events.popitem(last=False)
        task = slots.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            # A task of its own, so a subscriber leaving mid-load does not cancel it for the rest.
            task = slots[key] = asyncio.ensure_future(database_sync_to_async(compute)())
            task.add_done_callback(lambda done: _forget_failure(slots, key, done))
        return await asyncio.shield(task)


def _forget_failure(slots: dict[Hashable, Any], key: Hashable, task: asyncio.Future[Any]) -> None:
    """A failed load is not remembered: the next subscriber to ask tries again."""
    if task.cancelled() or task.exception() is not None:
        slots.pop(key, None)


_memo = _EventMemo()


@dataclass(frozen=True)
class Loaded:
    """The ticket and reply an event names, as they are now (None: deleted since)."""

    ticket: Ticket | None
    reply: Reply | None


async def load(message: dict[str, Any]) -> Loaded:
    return await _memo.get(message["event_id"], "load", lambda: _load(message))


def _load(message: dict[str, Any]) -> Loaded:
    ticket = (
        Ticket.objects.select_related("requester", "assignee", "department")
        .prefetch_related("tags")
        .filter(pk=message["ticket_id"])
        .first()
    )
    reply = None
    if message.get("reply_id") is not None and ticket is not None:
        reply = Reply.objects.select_related("author").filter(pk=message["reply_id"]).first()
    return Loaded(ticket, reply)


def sees_ticket(user: Any, loaded: Loaded) -> bool:
    return loaded.ticket is not None and can_see_ticket(user, loaded.ticket)


def sees(user: Any, message: dict[str, Any], loaded: Loaded) -> bool:
    """May ``user`` hear of this event? They must see the ticket now, the reply it names, and
    the kind of change (staff-only changes never reach a customer)."""
    ticket = loaded.ticket
    if ticket is None or not can_see_ticket(user, ticket):
        return False
    if message["verb"] in STAFF_ONLY_VERBS and not is_staff(user):
        return False
    if message["reply_id"] is not None:
        return loaded.reply is not None and can_see_reply(user, loaded.reply, ticket)
    return True


# --- queues ------------------------------------------------------------------------------------


class QueueWatch:
    """What one ``queueEvents`` subscriber's queue holds, to tell entering from changing within
    from leaving. Membership is the ``tickets`` query's own FilterSet plus the viewer's access.

    ``members`` starts as the ids the filter matched when the subscription opened.
    """

    def __init__(self, data: dict[str, Any], request: Any, members: set[int]) -> None:
        self.data = data
        self.request = request
        self.members = members

    def _key(self, user: Any) -> Hashable:
        """What the filter's answer depends on: its data, and the viewer only where a filter
        looks at the viewer (search reads notes for staff; following is per person)."""
        frozen = tuple(
            sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in self.data.items())
        )
        return (
            "queue",
            frozen,
            is_staff(user) if "search" in self.data else None,
            user.pk if "following" in self.data else None,
        )

    async def matches(self, user: Any, message: dict[str, Any], loaded: Loaded) -> bool:
        if not sees_ticket(user, loaded):
            return False
        ticket_id = message["ticket_id"]

        def in_filter() -> bool:
            queryset = Ticket.objects.filter(pk=ticket_id)
            return TicketFilter(self.data, queryset=queryset, request=self.request).qs.exists()

        return await _memo.get(message["event_id"], self._key(user), in_filter)

    async def change(self, user: Any, message: dict[str, Any], loaded: Loaded) -> str | None:
        """ "entered", "changed" or "left" for this subscriber's queue, or None (nothing to say)."""
        ticket_id = message["ticket_id"]
        was_in = ticket_id in self.members
        if message["verb"] in ("followed", "unfollowed") and message["actor_id"] != user.pk:
            return None  # someone else's follow changes nothing in this queue
        is_in = await self.matches(user, message, loaded)
        if is_in and message["verb"] in STAFF_ONLY_VERBS and not is_staff(user):
            return None
        if is_in:
            self.members.add(ticket_id)
            return "changed" if was_in else "entered"
        if was_in:
            self.members.discard(ticket_id)
            return "left"
        return None
