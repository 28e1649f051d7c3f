"""Every query field and mutation, as each kind of person: allowed ones succeed, refused ones
are refused the documented way and change nothing.

The ticket under test belongs to ``customer`` and sits in the billing department, where
``agent`` works; ``outsider`` is an agent of sales.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from escalated.models import ApiToken, CannedResponse
from escalated.services import organisation, tickets, tokens
from tests.conftest import World, gid

PERSONAS = ["anonymous", "customer", "other_customer", "agent", "outsider", "admin"]

OK, DENIED, NOT_FOUND, NULL = "ok", "denied", "not_found", "null"


def only(allowed: set[str], refused: str = DENIED, **special: str) -> dict[str, str]:
    """Outcome per persona: ``allowed`` succeed, anonymous is always denied, the rest get
    ``refused`` unless ``special`` says otherwise."""
    outcomes = {p: (OK if p in allowed else refused) for p in PERSONAS}
    outcomes["anonymous"] = DENIED
    outcomes.update(special)
    return outcomes


STAFF = {"agent", "admin"}
# Personas who can see the world's ticket, by role: the rest get "not found" for it.
TICKET_WORK = only(STAFF, outsider=NOT_FOUND)
TICKET_CUSTOMER = only(STAFF | {"customer"}, other_customer=NOT_FOUND, outsider=NOT_FOUND)
ADMIN_ONLY = only({"admin"})
SIGNED_IN = only(set(PERSONAS) - {"anonymous"})


@dataclass
class Op:
    name: str
    document: str
    variables: Callable[[World], dict[str, Any]]
    outcomes: dict[str, str]
    setup: Callable[[World], None] = field(default=lambda w: None)
    # For queries: how to read success from the data (None: top-level field is non-null).
    count: Callable[[dict[str, Any]], int] | None = None
    expected_counts: dict[str, int] = field(default_factory=dict)


def _ticket_input(w: World, **extra: Any) -> dict[str, Any]:
    return {"input": {"ticketId": gid(w.ticket), **extra}}


def _payload_mutation(name: str, input_type: str, fields: str = "") -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ {fields} errors {{ field code message }} }} }}"
    )


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
        _payload_mutation("ticketCreate", "TicketCreateInput", "ticket { id }"),
        lambda w: {"input": {"subject": "New one", "description": "Help"}},
        SIGNED_IN,
    ),
    Op(
        "ticketUpdate",
        _payload_mutation("ticketUpdate", "TicketUpdateInput", "ticket { id }"),
        lambda w: {"input": {"id": gid(w.ticket), "subject": "Renamed"}},
        TICKET_WORK,
    ),
    Op(
        "ticketReply",
        _payload_mutation("ticketReply", "TicketReplyInput", "reply { id }"),
        lambda w: _ticket_input(w, body="More details"),
        TICKET_CUSTOMER,
    ),
    Op(
        "ticketNoteAdd",
        _payload_mutation("ticketNoteAdd", "TicketNoteAddInput", "reply { id }"),
        lambda w: _ticket_input(w, body="Internal"),
        TICKET_WORK,
    ),
    Op(
        "ticketNotePin",
        _payload_mutation("ticketNotePin", "TicketNotePinInput", "reply { id }"),
        lambda w: {"input": {"replyId": gid(w.note)}},
        TICKET_WORK,
    ),
    Op(
        "ticketAssign",
        _payload_mutation("ticketAssign", "TicketAssignInput", "ticket { id }"),
        lambda w: _ticket_input(w, assigneeId=gid(w.agent)),
        TICKET_WORK,
    ),
    Op(
        "ticketStatusChange",
        _payload_mutation("ticketStatusChange", "TicketStatusChangeInput", "ticket { id }"),
        lambda w: _ticket_input(w, status="IN_PROGRESS"),
        TICKET_WORK,
    ),
    Op(
        "ticketResolve",
        _payload_mutation("ticketResolve", "TicketResolveInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_WORK,
    ),
    Op(
        "ticketClose",
        _payload_mutation("ticketClose", "TicketCloseInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_CUSTOMER,
    ),
    Op(
        "ticketReopen",
        _payload_mutation("ticketReopen", "TicketReopenInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_CUSTOMER,
        setup=_resolve,
    ),
    Op(
        "ticketPriorityChange",
        _payload_mutation("ticketPriorityChange", "TicketPriorityChangeInput", "ticket { id }"),
        lambda w: _ticket_input(w, priority="URGENT"),
        TICKET_WORK,
    ),
    Op(
        "ticketDepartmentChange",
        _payload_mutation("ticketDepartmentChange", "TicketDepartmentChangeInput", "ticket { id }"),
        lambda w: _ticket_input(w, departmentId=gid(w.sales)),
        TICKET_WORK,
    ),
    Op(
        "ticketTagsAdd",
        _payload_mutation("ticketTagsAdd", "TicketTagsAddInput", "ticket { id }"),
        lambda w: _ticket_input(w, tagIds=[gid(w.urgent)]),
        TICKET_WORK,
    ),
    Op(
        "ticketTagsRemove",
        _payload_mutation("ticketTagsRemove", "TicketTagsRemoveInput", "ticket { id }"),
        lambda w: _ticket_input(w, tagIds=[gid(w.urgent)]),
        TICKET_WORK,
        setup=_tag_ticket,
    ),
    Op(
        "ticketFollow",
        _payload_mutation("ticketFollow", "TicketFollowInput", "ticket { id }"),
        lambda w: _ticket_input(w),
        TICKET_WORK,
    ),
    Op(
        "ticketUnfollow",
        _payload_mutation("ticketUnfollow", "TicketUnfollowInput", "ticket { id }"),
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
        _payload_mutation("departmentCreate", "DepartmentCreateInput", "department { id }"),
        lambda w: {"input": {"name": "Returns"}},
        ADMIN_ONLY,
    ),
    Op(
        "departmentUpdate",
        _payload_mutation("departmentUpdate", "DepartmentUpdateInput", "department { id }"),
        lambda w: {"input": {"id": gid(w.billing), "description": "Money"}},
        ADMIN_ONLY,
    ),
    Op(
        "departmentDelete",
        _payload_mutation("departmentDelete", "DepartmentDeleteInput", "deletedId"),
        lambda w: {"input": {"id": gid(w.sales)}},
        ADMIN_ONLY,
    ),
    Op(
        "tagCreate",
        _payload_mutation("tagCreate", "TagCreateInput", "tag { id }"),
        lambda w: {"input": {"name": "VIP"}},
        ADMIN_ONLY,
    ),
    Op(
        "tagUpdate",
        _payload_mutation("tagUpdate", "TagUpdateInput", "tag { id }"),
        lambda w: {"input": {"id": gid(w.urgent), "color": "#000000"}},
        ADMIN_ONLY,
    ),
    Op(
        "tagDelete",
        _payload_mutation("tagDelete", "TagDeleteInput", "deletedId"),
        lambda w: {"input": {"id": gid(w.urgent)}},
        ADMIN_ONLY,
    ),
    Op(
        "cannedResponseCreate (shared)",
        _payload_mutation(
            "cannedResponseCreate", "CannedResponseCreateInput", "cannedResponse { id }"
        ),
        lambda w: {"input": {"title": "Hi", "body": "Hello", "isShared": True}},
        ADMIN_ONLY,
    ),
    Op(
        "cannedResponseCreate (personal)",
        _payload_mutation(
            "cannedResponseCreate", "CannedResponseCreateInput", "cannedResponse { id }"
        ),
        lambda w: {"input": {"title": "Mine", "body": "Hello", "isShared": False}},
        only(STAFF | {"outsider"}),
    ),
    Op(
        "cannedResponseUpdate (shared)",
        _payload_mutation(
            "cannedResponseUpdate", "CannedResponseUpdateInput", "cannedResponse { id }"
        ),
        lambda w: {"input": {"id": _canned_gid(w), "title": "Hello"}},
        ADMIN_ONLY,
        setup=_shared_canned,
    ),
    Op(
        "cannedResponseDelete (shared)",
        _payload_mutation("cannedResponseDelete", "CannedResponseDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _canned_gid(w)}},
        ADMIN_ONLY,
        setup=_shared_canned,
    ),
    Op(
        "apiTokenCreate (own)",
        _payload_mutation("apiTokenCreate", "ApiTokenCreateInput", "token"),
        lambda w: {"input": {"name": "cli"}},
        SIGNED_IN,
    ),
    Op(
        "apiTokenCreate (for the customer)",
        _payload_mutation("apiTokenCreate", "ApiTokenCreateInput", "token"),
        lambda w: {"input": {"name": "cli", "userId": gid(w.customer)}},
        # Customers may name only themselves; staff may name anyone but only admins may issue.
        only({"admin", "customer"}, other_customer=NOT_FOUND),
    ),
    Op(
        "apiTokenRevoke (the customer's)",
        _payload_mutation("apiTokenRevoke", "ApiTokenRevokeInput", "apiToken { id }"),
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
        },
    ),
    Op(
        "departments",
        "{ departments(first: 10) { totalCount } }",
        lambda w: {},
        SIGNED_IN,
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


def snapshot() -> list[Any]:
    """Every row Escalated owns, plus the users: enough to see that nothing changed."""
    users = get_user_model().objects.order_by("pk").values("pk", "username", "email", "is_active")
    state: list[Any] = [list(users)]
    for model in apps.get_app_config("escalated").get_models():
        state.append(list(model.objects.order_by("pk").values()))
    for through in ("tags", "followers"):
        m2m = getattr(apps.get_model("escalated", "Ticket"), through).through
        state.append(list(m2m.objects.order_by("pk").values()))
    return state


def _outcome(op: Op, result: dict[str, Any]) -> str:
    if result.get("errors"):
        codes = {e.get("extensions", {}).get("code") for e in result["errors"]}
        assert codes <= {"FORBIDDEN", "UNAUTHENTICATED"}, result["errors"]
        return DENIED
    data = result["data"]
    root = next(iter(data.values()))
    if root is None:
        return NULL
    if isinstance(root, dict) and "results" in root:
        codes = [e["code"] for r in root["results"] for e in r["errors"]]
        codes += [e["code"] for e in root["errors"]]
        return NOT_FOUND if codes == ["NOT_FOUND"] else (OK if not codes else str(codes))
    if isinstance(root, dict) and "errors" in root:
        codes = [e["code"] for e in root["errors"]]
        return NOT_FOUND if codes == ["NOT_FOUND"] else (OK if not codes else str(root["errors"]))
    return OK


def _cases(ops: list[Op]) -> list[Any]:
    return [
        pytest.param(op, persona, id=f"{op.name}-{persona}") for op in ops for persona in PERSONAS
    ]


@pytest.mark.parametrize(("op", "persona"), _cases(MUTATIONS))
def test_mutation_permissions(op: Op, persona: str, world: World, gql: Any) -> None:
    op.setup(world)
    before = snapshot()

    result = gql(op.document, op.variables(world), user=world.person(persona))

    expected = op.outcomes[persona]
    assert _outcome(op, result) == expected, result
    if expected != OK:
        assert snapshot() == before, "a refused mutation changed something"
    else:
        assert snapshot() != before, "an allowed mutation changed nothing"


@pytest.mark.parametrize(("op", "persona"), _cases(QUERIES))
def test_query_permissions(op: Op, persona: str, world: World, gql: Any) -> None:
    op.setup(world)

    result = gql(op.document, op.variables(world), user=world.person(persona))

    expected = op.outcomes[persona]
    assert _outcome(op, result) == expected, result
    if expected == OK and op.count is not None:
        assert op.count(result["data"]) == op.expected_counts[persona]


def test_every_field_and_mutation_is_in_the_matrix() -> None:
    from escalated.graphql.schema import schema

    definition = schema._schema
    mutations = set(definition.mutation_type.fields)
    queries = set(definition.query_type.fields)
    assert mutations == {op.name.split(" ")[0] for op in MUTATIONS}
    assert queries == {op.name.split("(")[0] for op in QUERIES}
