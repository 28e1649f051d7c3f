"""The types live subscriptions send: ticket events, queue changes, assignments, presence."""

from __future__ import annotations

import functools
from collections.abc import Hashable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from strawberry import Info, relay
from strawberry.utils.str_converters import to_camel_case

from escalated.access import visible_users
from escalated.graphql.context import viewer
from escalated.graphql.event_execution import fact_read
from escalated.graphql.types import ReplyNode, TicketNode, UserNode
from escalated.models import TicketPresence
from escalated.realtime.delivery import Loaded, sees_actor


@strawberry.enum(description="What happened to a ticket.")
class TicketEventKind(Enum):
    CREATED = "created"
    UPDATED = "updated"
    REPLY_ADDED = "replied"
    NOTE_ADDED = "note_added"
    NOTE_PINNED = "note_pinned"
    NOTE_UNPINNED = "note_unpinned"
    STATUS_CHANGED = "status_changed"
    PRIORITY_CHANGED = "priority_changed"
    ASSIGNED = "assigned"
    DEPARTMENT_CHANGED = "department_changed"
    TAGS_CHANGED = "tags_changed"
    FOLLOWED = "followed"
    UNFOLLOWED = "unfollowed"
    SLA_CHANGED = "sla_changed"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"

    @classmethod
    def of(cls, verb: str) -> TicketEventKind:
        """The kind of an event verb; an SLA verb this list does not name is an SLA change, and
        any other verb it does not know is an update (so a new kind of event is never lost)."""
        try:
            return cls(verb)
        except ValueError:
            return cls.SLA_CHANGED if verb.startswith("sla_") else cls.UPDATED


@strawberry.enum(description="How a change moved a ticket relative to a filtered queue.")
class QueueChange(Enum):
    ENTERED = "entered"
    CHANGED = "changed"
    LEFT = "left"


@strawberry.enum(description="Whether a ticket was given to the viewer or taken from them.")
class AssignmentChange(Enum):
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"


@strawberry.enum(description="What someone is doing on a ticket.")
class PresenceState(Enum):
    VIEWING = "viewing"
    TYPING = "typing"
    LEFT = "left"


@strawberry.type
class TicketNews:
    """The part every ticket event shares (not itself in the schema)."""

    kind: TicketEventKind
    ticket_id: relay.GlobalID
    ticket: TicketNode | None = strawberry.field(
        description="The ticket as it is now, as the subscriber may see it; null when the change "
        "took it out of their sight."
    )
    changed_fields: list[str] = strawberry.field(
        description="The Ticket fields this change touched (e.g. status, assignee)."
    )
    occurred_at: datetime = strawberry.field(description="When the change was committed.")
    loaded: strawberry.Private[Loaded]
    # Who this payload is for: decides whether they may see the actor (``actor_visible``).
    subscriber: strawberry.Private[Any]

    @functools.cached_property
    def actor_visible(self) -> bool | None:
        """Whether the subscriber may see who made the change, where memory is enough to tell
        (None: the resolver asks the database, as the subscriber). Worked out only for a
        selection that reads ``actor``."""
        return sees_actor(self.subscriber, self.loaded, visible=self.ticket is not None)

    @strawberry.field(description="Who made the change, if a person (and one you may see).")
    async def actor(self, info: Info) -> UserNode | None:
        person = self.loaded.actor
        fact_read("actor_visible", self.actor_visible)
        if person is None or self.actor_visible is False:
            return None
        if self.actor_visible:
            return person
        me = viewer(info)
        people = get_user_model()._default_manager.filter(pk=person.pk)
        found = await database_sync_to_async(lambda: visible_users(me, people).exists())()
        return person if found else None

    @staticmethod
    def fields(
        message: dict[str, Any], loaded: Loaded, user: Any, *, visible: bool = True
    ) -> dict[str, Any]:
        """The payload's fields for ``user``. All but the subscriber are the same for every
        subscriber who sees the ticket (or every one who does not): worked out once per event."""
        common = loaded.shaped.get(("fields", visible))
        if common is None:
            common = loaded.shaped["fields", visible] = {
                "kind": TicketEventKind.of(message["verb"]),
                "ticket_id": relay.GlobalID("Ticket", str(message["ticket_id"])),
                "ticket": loaded.ticket if visible else None,
                "changed_fields": [to_camel_case(name) for name in message["changed"]],
                "occurred_at": datetime.fromtimestamp(message["at"], tz=UTC),
                "loaded": loaded,
            }
        return {**common, "subscriber": user}

    # Sharing one execution of the event between subscribers (escalated.graphql.event_execution).

    def execution_memo(self) -> dict[Hashable, Any]:
        return self.loaded.executions

    def share_key(self) -> Hashable:
        """What this subscriber's payload holds that another's may not: the event's kind of
        payload, whether the ticket is in sight, and how the change moved it for them."""
        return (
            type(self).__name__,
            self.ticket is None,
            getattr(self, "reply", None) is None,
            getattr(self, "change", None),
        )


@strawberry.type(description="A change to one ticket, sent to its ticketEvents subscribers.")
class TicketEvent(TicketNews):
    reply: ReplyNode | None = strawberry.field(
        description="The reply or note the event is about (REPLY_ADDED, NOTE_ADDED, NOTE_PINNED…)."
    )

    @classmethod
    def of(cls, message: dict[str, Any], loaded: Loaded, user: Any) -> TicketEvent:
        return cls(reply=loaded.reply, **TicketNews.fields(message, loaded, user))


@strawberry.type(description="A change that moved a ticket into, within or out of a queue.")
class QueueEvent(TicketNews):
    change: QueueChange

    @classmethod
    def of(
        cls, change: str, message: dict[str, Any], loaded: Loaded, user: Any, *, visible: bool
    ) -> Any:
        return cls(
            change=QueueChange(change), **TicketNews.fields(message, loaded, user, visible=visible)
        )


@strawberry.type(description="A ticket given to the viewer or taken from them.")
class AssignmentEvent(TicketNews):
    change: AssignmentChange

    @classmethod
    def of(
        cls,
        change: AssignmentChange,
        message: dict[str, Any],
        loaded: Loaded,
        user: Any,
        *,
        visible: bool,
    ) -> Any:
        return cls(change=change, **TicketNews.fields(message, loaded, user, visible=visible))


@strawberry.type(description="Someone viewing a ticket or typing on it right now.")
class TicketViewer:
    user: UserNode
    state: PresenceState
    updated_at: datetime = strawberry.field(description="When they last said so.")
    expires_at: datetime = strawberry.field(
        description="When the entry lapses unless they say so again."
    )

    @classmethod
    def of(cls, row: TicketPresence) -> TicketViewer:
        return cls(
            user=row.user,
            state=PresenceState(row.state),
            updated_at=row.updated_at,
            expires_at=row.expires_at,
        )
