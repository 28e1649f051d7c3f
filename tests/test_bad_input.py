"""Bad input gets a typed error naming the field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from escalated.errors import DomainError, ErrorCode
from escalated.models import Department, Ticket, TicketActivity
from escalated.services import tickets
from tests.conftest import World, data_of, gid

CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
    ticket { id } errors { field code message } } }"""


def _unchanged(world: World) -> tuple[int, int, str]:
    world.ticket.refresh_from_db()
    return Ticket.objects.count(), TicketActivity.objects.count(), world.ticket.status


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"description": "no subject at all"}, "subject", "REQUIRED"),
        ({"subject": "   "}, "subject", "REQUIRED"),
        ({"subject": "x" * 256}, "subject", "TOO_LONG"),
    ],
    ids=["missing subject", "blank subject", "over-long subject"],
)
def test_create_refuses_bad_text(
    world: World, gql: Any, given: dict[str, Any], field: str, code: str
) -> None:
    before = _unchanged(world)

    payload = data_of(gql(CREATE, {"input": given}, user=world.customer))["ticketCreate"]

    assert payload["ticket"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert _unchanged(world) == before


def test_a_foreign_department_id_is_not_found(world: World, gql: Any) -> None:
    before = _unchanged(world)
    given = {"subject": "Hi", "departmentId": gid(world.customer)}  # a User id, not a Department

    payload = data_of(gql(CREATE, {"input": given}, user=world.customer))["ticketCreate"]

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("departmentId", "NOT_FOUND")]
    assert _unchanged(world) == before


def test_a_missing_department_id_is_not_found(world: World, gql: Any) -> None:
    given = {"subject": "Hi", "departmentId": gid(Department(pk=999))}

    payload = data_of(gql(CREATE, {"input": given}, user=world.customer))["ticketCreate"]

    assert payload["errors"][0]["code"] == "NOT_FOUND"


def test_an_inactive_department_is_refused(world: World, gql: Any) -> None:
    world.sales.is_active = False
    world.sales.save()
    given = {"subject": "Hi", "departmentId": gid(world.sales)}

    payload = data_of(gql(CREATE, {"input": given}, user=world.agent))["ticketCreate"]

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("departmentId", "INACTIVE")]


def test_several_problems_are_reported_together(world: World, gql: Any) -> None:
    given = {"subject": "", "description": "x" * 100_001}

    payload = data_of(gql(CREATE, {"input": given}, user=world.customer))["ticketCreate"]

    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("subject", "REQUIRED"),
        ("description", "TOO_LONG"),
    }


def test_an_unknown_status_is_refused_with_nothing_changed(world: World, gql: Any) -> None:
    before = _unchanged(world)

    # Through GraphQL the enum itself refuses the value, before anything runs...
    ticket_id = gid(world.ticket)
    result = gql(
        f"""mutation {{ ticketStatusChange(input: {{ticketId: "{ticket_id}", status: SNOOZED}})
           {{ errors {{ code }} }} }}""",
        user=world.agent,
    )
    assert "SNOOZED" in result["errors"][0]["message"]
    # ...and every other door reaching the service gets a typed error naming the field.
    with pytest.raises(DomainError) as refused:
        tickets.ticket_status_change(ticket=world.ticket, actor=world.agent, status="snoozed")
    assert refused.value.problems[0].code is ErrorCode.INVALID
    assert refused.value.problems[0].field == "status"
    assert _unchanged(world) == before


def test_an_illegal_transition_is_a_typed_payload_error(world: World, gql: Any) -> None:
    tickets.ticket_close(ticket=world.ticket, actor=world.agent)
    result = gql(
        """mutation($input: TicketStatusChangeInput!) { ticketStatusChange(input: $input)
           { ticket { id } errors { field code message } } }""",
        {"input": {"ticketId": gid(world.ticket), "status": "IN_PROGRESS"}},
        user=world.agent,
    )

    error = data_of(result)["ticketStatusChange"]["errors"][0]
    assert (error["field"], error["code"]) == ("status", "INVALID_TRANSITION")
    assert "closed" in error["message"]


def test_an_empty_reply_is_required(world: World, gql: Any) -> None:
    result = gql(
        """mutation($input: TicketReplyInput!) { ticketReply(input: $input)
           { reply { id } errors { field code } } }""",
        {"input": {"ticketId": gid(world.ticket), "body": "<script>only()</script>"}},
        user=world.customer,
    )

    assert data_of(result)["ticketReply"]["errors"] == [{"field": "body", "code": "REQUIRED"}]


def test_a_duplicate_department_slug_is_refused(world: World, gql: Any) -> None:
    result = gql(
        """mutation { departmentCreate(input: {name: "Billing"})
           { department { id } errors { field code } } }""",
        user=world.admin,
    )

    assert data_of(result)["departmentCreate"]["errors"] == [{"field": "slug", "code": "DUPLICATE"}]


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        (CREATE, {"input": {"subject": "Hi\x00there"}}, "input.subject"),
        ("query($id: ID!) { ticket(id: $id) { id } }", {"id": _b64("Ticket:abc")}, "id"),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": _b64("Ticket:99999999999999999999")},
            "id",
        ),
        (
            "query($a: String) { tickets(first: 5, after: $a) { totalCount } }",
            {"a": _b64("arrayconnection:-5")},
            "after",
        ),
        (
            "query($f: TicketFilter) { tickets(first: 5, filter: $f) { totalCount } }",
            {"f": {"createdAfter": "0001-01-01T00:00:00+14:00"}},
            "filter.createdAfter",
        ),
        (
            "query($f: TicketFilter) { tickets(first: 5, filter: $f) { totalCount } }",
            {"f": {"createdBefore": "9999-12-31T23:59:59-14:00"}},
            "filter.createdBefore",
        ),
        (
            """mutation($input: ApiTokenCreateInput!) {
                apiTokenCreate(input: $input) { token } }""",
            {"input": {"name": "CI", "expiresAt": "2030-01-01T00:00:00"}},
            "input.expiresAt",
        ),
    ],
    ids=[
        "NUL in text",
        "malformed id",
        "id past bigint",
        "negative cursor",
        "year 0",
        "year 10000",
        "no UTC offset",
    ],
)
def test_values_that_would_crash_are_refused_naming_the_argument(
    world: World, gql: Any, query: str, variables: dict[str, Any], argument: str
) -> None:
    before = _unchanged(world)

    result = gql(query, variables, user=world.agent)

    (error,) = result["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert result.get("data") is None
    assert _unchanged(world) == before


@pytest.mark.parametrize("mutation", ["tagCreate", "departmentCreate"])
def test_an_over_long_slug_is_a_typed_error(world: World, gql: Any, mutation: str) -> None:
    kind = mutation.removesuffix("Create")
    document = f"""mutation($input: {kind[0].upper()}{kind[1:]}CreateInput!) {{
        {mutation}(input: $input) {{ errors {{ field code }} }} }}"""

    result = gql(document, {"input": {"name": "Fine", "slug": "s" * 200}}, user=world.admin)

    assert data_of(result)[mutation]["errors"] == [{"field": "slug", "code": "TOO_LONG"}]
