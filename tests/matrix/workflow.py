"""The agent workflow: availability, macros, satisfaction ratings, canned response rendering,
reports and the agent dashboard."""

from __future__ import annotations

from escalated.models import CannedResponse, Macro
from escalated.services import macros, organisation, tickets
from tests.conftest import World, gid
from tests.matrix import (
    ADMIN_ONLY,
    NOT_FOUND,
    NULL,
    STAFF,
    TICKET_WORK,
    Op,
    only,
    payload_mutation,
)

AGENTS = STAFF | {"outsider"}


def _shared_macro(w: World) -> None:
    macros.macro_create(
        actor=w.admin,
        name="Escalate politely",
        actions=[
            macros.MacroAction(type="set_priority", priority="high"),
            macros.MacroAction(type="add_note", body="Raised for {{ requester.name }}"),
        ],
    )


def _agents_macro(w: World) -> None:
    macros.macro_create(
        actor=w.agent,
        name="Mine",
        is_shared=False,
        actions=[macros.MacroAction(type="set_priority", priority="low")],
    )


def _macro_gid(w: World) -> str:
    return gid(Macro.objects.get())


def _shared_canned(w: World) -> None:
    organisation.canned_response_create(
        actor=w.admin, title="Hi", body="Hello {{ requester.first_name }}"
    )


def _resolve(w: World) -> None:
    tickets.ticket_resolve(ticket=w.ticket, actor=w.agent)


MACRO_ACTIONS = [{"type": "SET_STATUS", "status": "IN_PROGRESS"}]

MUTATIONS = [
    Op(
        "agentAvailabilitySet (own)",
        payload_mutation("agentAvailabilitySet", "AgentAvailabilitySetInput", "availability"),
        lambda w: {"input": {"availability": "AWAY"}},
        only(AGENTS),
    ),
    Op(
        "agentAvailabilitySet (the outsider's)",
        payload_mutation("agentAvailabilitySet", "AgentAvailabilitySetInput", "availability"),
        lambda w: {"input": {"availability": "AWAY", "agentId": gid(w.outsider)}},
        only({"admin", "outsider"}),
    ),
    Op(
        "macroCreate (shared)",
        payload_mutation("macroCreate", "MacroCreateInput", "macro { id }"),
        lambda w: {"input": {"name": "Triage", "actions": MACRO_ACTIONS}},
        ADMIN_ONLY,
    ),
    Op(
        "macroCreate (personal)",
        payload_mutation("macroCreate", "MacroCreateInput", "macro { id }"),
        lambda w: {"input": {"name": "Mine", "isShared": False, "actions": MACRO_ACTIONS}},
        only(AGENTS),
    ),
    Op(
        "macroUpdate (shared)",
        payload_mutation("macroUpdate", "MacroUpdateInput", "macro { id }"),
        lambda w: {"input": {"id": _macro_gid(w), "name": "Renamed"}},
        ADMIN_ONLY,
        setup=_shared_macro,
    ),
    Op(
        "macroUpdate (the agent's own)",
        payload_mutation("macroUpdate", "MacroUpdateInput", "macro { id }"),
        lambda w: {"input": {"id": _macro_gid(w), "name": "Renamed"}},
        # Personal macros are their owner's: other staff do not find them.
        only({"agent"}, outsider=NOT_FOUND, admin=NOT_FOUND),
        setup=_agents_macro,
    ),
    Op(
        "macroDelete (shared)",
        payload_mutation("macroDelete", "MacroDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _macro_gid(w)}},
        ADMIN_ONLY,
        setup=_shared_macro,
    ),
    Op(
        "macroApply",
        "mutation($input: MacroApplyInput!) { macroApply(input: $input) "
        "{ results { ticketId errors { code } } errors { code } } }",
        lambda w: {"input": {"macroId": _macro_gid(w), "ticketIds": [gid(w.ticket)]}},
        TICKET_WORK,
        setup=_shared_macro,
    ),
    Op(
        "ticketRate",
        payload_mutation("ticketRate", "TicketRateInput", "rating { id }"),
        lambda w: {"input": {"ticketId": gid(w.ticket), "rating": 5, "comment": "Quick!"}},
        # The requester, and only the requester: staff who can see the ticket are refused. The
        # guest holds a ticket of their own, so the world's ticket is not found for them.
        only({"customer"}, other_customer=NOT_FOUND, outsider=NOT_FOUND, guest=NOT_FOUND),
        setup=_resolve,
    ),
]

QUERIES = [
    Op(
        "macros",
        "{ macros(first: 10) { totalCount } }",
        lambda w: {},
        only(AGENTS),
        setup=_shared_macro,
        count=lambda d: d["macros"]["totalCount"],
        expected_counts=dict.fromkeys(AGENTS, 1),
    ),
    Op(
        "cannedResponseRender",
        "query($id: ID!, $ticketId: ID!) { cannedResponseRender(id: $id, ticketId: $ticketId) "
        "{ body } }",
        lambda w: {"id": gid(CannedResponse.objects.get()), "ticketId": gid(w.ticket)},
        only(STAFF, outsider=NULL),
        setup=_shared_canned,
    ),
    Op(
        "report",
        'query { report(input: {from: "2024-01-01", to: "2024-12-31"}) { created } }',
        lambda w: {},
        ADMIN_ONLY,
    ),
    Op(
        "agentDashboard",
        "{ agentDashboard { open } }",
        lambda w: {},
        only(AGENTS),
        count=lambda d: d["agentDashboard"]["open"],
        expected_counts={"agent": 1, "outsider": 0, "admin": 1},
    ),
]
