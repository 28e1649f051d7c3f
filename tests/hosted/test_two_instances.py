"""A synced site and its hub as two real instances (each its own server and worker processes and
its own database): tickets travel both ways, nothing is duplicated, and an outage of the hub or
a killed worker loses nothing and reorders nothing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hosted.instances import Pair, site_and_hub, wait_for
from tests.outbox.peers import SmtpSink

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
  ticket { id reference } errors { message } } }"""
REPLY = """mutation($id: ID!, $body: String!) { ticketReply(input: {ticketId: $id, body: $body}) {
  reply { id } errors { message } } }"""
PRIORITY = """mutation($id: ID!, $priority: TicketPriority!) {
  ticketPriorityChange(input: {ticketId: $id, priority: $priority}) { errors { message } } }"""
HUB_TICKETS = """{ tickets(first: 100) { totalCount edges { node { id subject
  site { reference site { name } } } } } }"""
SYNC = "{ syncStatus { backlog failed lastSuccessAt oldestPendingAt } }"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(request: Any, tmp_path: Path, smtp: SmtpSink) -> Iterator[Pair]:
    name = os.environ.get("ESCALATED_TEST_DB_NAME", "test_escalated") + "_sync"
    with site_and_hub(tmp_path, smtp.port, request.param, name) as running:
        yield running


def _create(pair: Pair, subject: str) -> dict[str, Any]:
    people = pair.site_people
    variables = {
        "input": {
            "subject": subject,
            "description": "It broke.",
            "departmentId": people["department"],
        }
    }
    made = pair.site.graphql(people["customer"], CREATE, variables)["ticketCreate"]
    assert made["errors"] == []
    ticket: dict[str, Any] = made["ticket"]
    return ticket


def _hub_tickets(pair: Pair) -> list[dict[str, Any]]:
    data = pair.hub.graphql(pair.hub_people["agent"], HUB_TICKETS)
    return [edge["node"] for edge in data["tickets"]["edges"]]


def _same_state(pair: Pair) -> tuple[dict[str, Any], dict[str, Any]]:
    return pair.site.run("digest"), pair.hub.run("digest")


def test_a_ticket_travels_to_the_hub_and_the_hubs_reply_back_to_the_customer(
    pair: Pair, smtp: SmtpSink
) -> None:
    ticket = _create(pair, "Printer on fire")

    [on_hub] = wait_for(lambda: _hub_tickets(pair), 60, "the ticket on the hub")
    assert on_hub["subject"] == "Printer on fire"
    assert on_hub["site"] == {"reference": ticket["reference"], "site": {"name": "Shop"}}

    replied = pair.hub.graphql(
        pair.hub_people["agent"], REPLY, {"id": on_hub["id"], "body": "A technician is on the way."}
    )["ticketReply"]
    assert replied["errors"] == []

    [email] = wait_for(lambda: smtp.to("cora@example.com"), 60, "the site's email to the customer")
    assert "A technician is on the way." in email.get_body(("plain",)).get_content()
    site, hub = wait_for(
        lambda: (d := _same_state(pair))[0]["digest"] == d[1]["digest"] and d,
        60,
        "both sides to agree",
        every=1,
    )
    [state] = site["state"].values()
    assert state["replies"] == [["A technician is on the way.", False]]
    assert state["status"] == "waiting_on_customer"
    assert hub["received"] == 1, "the hub's own reply came back to it, or the ticket twice"
    assert len(smtp.to("cora@example.com")) == 1, "the customer was emailed twice"
    assert len(_hub_tickets(pair)) == 1


def test_a_replys_file_travels_to_the_hub_and_a_hub_replys_file_back_to_the_site(
    pair: Pair, smtp: SmtpSink
) -> None:
    ticket = _create(pair, "Log attached")
    wait_for(lambda: _hub_tickets(pair), 60, "the ticket on the hub")
    log = b"2026-12-06 disk full on /var\n" * 40
    fix = b"Run the cleanup job, then restart.\n"

    pair.site.run("reply_file", "cora", ticket["reference"], "See the log", "disk.log", log.hex())
    wait_for(lambda: pair.hub.run("digest")["received"] == 2, 60, "the reply on the hub", 1)
    pair.hub.run("reply_file", "hana", ticket["reference"], "Try this", "fix.txt", fix.hex())

    site, hub = wait_for(
        lambda: (d := _same_state(pair))[0]["digest"] == d[1]["digest"] and d,
        60,
        "both sides to agree",
        every=1,
    )
    [state] = site["state"].values()
    assert [reply for reply, _name, _type, _sha in state["files"]] == ["See the log", "Try this"]
    assert {name: sha for _reply, name, _type, sha in state["files"]} == {
        "disk.log": hashlib.sha256(log).hexdigest(),
        "fix.txt": hashlib.sha256(fix).hexdigest(),
    }
    assert hub["state"] == site["state"]
    assert hub["received"] == 2, "the hub's own reply came back to it"


def _stream_over_http(pair: Pair, step: int) -> None:
    """Step ``step`` of the stream through the site's GraphQL endpoint, while the hub is down."""
    from tests.hosted.instance_db import step_action

    people = pair.site_people
    action, value = step_action(step)
    edges = pair.site.graphql(people["agent"], "{ tickets(first: 100) { edges { node { id } } } }")
    for n, edge in enumerate(edges["tickets"]["edges"]):
        ticket = edge["node"]["id"]
        if action == "priority":
            variables = {"id": ticket, "priority": value.upper()}
            result = pair.site.graphql(people["agent"], PRIORITY, variables)
            assert result["ticketPriorityChange"]["errors"] == []
            continue
        token = people[value]
        variables = {"id": ticket, "body": f"step {step} on {n}"}
        result = pair.site.graphql(token, REPLY, variables)
        assert result["ticketReply"]["errors"] == []


def test_an_outage_and_a_killed_worker_lose_nothing_and_reorder_nothing(pair: Pair) -> None:
    """500 events across 50 tickets: steps 0-3 (open, then an event per ticket per step) with
    the hub up, step 4 through the site's API and steps 5-9 through its services while the hub
    is down; then the hub comes back, and the site's worker is killed while it catches up."""
    pair.site.run("stream", "50", "0", "3")
    wait_for(lambda: pair.hub.run("digest")["received"] > 0, 120, "the first events on the hub", 1)

    pair.hub.stop_server()
    _stream_over_http(pair, 4)  # the site keeps serving
    pair.site.run("stream", "50", "5", "9")
    status = pair.site.graphql(pair.site_people["admin"], SYNC)["syncStatus"]
    assert status["backlog"] > 0 and status["oldestPendingAt"] is not None

    pair.hub.start_server()
    wait_for(lambda: pair.hub.run("digest")["received"] > 250, 300, "the hub to catch up", 1)
    pair.site.kill_worker()  # in the middle of a delivery
    pair.site.start_worker()

    def drained() -> bool:
        status = pair.site.graphql(pair.site_people["admin"], SYNC)["syncStatus"]
        return status["backlog"] == 0 and status["failed"] == 0

    wait_for(drained, 300, "the site's backlog to drain", 1)
    site, hub = _same_state(pair)
    assert hub["received"] == 500, "an event was lost or applied twice"
    assert len(hub["sequences"]) == 50
    assert all(seq == list(range(1, 11)) for seq in hub["sequences"].values()), hub["sequences"]
    assert site["state"] == hub["state"]
    assert site["digest"] == hub["digest"]
