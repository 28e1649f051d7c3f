"""The most items each plain (unpaged) list field of the schema can hold.

The cost rule (:mod:`escalated.graphql.cost`) multiplies what is selected below a list by its
bound, so a list must never hold more than its bound says. Lists read from the database that
nothing else limits (a ticket's files, a reply's files) are cut at their bound by their
resolvers, which read the same numbers from here; the other lists are limited by what
creates them (a macro's actions, a report's days, the statuses there are) and are listed with the
limit that holds them. The lists inside a connection are paged by the connection's own
``first``/``last``, which the cost rule counts at the connection field.

A list missing from :data:`LIST_BOUNDS` fails ``tests/test_cost_bounds.py``: a new list field must
say how long it can be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from escalated.conf import escalated_settings
from escalated.models import MAX_RATING, MIN_RATING, Priority, Status
from escalated.services.escalation.rules import MAX_ACTIONS as MAX_RULE_ACTIONS
from escalated.services.escalation.rules import MAX_CONDITIONS
from escalated.services.macros import MAX_ACTIONS
from escalated.services.participants import MAX_PARTICIPANTS
from escalated.services.reports import MAX_REPORT_DAYS
from escalated.settings_store import EDITABLE


def page_size() -> int:
    """Lists of database rows that nothing else limits are cut at the page size."""
    return int(escalated_settings.MAX_PAGE_SIZE)


def files_per_message() -> int:
    """A reply or note carries at most MAX_ATTACHMENTS files (refused beyond, on upload; cut at
    that number when read, should the setting have been lowered since)."""
    return int(escalated_settings.MAX_ATTACHMENTS)


def _fixed(count: int) -> Callable[[], int]:
    return lambda: count


Bound = Callable[[], int]

# "Type.field" -> the most items it holds. Cut when read: the first two.
LIST_BOUNDS: dict[str, Bound] = {
    "Ticket.attachments": page_size,
    "Reply.attachments": files_per_message,
    # Limited where they are made.
    "Macro.actions": _fixed(MAX_ACTIONS),
    # Cut there too: two emails processed at once may each add the last one.
    "Ticket.participants": _fixed(MAX_PARTICIPANTS),
    "EscalationRule.conditions": _fixed(MAX_CONDITIONS),
    "EscalationRule.actions": _fixed(MAX_RULE_ACTIONS),
    "Report.byStatus": _fixed(len(Status.values)),
    "Report.byPriority": _fixed(len(Priority.values)),
    "Report.daily": _fixed(MAX_REPORT_DAYS),
    "SatisfactionSummary.breakdown": _fixed(MAX_RATING - MIN_RATING + 1),
    "Query.settings": _fixed(len(EDITABLE)),
    "SettingsUpdatePayload.settings": _fixed(len(EDITABLE)),
    # Staff data and configuration, and the results of one mutation: counted at the page size.
    # They come from what staff set up or what one request named, never from a customer's data,
    # and are empty for customers and guests; they are not cut (see the note of issue 16).
    "Ticket.tags": _fixed(20),  # a ticket with more tags than this costs more than counted
    "Department.agents": page_size,
    "Report.byDepartment": page_size,
    "Report.agents": page_size,
    "Report.sla": page_size,
    "SlaPolicy.departments": page_size,
    "SlaPolicy.tags": page_size,
    "SlaPolicy.targets": page_size,
    "SlaPolicy.pauseStatuses": page_size,
    "BusinessSchedule.intervals": page_size,
    "BusinessSchedule.holidays": page_size,
    "EscalationRuleReorderPayload.escalationRules": page_size,
    "GuestTicketsClaimPayload.tickets": page_size,
    "MacroApplyPayload.results": page_size,
    "TicketsBulkUpdatePayload.results": page_size,
    "TicketPresencePayload.viewers": page_size,
    "Subscription.ticketViewers": page_size,
}


def list_bound(parent: Any, name: str) -> int | None:
    """How many items the list field ``name`` of ``parent`` can hold; 1 for a connection's edges
    (their page is counted at the connection); None for a list this module does not know."""
    if name == "edges" and parent.name.endswith("Connection"):
        return 1
    if name == "errors":
        # UserErrors name the input's faults, built in memory with no reads: a handful each
        # (a file list's at most MAX_ATTACHMENTS), counted at 20.
        return 20
    bound = LIST_BOUNDS.get(f"{parent.name}.{name}")
    return None if bound is None else bound()
