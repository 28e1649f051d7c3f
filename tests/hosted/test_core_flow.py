"""The acceptance flow of the core, the same in every hosting mode: run unchanged against a
self-hosted helpdesk and against a cloud-mode site in front of a real hub (each a server process
on its own database), it gives the same results, and the cloud-mode site writes none of the
helpdesk's tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hosted.instances import Helpdesk, helpdesk

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
  ticket { id reference subject status requester { name } } errors { field code } } }"""
QUEUE = "{ tickets(first: 50) { totalCount edges { node { id subject status } } } }"
REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
  reply { body isInternalNote author { name } } ticket { status } errors { field code } } }"""
NOTE = """mutation($input: TicketNoteAddInput!) { ticketNoteAdd(input: $input) {
  reply { body isInternalNote } errors { field code } } }"""
THREAD = """query($id: ID!) { ticket(id: $id) { subject status
  replies(first: 50) { totalCount edges { node { body isInternalNote author { name } } } } } }"""
CLOSE = """mutation($input: TicketCloseInput!) { ticketClose(input: $input) {
  ticket { status } errors { field code } } }"""
MOVE = """mutation($input: TicketStatusChangeInput!) { ticketStatusChange(input: $input) {
  ticket { status } errors { field code } } }"""
NOTE_TEXT = "Refund approved by finance; do not tell the customer yet."

MODES = [
    "self_hosted",
    "cloud",
    pytest.param("self_hosted", marks=pytest.mark.postgres, id="self_hosted-postgres"),
    pytest.param("cloud", marks=pytest.mark.postgres, id="cloud-postgres"),
]


@pytest.fixture(params=MODES)
def desk(request: Any, tmp_path: Path) -> Iterator[Helpdesk]:
    engine = "postgres" if request.node.get_closest_marker("postgres") else "sqlite"
    name = os.environ.get("ESCALATED_TEST_DB_NAME", "test_escalated") + "_flow"
    with helpdesk(request.param, tmp_path, engine, name) as running:
        yield running


def _as(desk: Helpdesk, who: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    return desk.front.graphql(desk.people[who], query, variables)


def _thread(desk: Helpdesk, who: str, ticket: str) -> Any:
    return _as(desk, who, THREAD, {"id": ticket})["ticket"]


def _bodies(thread: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(e["node"]["body"], e["node"]["isInternalNote"]) for e in thread["replies"]["edges"]]


def test_the_core_flow(desk: Helpdesk) -> None:
    tables_before = desk.front.run("tables") if desk.mode == "cloud" else None

    # A customer opens a ticket.
    created = _as(
        desk,
        "customer",
        CREATE,
        {"input": {"subject": "Invoice is wrong", "description": "I was charged twice."}},
    )["ticketCreate"]
    assert created["errors"] == []
    ticket = created["ticket"]
    assert (ticket["subject"], ticket["status"]) == ("Invoice is wrong", "OPEN")
    assert ticket["requester"] == {"name": "Cora Customer"}
    assert ticket["reference"].startswith("ESC-")

    # The agent finds it in the queue, replies, and adds an internal note.
    queue = _as(desk, "agent", QUEUE)["tickets"]
    assert [(e["node"]["id"], e["node"]["subject"]) for e in queue["edges"]] == [
        (ticket["id"], "Invoice is wrong")
    ]
    replied = _as(
        desk, "agent", REPLY, {"input": {"ticketId": ticket["id"], "body": "Looking into it."}}
    )["ticketReply"]
    assert replied["errors"] == []
    assert replied["reply"] == {
        "body": "Looking into it.",
        "isInternalNote": False,
        "author": {"name": "Alan Agent"},
    }
    assert replied["ticket"]["status"] == "WAITING_ON_CUSTOMER"
    noted = _as(desk, "agent", NOTE, {"input": {"ticketId": ticket["id"], "body": NOTE_TEXT}})
    assert noted["ticketNoteAdd"]["errors"] == []
    assert noted["ticketNoteAdd"]["reply"] == {"body": NOTE_TEXT, "isInternalNote": True}

    # The customer sees the reply and never the note; the agent sees both.
    mine = _thread(desk, "customer", ticket["id"])
    assert _bodies(mine) == [("Looking into it.", False)]
    assert mine["replies"]["totalCount"] == 1
    assert NOTE_TEXT not in str(mine)
    assert sorted(_bodies(_thread(desk, "agent", ticket["id"]))) == [
        ("Looking into it.", False),
        (NOTE_TEXT, True),
    ]

    # Another customer sees nothing of it.
    assert _as(desk, "other", QUEUE)["tickets"] == {"totalCount": 0, "edges": []}
    assert _thread(desk, "other", ticket["id"]) is None

    # A closed ticket cannot move to "in progress": refused, nothing changed.
    closed = _as(desk, "agent", CLOSE, {"input": {"ticketId": ticket["id"]}})["ticketClose"]
    assert closed == {"ticket": {"status": "CLOSED"}, "errors": []}
    moved = _as(desk, "agent", MOVE, {"input": {"ticketId": ticket["id"], "status": "IN_PROGRESS"}})
    assert moved["ticketStatusChange"]["errors"] == [
        {"field": "status", "code": "INVALID_TRANSITION"}
    ]
    assert _thread(desk, "agent", ticket["id"])["status"] == "CLOSED"

    if desk.mode == "cloud":
        assert desk.front.run("tables") == tables_before, "the cloud-mode site wrote its tables"
        assert desk.hub is not None
        [kept] = desk.hub.run("digest")["state"].values()  # the hub keeps the ticket
        assert (kept["subject"], kept["status"]) == ("Invoice is wrong", "closed")
        assert kept["replies"] == [["Looking into it.", False], [NOTE_TEXT, True]]
