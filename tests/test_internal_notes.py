"""An internal note never reaches a customer, by any path."""

from __future__ import annotations

from typing import Any

from escalated.services import tickets
from tests.conftest import World, data_of, gid

SECRET = "refund pending approval"


def test_ticket_replies_hide_notes_from_the_customer(world: World, gql: Any) -> None:
    query = """query($id: ID!) { ticket(id: $id) {
        replies(first: 50) { totalCount edges { node { body isInternalNote } } } } }"""

    as_customer = data_of(gql(query, {"id": gid(world.ticket)}, user=world.customer))
    as_agent = data_of(gql(query, {"id": gid(world.ticket)}, user=world.agent))

    customer_bodies = [e["node"]["body"] for e in as_customer["ticket"]["replies"]["edges"]]
    agent_bodies = [e["node"]["body"] for e in as_agent["ticket"]["replies"]["edges"]]
    assert not any(SECRET in body for body in customer_bodies)
    assert as_customer["ticket"]["replies"]["totalCount"] == 1
    assert any(SECRET in body for body in agent_bodies)
    assert as_agent["ticket"]["replies"]["totalCount"] == 2


def test_node_lookup_of_a_note_is_null_for_the_customer(world: World, gql: Any) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Reply { body } } }"

    assert data_of(gql(query, {"id": gid(world.note)}, user=world.customer))["node"] is None
    assert SECRET in data_of(gql(query, {"id": gid(world.note)}, user=world.agent))["node"]["body"]


def test_search_does_not_look_inside_notes_for_customers(world: World, gql: Any) -> None:
    query = "query($q: String!) { tickets(first: 10, filter: {search: $q}) { totalCount } }"

    customer = data_of(gql(query, {"q": "pending approval"}, user=world.customer))
    agent = data_of(gql(query, {"q": "pending approval"}, user=world.agent))

    assert customer["tickets"]["totalCount"] == 0
    assert agent["tickets"]["totalCount"] == 1


def test_latest_reply_skips_notes_for_customers(world: World, gql: Any) -> None:
    query = "{ tickets(first: 5) { edges { node { latestReply { body isInternalNote } } } } }"

    customer = data_of(gql(query, user=world.customer))["tickets"]["edges"][0]["node"]
    agent = data_of(gql(query, user=world.agent))["tickets"]["edges"][0]["node"]

    assert customer["latestReply"] == {"body": "<p>Looking into it.</p>", "isInternalNote": False}
    assert agent["latestReply"]["isInternalNote"] is True


def test_reply_payload_shows_the_customer_no_notes(world: World, gql: Any) -> None:
    # A customer's reply payload carries the ticket; its replies must not include the note.
    result = gql(
        """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
            ticket { replies(first: 50) { edges { node { isInternalNote } } } } errors { code } } }""",
        {"input": {"ticketId": gid(world.ticket), "body": "Thanks"}},
        user=world.customer,
    )
    edges = data_of(result)["ticketReply"]["ticket"]["replies"]["edges"]
    assert [e["node"]["isInternalNote"] for e in edges] == [False, False]


def test_activity_timeline_is_for_staff_only(world: World, gql: Any) -> None:
    query = "query($id: ID!) { ticket(id: $id) { activities(first: 50) { totalCount } } }"

    customer = data_of(gql(query, {"id": gid(world.ticket)}, user=world.customer))
    agent = data_of(gql(query, {"id": gid(world.ticket)}, user=world.agent))

    assert customer["ticket"]["activities"]["totalCount"] == 0
    assert agent["ticket"]["activities"]["totalCount"] == 3  # created, replied, note added


def test_pinned_note_stays_hidden(world: World, gql: Any) -> None:
    tickets.ticket_note_pin(reply=world.note, actor=world.agent)
    query = """query($id: ID!) { ticket(id: $id) {
        replies(first: 50) { edges { node { isPinned body } } } } }"""

    customer = data_of(gql(query, {"id": gid(world.ticket)}, user=world.customer))

    assert all(SECRET not in e["node"]["body"] for e in customer["ticket"]["replies"]["edges"])
