"""Live queues: the presence mutation here; the subscriptions, which the HTTP matrix cannot run,
as SUBSCRIPTIONS (run over a websocket by tests/realtime/test_subscription_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from escalated.realtime.groups import QUEUE_GROUP, agent_group, presence_group, ticket_group
from tests.conftest import World, gid
from tests.matrix import NOT_FOUND, STAFF, TICKET_CUSTOMER, TICKET_WORK, Op, only, payload_mutation

MUTATIONS = [
    Op(
        "ticketPresence",
        payload_mutation("ticketPresence", "TicketPresenceInput", "viewers { state }"),
        lambda w: {"input": {"ticketId": gid(w.ticket), "state": "VIEWING"}},
        TICKET_WORK,
    ),
]


@dataclass
class SubscriptionOp:
    """A subscription, what each persona gets, and the group an allowed subscriber joins."""

    name: str
    document: str
    variables: Callable[[World], dict[str, Any]]
    outcomes: dict[str, str]
    group: Callable[[World, Any], str]
    # Whether an allowed subscriber gets a first result at once (the current state).
    sends_current: bool = False

    @property
    def field(self) -> str:
        return self.name.split(" ")[0]


SUBSCRIPTIONS = [
    SubscriptionOp(
        "ticketEvents",
        "subscription($id: ID!) { ticketEvents(ticketId: $id) { kind } }",
        lambda w: {"id": gid(w.ticket)},
        TICKET_CUSTOMER,
        lambda w, user: ticket_group(w.ticket.pk),
    ),
    SubscriptionOp(
        "queueEvents",
        "subscription { queueEvents(filter: {status: [OPEN]}) { change } }",
        lambda w: {},
        only(STAFF | {"outsider"}),
        lambda w, user: QUEUE_GROUP,
    ),
    SubscriptionOp(
        "myAssignments",
        "subscription { myAssignments { change } }",
        lambda w: {},
        only(STAFF | {"outsider"}),
        lambda w, user: agent_group(user.pk),
    ),
    SubscriptionOp(
        "ticketViewers",
        "subscription($id: ID!) { ticketViewers(ticketId: $id) { state } }",
        lambda w: {"id": gid(w.ticket)},
        only(STAFF, outsider=NOT_FOUND),
        lambda w, user: presence_group(w.ticket.pk),
        sends_current=True,
    ),
]
