"""From a published id to what one subscriber may see.

Every subscription re-checks each event for its own subscriber, against the ticket as it is now:
a customer never hears of an internal note, and an agent whose ticket moved to a department they
are not in hears nothing more of it. What does not depend on the subscriber (loading the ticket
and reply an event names, and whether the ticket matches each queue filter open in the process)
is done once per event per process, before the hub hands the event out, so a thousand open
queues cost one trip to the database per event, not a thousand. The subscriber's own role and
departments are read when the socket connects and again every REALTIME_ACCESS_RECHECK_SECONDS,
off the delivery path (:mod:`escalated.realtime.rechecks`).
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from escalated.access import (
    can_see_reply,
    can_see_ticket,
    in_a_department,
    is_staff,
    sees_person_on,
)
from escalated.events import PUBLIC_VERBS
from escalated.filters import TicketFilter
from escalated.models import Reply, Ticket
from escalated.realtime.groups import TICKET_MESSAGE

# The kinds of change a customer or guest hears of: one allow-list, kept with the events.
CUSTOMER_VERBS = PUBLIC_VERBS


# --- what an event names, loaded once per process ----------------------------------------


@dataclass(frozen=True)
class Loaded:
    """The ticket and reply an event names, as they are now (None: deleted since), and for each
    open queue filter in the process whether the ticket matches it."""

    ticket: Ticket | None
    reply: Reply | None
    matches: dict[Hashable, bool] = field(default_factory=dict)
    # Who made the change, if a person, and whether they are a member of any department.
    actor: Any | None = None
    actor_in_a_department: bool = False
    # Subscribers' executions of this event, kept for others they would read the same for
    # (escalated.graphql.event_execution).
    executions: dict[Hashable, Any] = field(default_factory=dict)
    # Parts of the subscribers' payloads that do not depend on the subscriber, built by the
    # first who needs them (escalated.graphql.live).
    shaped: dict[Hashable, Any] = field(default_factory=dict)


# Queue subscriptions open in this process, whose filters are evaluated once per event.
_watches: weakref.WeakSet[QueueWatch] = weakref.WeakSet()


async def prepare(message: dict[str, Any]) -> dict[str, Any]:
    """Attach what every subscriber of a ticket event needs, in one trip to the database: the
    ticket and reply it names and each open queue filter's verdict. Called by the hub before it
    hands the message to the subscriptions of the process."""
    if message.get("type") != TICKET_MESSAGE:
        return message
    watches = {watch.key(): watch for watch in list(_watches)}
    loaded = await database_sync_to_async(_load)(message, watches)
    return {**message, "loaded": loaded}


def _load(message: dict[str, Any], watches: dict[Hashable, QueueWatch]) -> Loaded:
    ticket = (
        Ticket.objects.select_related("requester", "assignee", "department")
        .prefetch_related("tags")
        .filter(pk=message["ticket_id"])
        .first()
    )
    if ticket is None:
        return Loaded(None, None)
    reply = None
    if message["reply_id"] is not None:
        reply = Reply.objects.select_related("author").filter(pk=message["reply_id"]).first()
    matches = {key: watch.in_filter(ticket.pk) for key, watch in watches.items()}
    actor = None
    if message["actor_id"] is not None:
        actor = (
            get_user_model()
            ._default_manager.annotate(in_a_department=in_a_department())
            .filter(pk=message["actor_id"])
            .first()
        )
    return Loaded(
        ticket,
        reply,
        matches,
        actor=actor,
        actor_in_a_department=bool(getattr(actor, "in_a_department", False)),
    )


def loaded(message: dict[str, Any]) -> Loaded:
    return message["loaded"]


def sees_actor(user: Any, loaded: Loaded, *, visible: bool) -> bool | None:
    """Whether ``user`` may see who made the change, where memory is enough to tell (None: ask
    the database, with the subscriber's own permissions)."""
    if loaded.actor is None:
        return False
    if not visible or loaded.ticket is None:
        return None
    return sees_person_on(
        user, loaded.actor, loaded.ticket, person_in_a_department=loaded.actor_in_a_department
    )


def sees_ticket(user: Any, loaded: Loaded) -> bool:
    return loaded.ticket is not None and can_see_ticket(user, loaded.ticket)


def sees(user: Any, message: dict[str, Any], loaded: Loaded) -> bool:
    """May ``user`` hear of this event? They must see the ticket now, the reply it names, and
    the kind of change (staff-only changes never reach a customer)."""
    ticket = loaded.ticket
    if ticket is None or not can_see_ticket(user, ticket):
        return False
    if message["verb"] not in CUSTOMER_VERBS and not is_staff(user):
        return False
    if message["reply_id"] is not None:
        return loaded.reply is not None and can_see_reply(user, loaded.reply, ticket)
    return True


# --- queues ------------------------------------------------------------------------------------


class QueueWatch:
    """What one ``queueEvents`` subscriber's queue holds, to tell entering from changing within
    from leaving. Membership is the ``tickets`` query's own FilterSet plus the viewer's access.

    ``members`` starts as the ids the filter matched when the subscription opened. While open,
    the watch is registered with the process, so its filter is evaluated with each event's load
    (once per distinct filter, however many subscribers share it).
    """

    def __init__(self, data: dict[str, Any], request: Any, members: set[int]) -> None:
        self.data = data
        self.request = request
        self.members = members
        self._frozen = tuple(
            sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in data.items())
        )
        self._key_user: Any = None  # the user object the cached key was worked out for
        self._key: Hashable = None
        _watches.add(self)

    def close(self) -> None:
        _watches.discard(self)

    def key(self) -> Hashable:
        """What the filter's verdict depends on: its data, and the viewer only where a filter
        looks at the viewer (search reads notes for staff; following is per person). Worked
        out again only when the access rechecks give the request a fresh user."""
        user = self.request.user
        if user is not self._key_user:
            self._key_user = user
            self._key = (
                self._frozen,
                is_staff(user) if "search" in self.data else None,
                user.pk if "following" in self.data else None,
            )
        return self._key

    def in_filter(self, ticket_id: int) -> bool:
        queryset = Ticket.objects.filter(pk=ticket_id)
        return TicketFilter(self.data, queryset=queryset, request=self.request).qs.exists()

    async def matches(self, user: Any, loaded: Loaded) -> bool:
        if not sees_ticket(user, loaded):
            return False
        verdict = loaded.matches.get(self.key())
        if verdict is None:  # opened while this event was being loaded
            assert loaded.ticket is not None
            verdict = await database_sync_to_async(self.in_filter)(loaded.ticket.pk)
        return verdict

    async def change(self, user: Any, message: dict[str, Any], loaded: Loaded) -> str | None:
        """ "entered", "changed" or "left" for this subscriber's queue, or None (nothing to say)."""
        ticket_id = message["ticket_id"]
        was_in = ticket_id in self.members
        if message["verb"] in ("followed", "unfollowed") and message["actor_id"] != user.pk:
            return None  # someone else's follow changes nothing in this queue
        if await self.matches(user, loaded):
            self.members.add(ticket_id)
            return "changed" if was_in else "entered"
        if was_in:
            self.members.discard(ticket_id)
            return "left"
        return None
