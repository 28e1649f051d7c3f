"""Live subscriptions, over the GraphQL websocket (graphql-transport-ws, or legacy graphql-ws).

Each subscription listens for the ids published to a channel-layer group (through the process's
:class:`~escalated.realtime.hub.Hub`), and for every event reloads what the id names and
re-checks it for its own subscriber (:mod:`escalated.realtime.delivery`) before sending anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone
from graphql import GraphQLError
from strawberry import Info, relay

from escalated.access import is_staff, visible_tickets
from escalated.graphql.errors import refusal
from escalated.graphql.filters import TicketFilterInput, filter_tickets
from escalated.graphql.live import (
    AssignmentChange,
    AssignmentEvent,
    QueueEvent,
    TicketEvent,
    TicketViewer,
)
from escalated.realtime import delivery, rechecks
from escalated.realtime.consumer import SocketContext
from escalated.realtime.groups import (
    QUEUE_GROUP,
    agent_group,
    presence_group,
    ticket_group,
)
from escalated.realtime.hub import Hub
from escalated.services.presence import ticket_viewers


async def _subscriber(info: Info, *, staff: bool = False) -> Any:
    """The signed-in user of this websocket; refuse anyone else (or non-staff, if ``staff``)."""
    if not isinstance(info.context, SocketContext):
        raise GraphQLError("Subscriptions run over the websocket at this same path.")
    user = rechecks.current_user(info.context.request)
    if user is None:
        raise refusal(None, "Sign in first.")
    if staff and not is_staff(user):
        raise refusal(user, "Only agents can do this.")
    return user


async def _visible_ticket_id(user: Any, ticket_id: relay.GlobalID) -> int:
    """The ticket's primary key if ``user`` may see it; else NOT_FOUND (whether or not it
    exists)."""
    if ticket_id.type_name == "Ticket":

        def find() -> int | None:
            try:
                ids = visible_tickets(user).filter(pk=ticket_id.node_id)
                return ids.values_list("pk", flat=True).first()
            except (TypeError, ValueError, ValidationError):
                return None

        found = await database_sync_to_async(find)()
        if found is not None:
            return found
    raise GraphQLError("No ticket with that id.", extensions={"code": "NOT_FOUND"})


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Changes to one ticket as they happen: replies (internal notes only to "
        "staff), status, priority, assignee, department, tags and SLA changes. Ends when the "
        "subscriber can no longer use the helpdesk."
    )
    async def ticket_events(
        self, info: Info, ticket_id: relay.GlobalID
    ) -> AsyncGenerator[TicketEvent, None]:
        user = await _subscriber(info)
        pk = await _visible_ticket_id(user, ticket_id)
        async with Hub.current().listen(ticket_group(pk)) as messages:
            async for message in messages:
                user = rechecks.current_user(info.context.request)
                if user is None:
                    return
                loaded = delivery.loaded(message)
                if delivery.sees(user, message, loaded):
                    yield TicketEvent.of(message, loaded, user)

    @strawberry.subscription(
        description="Tickets entering, changing within or leaving the queue a filter describes "
        "(the `tickets` query's filter), so a list stays right without refetching (staff only). "
        "Subscribe before fetching the list, so that no change falls between the two."
    )
    async def queue_events(
        self, info: Info, filter: TicketFilterInput | None = None
    ) -> AsyncGenerator[QueueEvent, None]:
        user = await _subscriber(info, staff=True)
        request = info.context.request

        def snapshot() -> set[int]:
            queryset = filter_tickets(visible_tickets(user), request, filter, None)
            return set(queryset.values_list("pk", flat=True))

        members = await database_sync_to_async(snapshot)()
        watch = delivery.QueueWatch(filter.to_data() if filter else {}, request, members)
        try:
            async with Hub.current().listen(QUEUE_GROUP) as messages:
                async for message in messages:
                    user = rechecks.current_user(request)
                    if user is None or not is_staff(user):
                        return
                    loaded = delivery.loaded(message)
                    change = await watch.change(user, message, loaded)
                    if change is not None:
                        visible = delivery.sees_ticket(user, loaded)
                        yield QueueEvent.of(change, message, loaded, user, visible=visible)
        finally:
            watch.close()

    @strawberry.subscription(
        description="Tickets given to the viewer or taken from them (staff only)."
    )
    async def my_assignments(self, info: Info) -> AsyncGenerator[AssignmentEvent, None]:
        user = await _subscriber(info, staff=True)
        me = user.pk
        async with Hub.current().listen(agent_group(me)) as messages:
            async for message in messages:
                user = rechecks.current_user(info.context.request)
                if user is None or not is_staff(user):
                    return
                if message["assignee_id"] == me:
                    change = AssignmentChange.ASSIGNED
                elif message["previous_assignee_id"] == me:
                    change = AssignmentChange.UNASSIGNED
                else:
                    continue
                loaded = delivery.loaded(message)
                visible = delivery.sees_ticket(user, loaded)
                yield AssignmentEvent.of(change, message, loaded, user, visible=visible)

    @strawberry.subscription(
        description="Who is viewing or typing on a ticket: the list now, then again whenever "
        "someone arrives, changes state, leaves or lapses (staff only)."
    )
    async def ticket_viewers(
        self, info: Info, ticket_id: relay.GlobalID
    ) -> AsyncGenerator[list[TicketViewer], None]:
        user = await _subscriber(info, staff=True)
        pk = await _visible_ticket_id(user, ticket_id)
        request = info.context.request

        def read() -> tuple[bool, list[TicketViewer]]:
            still_visible = visible_tickets(request.user).filter(pk=pk).exists()
            return still_visible, [TicketViewer.of(row) for row in ticket_viewers(ticket_id=pk)]

        async with Hub.current().listen(presence_group(pk)) as messages:
            sent: list[tuple[int, str]] | None = None
            lapse = _Lapse()
            async for _ in _ticks(messages, lapse):
                user = rechecks.current_user(request)
                if user is None or not is_staff(user):
                    return
                visible, viewers = await database_sync_to_async(read)()
                if not visible:
                    return
                lapse.at = min((v.expires_at for v in viewers), default=None)
                summary = [(v.user.pk, v.state.value) for v in viewers]
                if summary != sent:
                    sent = summary
                    yield viewers


class _Lapse:
    """When the soonest presence entry shown lapses (None: nobody is there)."""

    at: datetime | None = None

    def seconds(self) -> float | None:
        if self.at is None:
            return None
        # A hair late, so the entry has lapsed by the time it is read again.
        return max(0.0, (self.at - timezone.now()).total_seconds()) + 0.05


async def _ticks(messages: AsyncIterator[Any], lapse: _Lapse) -> AsyncIterator[None]:
    """Tick once now, then on every message, and whenever ``lapse`` comes due."""
    yield None
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(messages))
            done, _ = await asyncio.wait({pending}, timeout=lapse.seconds())
            if done:
                pending.result()
                pending = None
            yield None
    finally:
        if pending is not None:
            pending.cancel()
