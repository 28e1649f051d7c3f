"""Canned responses rendered for a ticket: known placeholders filled in (escaped), unknown ones
left visible and listed."""

from __future__ import annotations

from typing import Any

import pytest

from escalated.errors import NotAllowed
from escalated.models import CannedResponse
from escalated.services import organisation, placeholders, tickets
from tests.conftest import World, data_of, gid, make_user

RENDER = """query($id: ID!, $ticketId: ID!) { cannedResponseRender(id: $id, ticketId: $ticketId) {
    title body unknownPlaceholders } }"""


def _canned(world: World, body: str, **extra: Any) -> CannedResponse:
    return organisation.canned_response_create(actor=world.admin, title="Reply", body=body, **extra)


def _render(gql: Any, user: Any, response: CannedResponse, ticket: Any) -> Any:
    variables = {"id": gid(response), "ticketId": gid(ticket)}
    return data_of(gql(RENDER, variables, user=user))["cannedResponseRender"]


def test_every_placeholder_is_filled_in(world: World, gql: Any) -> None:
    body = (
        "<p>Hi {{ requester.first_name }} ({{requester.name}}, {{ requester.email }}),</p>"
        "<p>{{ ticket.reference }} “{{ ticket.subject }}” is {{ ticket.status }} "
        "({{ ticket.priority }}) with {{ department.name }}.</p>"
        "<p>{{ agent.first_name }} / {{ agent.name }}</p>"
    )

    rendered = _render(gql, world.agent, _canned(world, body), world.ticket)

    assert rendered == {
        "title": "Reply",
        "body": "<p>Hi Cora (Cora Customer, cora@example.com),</p>"
        "<p>ESC-00001 “Invoice is wrong” is Waiting on customer (Medium) with Billing.</p>"
        "<p>Alan / Alan Agent</p>",
        "unknownPlaceholders": [],
    }


def test_unknown_placeholders_stay_visible_and_are_listed(world: World, gql: Any) -> None:
    body = "Dear {{ customer.name }}, see {{ticket.url}} and {{ customer.name }}. {{ not closed"

    rendered = _render(gql, world.agent, _canned(world, body), world.ticket)

    assert rendered["body"] == body
    assert rendered["unknownPlaceholders"] == ["customer.name", "ticket.url"]


def test_values_are_escaped_and_missing_ones_are_empty(world: World, gql: Any) -> None:
    sneaky = make_user("mallory", first="<script>alert(1)</script>")
    ticket = tickets.ticket_create(actor=sneaky, subject="Tom & Jerry")

    rendered = _render(
        gql,
        world.agent,
        _canned(world, "{{ requester.first_name }}: {{ ticket.subject }} [{{ department.name }}]"),
        ticket,
    )

    assert rendered["body"] == "&lt;script&gt;alert(1)&lt;/script&gt;: Tom &amp; Jerry []"


def test_a_nameless_person_is_greeted_by_username(world: World, gql: Any) -> None:
    anon = make_user("x42")
    ticket = tickets.ticket_create(actor=anon, subject="Help")

    rendered = _render(gql, world.agent, _canned(world, "Hi {{ requester.first_name }}"), ticket)

    assert rendered["body"] == "Hi x42"


def test_a_guest_requester_is_addressed_by_their_guest_name(world: World, gql: Any) -> None:
    world.guest_headers()  # opens the world's guest ticket, for Gus Guest
    body = "Hi {{ requester.first_name }} ({{ requester.name }}, {{ requester.email }})"

    rendered = _render(gql, world.agent, _canned(world, body), world.guest_ticket)

    assert rendered["body"] == "Hi Gus (Gus Guest, gus@example.org)"


def test_someone_elses_personal_response_is_not_found(world: World, gql: Any) -> None:
    mine = organisation.canned_response_create(
        actor=world.admin, title="Mine", body="Hi", is_shared=False
    )

    assert _render(gql, world.agent, mine, world.ticket) is None
    with pytest.raises(NotAllowed):
        placeholders.canned_response_render(response=mine, ticket=world.ticket, actor=world.agent)


def test_customers_cannot_render_canned_responses(world: World, gql: Any) -> None:
    response = _canned(world, "Hi")

    result = gql(RENDER, {"id": gid(response), "ticketId": gid(world.ticket)}, user=world.customer)

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
