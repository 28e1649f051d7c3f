"""What a customer can do to their own ticket over GraphQL, and the clear refusals where the
rules say no."""

from __future__ import annotations

from typing import Any

from escalated.models import Attachment
from escalated.services import tickets
from tests import files
from tests.conftest import World, data_of, gid, stored_files

CLOSE = """mutation($input: TicketCloseInput!) { ticketClose(input: $input) {
    ticket { status closedAt } errors { code message } } }"""
REOPEN = """mutation($input: TicketReopenInput!) { ticketReopen(input: $input) {
    ticket { status } errors { code message } } }"""
REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
    reply { id } errors { field code message } } }"""


def test_a_customer_closes_their_ticket(world: World, gql: Any) -> None:
    result = data_of(gql(CLOSE, {"input": {"ticketId": gid(world.ticket)}}, user=world.customer))

    assert result["ticketClose"]["ticket"]["status"] == "CLOSED"
    assert result["ticketClose"]["ticket"]["closedAt"] is not None


def test_customer_close_is_refused_when_the_setting_says_no(
    world: World, gql: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "ALLOW_CUSTOMER_CLOSE": False}

    refused = gql(CLOSE, {"input": {"ticketId": gid(world.ticket)}}, user=world.customer)
    by_agent = gql(CLOSE, {"input": {"ticketId": gid(world.ticket)}}, user=world.agent)

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["errors"][0]["message"] == "Only the support team can close tickets here."
    assert data_of(by_agent)["ticketClose"]["ticket"]["status"] == "CLOSED"


def test_reopen_is_refused_unless_resolved_or_closed(world: World, gql: Any, settings: Any) -> None:
    # Even where the transition table would allow it, a ticket in work has nothing to reopen.
    assert world.ticket.status == "waiting_on_customer"
    settings.ESCALATED = {
        **settings.ESCALATED,
        "STATUS_TRANSITIONS": {"waiting_on_customer": ["reopened"]},
    }

    result = data_of(gql(REOPEN, {"input": {"ticketId": gid(world.ticket)}}, user=world.customer))

    (error,) = result["ticketReopen"]["errors"]
    assert error["code"] == "INVALID_TRANSITION"
    assert "waiting_on_customer" in error["message"] and "resolved" in error["message"]
    world.ticket.refresh_from_db()
    assert world.ticket.status == "waiting_on_customer"


def test_a_customer_reopens_a_closed_ticket_and_replies(
    world: World, gql: Any, file_store: Any
) -> None:
    tickets.ticket_close(ticket=world.ticket, actor=world.agent)
    ticket_id = {"ticketId": gid(world.ticket)}
    reply_input = {**ticket_id, "body": "Still broken", "attachments": [None]}

    refused = gql.multipart(
        REPLY,
        {"input": reply_input},
        {"variables.input.attachments.0": files.upload("photo.png", files.png())},
        user=world.customer,
    )
    reopened = data_of(gql(REOPEN, {"input": ticket_id}, user=world.customer))
    replied = gql.multipart(
        REPLY,
        {"input": reply_input},
        {"variables.input.attachments.0": files.upload("photo.png", files.png())},
        user=world.customer,
    )

    errors = data_of(refused)["ticketReply"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("ticketId", "TICKET_CLOSED")]
    assert "reopen it" in errors[0]["message"]
    assert reopened["ticketReopen"]["ticket"]["status"] == "REOPENED"
    assert data_of(replied)["ticketReply"]["errors"] == []
    # The refused reply stored nothing; the accepted one stored its one file.
    assert Attachment.objects.count() == 1
    assert stored_files(file_store) == [Attachment.objects.get().storage_name]


def test_another_customer_cannot_act_on_the_ticket(world: World, gql: Any) -> None:
    for document in (CLOSE, REOPEN):
        result = data_of(
            gql(document, {"input": {"ticketId": gid(world.ticket)}}, user=world.other_customer)
        )
        (payload,) = result.values()
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
