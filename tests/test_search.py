"""Full-text search of the queue on PostgreSQL: the words as people type them, ranked, over the
replies the viewer may read. (On SQLite the same filter matches substrings: tests/test_queue.py
and tests/test_internal_notes.py run on both.)"""

from __future__ import annotations

from typing import Any

import pytest

from escalated.services import tickets
from tests.conftest import World, data_of

pytestmark = pytest.mark.postgres

QUERY = """query($q: String!, $order: TicketOrder) {
    tickets(first: 20, filter: {search: $q}, order: $order) {
        totalCount edges { node { subject } } } }"""


def _subjects(gql: Any, user: Any, words: str, order: dict[str, str] | None = None) -> list[str]:
    result = data_of(gql(QUERY, {"q": words, "order": order}, user=user))["tickets"]
    assert result["totalCount"] == len(result["edges"])
    return [edge["node"]["subject"] for edge in result["edges"]]


def _ticket(world: World, subject: str, description: str = "") -> Any:
    return tickets.ticket_create(
        actor=world.customer, subject=subject, description=description, department=world.billing
    )


def test_words_are_read_as_typed_into_a_search_box(
    world: World, gql: Any, on_postgres: None
) -> None:
    _ticket(world, "Reimbursement to my credit card")
    _ticket(world, "Reimbursement through PayPal")
    _ticket(world, "Card declined", "The credit was fine, the card was not")

    assert _subjects(gql, world.agent, "reimbursement -paypal") == [
        "Reimbursement to my credit card"
    ]
    assert _subjects(gql, world.agent, '"credit card"') == ["Reimbursement to my credit card"]
    assert set(_subjects(gql, world.agent, "paypal or declined")) == {
        "Reimbursement through PayPal",
        "Card declined",
    }
    assert _subjects(gql, world.agent, "reimbursements") == _subjects(
        gql, world.agent, "reimbursement"
    )


def test_best_matches_come_first_unless_an_order_is_given(
    world: World, gql: Any, on_postgres: None
) -> None:
    in_reply = _ticket(world, "Something else entirely")
    tickets.ticket_reply(ticket=in_reply, author=world.agent, body="<p>Is the printer on?</p>")
    _ticket(world, "Office question", "The printer on floor two jams")
    _ticket(world, "Printer jams", "Paper stuck")

    assert _subjects(gql, world.agent, "printer") == [
        "Printer jams",
        "Office question",
        "Something else entirely",
    ]
    oldest_first = {"field": "CREATED", "direction": "ASC"}
    assert _subjects(gql, world.agent, "printer", oldest_first) == [
        "Something else entirely",
        "Office question",
        "Printer jams",
    ]


def test_a_customers_search_never_reads_internal_notes(
    world: World, gql: Any, on_postgres: None
) -> None:
    mine = _ticket(world, "Login trouble")
    tickets.ticket_note_add(ticket=mine, author=world.agent, body="Customer flagged for fraud")
    tickets.ticket_reply(ticket=mine, author=world.agent, body="<p>Try a password reset</p>")

    assert _subjects(gql, world.customer, "fraud") == []
    assert _subjects(gql, world.agent, "fraud") == ["Login trouble"]
    assert _subjects(gql, world.customer, "password reset") == ["Login trouble"]


def test_a_reference_still_finds_its_ticket(world: World, gql: Any, on_postgres: None) -> None:
    found = _ticket(world, "Anything")

    assert _subjects(gql, world.agent, found.reference.lower()) == ["Anything"]
