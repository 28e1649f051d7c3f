"""The Postmark webhook: its inbound JSON (parsed, or with RawEmail) behind basic auth."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from django.test import Client

from escalated.models import Attachment, InboundEmail, InboundStatus, Ticket
from tests.conftest import World
from tests.mail.messages import PNG, message

URL = "/support/inbound/postmark/"
TOKEN = "postmark:s3cret-inbound-pass"


@pytest.fixture
def postmark(helpdesk: World, settings: Any) -> World:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "INBOUND_EMAIL_ADAPTER": "postmark",
        "POSTMARK_INBOUND_TOKEN": TOKEN,
    }
    return helpdesk


def _auth(credentials: str = TOKEN) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def payload(**extra: Any) -> dict[str, Any]:
    """An inbound message as Postmark posts it (its documented example, trimmed)."""
    return {
        "FromName": "Cora Customer",
        "MessageStream": "inbound",
        "From": "cora@example.com",
        "FromFull": {"Email": "cora@example.com", "Name": "Cora Customer", "MailboxHash": ""},
        "To": "support@help.example.com",
        "ToFull": [{"Email": "support@help.example.com", "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "support@help.example.com",
        "Subject": "Postmark says hello",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Fri, 4 Dec 2026 10:00:00 +0000",
        "TextBody": "Sent through Postmark.",
        "HtmlBody": "<p>Sent through Postmark.</p>",
        "StrippedTextReply": "Sent through Postmark.",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<cora@example.com>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<pm-1@mail.example.com>"},
        ],
        "Attachments": [
            {
                "Name": "photo.png",
                "Content": base64.b64encode(PNG).decode(),
                "ContentType": "image/png",
                "ContentLength": len(PNG),
            }
        ],
        **extra,
    }


def _post(body: Any, commit: Any, **headers: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    with commit():
        return Client().post(URL, data, content_type="application/json", **headers)


def test_parsed_json_makes_a_ticket(postmark: World, commit: Any) -> None:
    response = _post(payload(), commit, **_auth())

    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert (inbound.provider, inbound.message_id) == ("postmark", "<pm-1@mail.example.com>")
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.ticket.requester == postmark.customer
    assert "Sent through Postmark." in inbound.ticket.description
    names = list(Attachment.objects.filter(ticket=inbound.ticket).values_list("filename", "size"))
    assert names == [("photo.png", len(PNG))]


def test_raw_email_is_used_when_postmark_includes_it(postmark: World, commit: Any) -> None:
    raw = bytes(message(subject="Raw via Postmark", message_id="<pm-raw@mail.example.com>"))

    _post(payload(RawEmail=raw.decode()), commit, **_auth())

    inbound = InboundEmail.objects.get()
    assert inbound.message_id == "<pm-raw@mail.example.com>"
    assert inbound.ticket.subject == "Raw via Postmark"


def test_without_a_message_id_header_postmarks_id_dedupes(postmark: World, commit: Any) -> None:
    body = payload(Headers=[{"Name": "Return-Path", "Value": "<cora@example.com>"}])

    _post(body, commit, **_auth())
    _post(body, commit, **_auth())

    inbound = InboundEmail.objects.get()
    assert inbound.message_id == "<postmark-73e6d360-66eb-11e1-8e72-a8904824019b@inbound.escalated>"


def test_a_redelivery_changes_nothing(postmark: World, commit: Any) -> None:
    _post(payload(), commit, **_auth())
    tickets = Ticket.objects.count()

    assert _post(payload(), commit, **_auth()).status_code == 200

    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == tickets


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no credentials"),
        pytest.param(_auth("postmark:wrong"), 400, id="wrong password"),
        pytest.param(_auth("someone:s3cret-inbound-pass"), 400, id="wrong user"),
        pytest.param({"HTTP_AUTHORIZATION": "Bearer " + TOKEN}, 400, id="not basic"),
    ],
)
def test_bad_credentials_are_refused(
    postmark: World, commit: Any, caplog: Any, headers: Any, status: int
) -> None:
    with caplog.at_level(logging.WARNING, logger="escalated.mail.webhooks"):
        response = _post(payload(), commit, **headers)

    assert response.status_code == status
    assert InboundEmail.objects.count() == 0
    assert "refused" in caplog.text


def test_a_body_that_is_not_json_is_refused(postmark: World, commit: Any) -> None:
    response = _post("{not json", commit, **_auth())

    assert response.status_code == 400
    assert InboundEmail.objects.count() == 0
