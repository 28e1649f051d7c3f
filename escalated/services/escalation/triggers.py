"""Triggers: when a rule is looked at.

A *sweep* trigger's rules are evaluated over every open ticket by ``evaluate_escalations`` (run
it from cron or a worker every minute or so). An *event* trigger's rules are evaluated for one
ticket right after a change to it commits, when the change is of a kind the trigger ``wakes``
on. A trigger may also ``imply`` conditions that every rule using it carries, so a rule's whole
meaning compiles into its filter.

The admin form's three trigger types are stored as they are: ``time_based`` and ``sla_breach``
are sweeps; ``priority_based`` is an event trigger that looks at a ticket when it is created and
whenever its priority changes, so a rule such as "priority is urgent → assign to the senior
agent" acts the moment a ticket becomes urgent rather than at the next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from escalated import events
from escalated.models import RuleTrigger
from escalated.services.escalation.conditions import Condition


class Kind(StrEnum):
    SWEEP = "sweep"
    EVENT = "event"


@dataclass(frozen=True)
class Trigger:
    kind: Kind
    description: str
    wakes_on: tuple[type[events.TicketEvent], ...] = ()
    implies: tuple[Condition, ...] = ()

    def wakes(self, event: events.TicketEvent) -> bool:
        return isinstance(event, self.wakes_on)


@dataclass(frozen=True)
class CustomerReplyTrigger(Trigger):
    """Wakes on a public message from the customer (a reply no agent wrote)."""

    def wakes(self, event: events.TicketEvent) -> bool:
        if not isinstance(event, events.ReplyAdded) or event.reply.is_internal_note:
            return False
        return not event.reply.from_agent


# Every change a person (or a command) makes to an existing ticket.
CHANGES: tuple[type[events.TicketEvent], ...] = (
    events.TicketUpdated,
    events.TicketStatusChanged,
    events.TicketAssigned,
    events.TicketPriorityChanged,
    events.TicketDepartmentChanged,
    events.TicketTagsChanged,
    events.ReplyAdded,
    events.GuestTicketClaimed,
)


def _implies(field: str, value: Any) -> tuple[Condition, ...]:
    return (Condition(field, "equals", value),)


TRIGGERS: dict[str, Trigger] = {
    RuleTrigger.TIME_BASED: Trigger(Kind.SWEEP, "Open tickets, looked at by every sweep."),
    RuleTrigger.SLA_BREACH: Trigger(
        Kind.SWEEP,
        "Open tickets with a breached SLA target, looked at by every sweep.",
        implies=_implies("sla_breached", True),
    ),
    RuleTrigger.SLA_WARNING: Trigger(
        Kind.SWEEP,
        "Open tickets whose SLA target is close to breaching, looked at by every sweep.",
        implies=_implies("sla_warning", True),
    ),
    RuleTrigger.TICKET_CREATED: Trigger(
        Kind.EVENT, "A ticket, as it is opened.", wakes_on=(events.TicketCreated,)
    ),
    RuleTrigger.TICKET_UPDATED: Trigger(
        Kind.EVENT, "A ticket, after any change to it.", wakes_on=CHANGES
    ),
    RuleTrigger.CUSTOMER_REPLY: CustomerReplyTrigger(
        Kind.EVENT,
        "A ticket, when the customer writes and is now waiting for an answer.",
        wakes_on=(events.ReplyAdded,),
        implies=_implies("awaiting_reply", True),
    ),
    RuleTrigger.PRIORITY_BASED: Trigger(
        Kind.EVENT,
        "A ticket, when it is opened and whenever its priority changes.",
        wakes_on=(events.TicketCreated, events.TicketPriorityChanged),
    ),
}

SWEEP_TRIGGERS = frozenset(name for name, t in TRIGGERS.items() if t.kind is Kind.SWEEP)
EVENT_TRIGGERS = frozenset(name for name, t in TRIGGERS.items() if t.kind is Kind.EVENT)
