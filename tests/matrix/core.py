"""The core's operations: tickets, departments, tags, canned responses, API tokens."""

from __future__ import annotations

from typing import Any

from escalated.models import ApiToken, CannedResponse
from escalated.services import organisation, tickets, tokens
from tests.conftest import World, gid
from tests.matrix import (
    ADMIN_ONLY,
    NOT_FOUND,
    NULL,
    OK,
    PERSONAS,
    SIGNED_IN,
    STAFF,
    TICKET_CUSTOMER,
    TICKET_WORK,
    Op,
    only,
    payload_mutation,
)


def _ticket_input(w: World, **extra: Any) -> dict[str, Any]:
    return {"input": {"ticketId": gid(w.ticket), **extra}}


def _resolve(w: World) -> None:
    tickets.ticket_resolve(ticket=w.ticket, actor=w.agent)


def _tag_ticket(w: World) -> None:
    tickets.ticket_tags_add(ticket=w.ticket, actor=w.agent, tags=[w.urgent])


def _follow(w: World) -> None:
    for person in (w.agent, w.admin):
        tickets.ticket_follow(ticket=w.ticket, actor=person)


def _shared_canned(w: World) -> None:
    organisation.canned_response_create(actor=w.admin, title="Hi", body="Hello!")


def _customer_token(w: World) -> None:
    tokens.api_token_create(actor=w.customer, name="laptop")


def _canned_gid(w: World) -> str:
    return gid(CannedResponse.objects.get())


def _token_gid(w: World) -> str:
    return gid(ApiToken.objects.get())


MUTATIONS = [
    Op(
        "ticketCreate",
        payload_mutation("ticketCreate", "TicketCreateInput", "ticket { id }"),
        lambda w: {"input": {"subject": "New one", "description": "Help"}},
        SIGNED_IN,
    ),
    Op(
        "ticketUpdate",
        payload_mutation("ticketUpdate", "TicketUpdateInput", "ticket { id }"),
        lambda w: {"input": {"id": gid(w.ticket), "subject": "Renamed"}},
        TICKET_WORK,
    ),
    Op(
        "ticketReply",
        payload_mutation("ticketReply", "TicketReplyInput", "reply { id }"),
        lambda w: _ticket_input(w, body="More details"),
        {**TICKET_CUSTOMER, "guest": NOT_FOUND},  # guests may reply, to their own ticket only
    ),
    Op(
        "ticketNoteAdd",
        payload_mutation("ticketNoteAdd", "TicketNoteAddInput", "reply { id }"),
        lambda w: _ticket_input(w, body="Internal"),
        TICKET_WORK,
    ),
    Op(
        "ticketNotePin",
        payload_mutation("ticketNotePin", "TicketNotePinInput", "reply { id }"),
        lambda w: {"input": {"replyId": gid(w.note)}},
        TICKET_WORK,
    ),
    Op(
        "ticketAssign",
        payload_mutation("ticketAssign", "TicketAssignInput", "ticket { id }"),
        lambda w: _ticket_input(w, assigneeId=gid(w.agent)),
        TICKET_WORK,
    ),
    Op(
        "ticketStatusChange",
        payload_mutation("ticketStatusChange", "TicketStatusChangeInput", "ticket { id }"),
        lambda w: _ticket_input(w, status="IN_PROGRESS"),
        TICKET_WORK,
    ),
    Op(
        "ticketResolve",
        payload_mutation("ticketResolve", "TicketResolveInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_WORK,
    ),
    Op(
        "ticketClose",
        payload_mutation("ticketClose", "TicketCloseInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        {**TICKET_CUSTOMER, "guest": NOT_FOUND},
    ),
    Op(
        "ticketReopen",
        payload_mutation("ticketReopen", "TicketReopenInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_CUSTOMER,
        setup=_resolve,
    ),
    Op(
        "ticketPriorityChange",
        payload_mutation("ticketPriorityChange", "TicketPriorityChangeInput", "ticket { id }"),
        lambda w: _ticket_input(w, priority="URGENT"),
        TICKET_WORK,
    ),
    Op(
        "ticketDepartmentChange",
        payload_mutation("ticketDepartmentChange", "TicketDepartmentChangeInput", "ticket { id }"),
        lambda w: _ticket_input(w, departmentId=gid(w.sales)),
        TICKET_WORK,
    ),
    Op(
        "ticketTagsAdd",
        payload_mutation("ticketTagsAdd", "TicketTagsAddInput", "ticket { id }"),
        lambda w: _ticket_input(w, tagIds=[gid(w.urgent)]),
        TICKET_WORK,
    ),
    Op(
        "ticketTagsRemove",
        payload_mutation("ticketTagsRemove", "TicketTagsRemoveInput", "ticket { id }"),
        lambda w: _ticket_input(w, tagIds=[gid(w.urgent)]),
        TICKET_WORK,
        setup=_tag_ticket,
    ),
    Op(
        "ticketFollow",
        payload_mutation("ticketFollow", "TicketFollowInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_WORK,
    ),
    Op(
        "ticketUnfollow",
        payload_mutation("ticketUnfollow", "TicketUnfollowInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_WORK,
        setup=_follow,
    ),
    Op(
        "ticketsBulkUpdate",
        "mutation($input: TicketsBulkUpdateInput!) { ticketsBulkUpdate(input: $input) "
        "{ results { ticketId errors { code } } errors { code } } }",
        lambda w: {"input": {"ticketIds": [gid(w.ticket)], "priority": "HIGH"}},
        TICKET_WORK,
    ),
    Op(
        "departmentCreate",
        payload_mutation("departmentCreate", "DepartmentCreateInput", "department { id }"),
        lambda w: {"input": {"name": "Returns"}},
        ADMIN_ONLY,
    ),
    Op(
        "departmentUpdate",
        payload_mutation("departmentUpdate", "DepartmentUpdateInput", "department { id }"),
        lambda w: {"input": {"id": gid(w.billing), "description": "Money"}},
        ADMIN_ONLY,
    ),
    Op(
        "departmentDelete",
        payload_mutation("departmentDelete", "DepartmentDeleteInput", "deletedId"),
        lambda w: {"input": {"id": gid(w.sales)}},
        ADMIN_ONLY,
    ),
    Op(
        "tagCreate",
        payload_mutation("tagCreate", "TagCreateInput", "tag { id }"),
        lambda w: {"input": {"name": "VIP"}},
        ADMIN_ONLY,
    ),
    Op(
        "tagUpdate",
        payload_mutation("tagUpdate", "TagUpdateInput", "tag { id }"),
        lambda w: {"input": {"id": gid(w.urgent), "color": "#000000"}},
        ADMIN_ONLY,
    ),
    Op(
        "tagDelete",
        payload_mutation("tagDelete", "TagDeleteInput", "deletedId"),
        lambda w: {"input": {"id": gid(w.urgent)}},
        ADMIN_ONLY,
    ),
    Op(
        "cannedResponseCreate (shared)",
        payload_mutation(
            "cannedResponseCreate", "CannedResponseCreateInput", "cannedResponse { id }"
        ),
        lambda w: {"input": {"title": "Hi", "body": "Hello", "isShared": True}},
        ADMIN_ONLY,
    ),
    Op(
        "cannedResponseCreate (personal)",
        payload_mutation(
            "cannedResponseCreate", "CannedResponseCreateInput", "cannedResponse { id }"
        ),
        lambda w: {"input": {"title": "Mine", "body": "Hello", "isShared": False}},
        only(STAFF | {"outsider"}),
    ),
    Op(
        "cannedResponseUpdate (shared)",
        payload_mutation(
            "cannedResponseUpdate", "CannedResponseUpdateInput", "cannedResponse { id }"
        ),
        lambda w: {"input": {"id": _canned_gid(w), "title": "Hello"}},
        ADMIN_ONLY,
        setup=_shared_canned,
    ),
    Op(
        "cannedResponseDelete (shared)",
        payload_mutation("cannedResponseDelete", "CannedResponseDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _canned_gid(w)}},
        ADMIN_ONLY,
        setup=_shared_canned,
    ),
    Op(
        "apiTokenCreate (own)",
        payload_mutation("apiTokenCreate", "ApiTokenCreateInput", "token"),
        lambda w: {"input": {"name": "cli"}},
        SIGNED_IN,
    ),
    Op(
        "apiTokenCreate (for the customer)",
        payload_mutation("apiTokenCreate", "ApiTokenCreateInput", "token"),
        lambda w: {"input": {"name": "cli", "userId": gid(w.customer)}},
        # Customers may name only themselves; agents may name the people on tickets they can
        # see (the outsider cannot see this customer), but only admins may issue.
        only({"admin", "customer"}, other_customer=NOT_FOUND, outsider=NOT_FOUND),
    ),
    Op(
        "apiTokenRevoke (the customer's)",
        payload_mutation("apiTokenRevoke", "ApiTokenRevokeInput", "apiToken { id }"),
        lambda w: {"input": {"id": _token_gid(w)}},
        only({"admin", "customer"}, refused=NOT_FOUND),
        setup=_customer_token,
    ),
]

QUERIES = [
    Op("viewer", "{ viewer { role user { id } } }", lambda w: {}, dict.fromkeys(PERSONAS, OK)),
    Op(
        "node",
        "query($id: ID!) { node(id: $id) { id } }",
        lambda w: {"id": gid(w.ticket)},
        {
            "anonymous": NULL,
            "customer": OK,
            "other_customer": NULL,
            "agent": OK,
            "outsider": NULL,
            "admin": OK,
        },
    ),
    Op(
        "ticket(id)",
        "query($id: ID!) { ticket(id: $id) { id } }",
        lambda w: {"id": gid(w.ticket)},
        {
            "anonymous": NULL,
            "customer": OK,
            "other_customer": NULL,
            "agent": OK,
            "outsider": NULL,
            "admin": OK,
        },
    ),
    Op(
        "ticket(reference)",
        'query { ticket(reference: "ESC-00001") { id } }',
        lambda w: {},
        {
            "anonymous": NULL,
            "customer": OK,
            "other_customer": NULL,
            "agent": OK,
            "outsider": NULL,
            "admin": OK,
        },
    ),
    Op(
        "tickets",
        "{ tickets(first: 10) { totalCount } }",
        lambda w: {},
        dict.fromkeys(PERSONAS, OK),
        count=lambda d: d["tickets"]["totalCount"],
        expected_counts={
            "anonymous": 0,
            "customer": 1,
            "other_customer": 0,
            "agent": 1,
            "outsider": 0,
            "admin": 1,
            "guest": 1,  # their own guest ticket
        },
    ),
    Op(
        "departments",
        "{ departments(first: 10) { totalCount } }",
        lambda w: {},
        {**SIGNED_IN, "guest": OK},
        count=lambda d: d["departments"]["totalCount"],
        expected_counts=dict.fromkeys(PERSONAS, 2),
    ),
    Op(
        "tags",
        "{ tags(first: 10) { totalCount } }",
        lambda w: {},
        only(STAFF | {"outsider"}),
        count=lambda d: d["tags"]["totalCount"],
        expected_counts=dict.fromkeys(PERSONAS, 1),
    ),
    Op(
        "cannedResponses",
        "{ cannedResponses(first: 10) { totalCount } }",
        lambda w: {},
        only(STAFF | {"outsider"}),
        setup=_shared_canned,
        count=lambda d: d["cannedResponses"]["totalCount"],
        expected_counts=dict.fromkeys(PERSONAS, 1),
    ),
    Op(
        "apiTokens",
        "{ apiTokens(first: 10) { totalCount } }",
        lambda w: {},
        SIGNED_IN,
        setup=_customer_token,
        count=lambda d: d["apiTokens"]["totalCount"],
        expected_counts={"customer": 1, "other_customer": 0, "agent": 0, "outsider": 0, "admin": 1},
    ),
]
