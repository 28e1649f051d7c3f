"""The Mailgun webhook: its real form posts (raw MIME and parsed fields), its HMAC signature and
timestamp window, and redeliveries."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from escalated.models import Attachment, InboundEmail, InboundStatus, Reply, Ticket
from tests.conftest import World
from tests.mail.conftest import mailgun_mime_post, mailgun_signature, post_mailgun
from tests.mail.messages import PNG, message

URL = "/support/inbound/mailgun/"


def test_parsed_fields_with_attachments_make_a_ticket(helpdesk: World, commit: Any) -> None:
    headers = [
        ["From", "Cora Customer <cora@example.com>"],
        ["To", "support@help.example.com"],
        ["Subject", "Parsed route"],
        ["Message-Id", "<parsed-1@mail.example.com>"],
        ["Date", "Fri, 04 Dec 2026 10:00:00 +0000"],
    ]
    data = {
        "recipient": "support@help.example.com",
        "sender": "cora@example.com",
        "from": "Cora Customer <cora@example.com>",
        "subject": "Parsed route",
        "body-plain": "Body from the parsed fields.",
        "stripped-text": "Body from the parsed fields.",
        "body-html": "<p>Body from the parsed fields.</p>",
        "message-headers": json.dumps(headers),
        "attachment-count": "1",
        "attachment-1": SimpleUploadedFile("shot.png", PNG, "image/png"),
        **mailgun_signature(),
    }

    response = post_mailgun(Client(), data, commit)

    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert inbound.message_id == "<parsed-1@mail.example.com>"
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.ticket.subject == "Parsed route"
    assert "Body from the parsed fields." in inbound.ticket.description
    assert list(
        Attachment.objects.filter(ticket=inbound.ticket).values_list("filename", flat=True)
    ) == ["shot.png"]


def _refused(data: dict[str, Any], commit: Any, caplog: Any, **extra: Any) -> Any:
    tickets = Ticket.objects.count()
    with caplog.at_level(logging.WARNING, logger="escalated.mail.webhooks"):
        response = post_mailgun(Client(**extra), data, commit)
    assert InboundEmail.objects.count() == 0
    assert Ticket.objects.count() == tickets
    assert "refused" in caplog.text
    return response


@pytest.mark.parametrize(
    "signing",
    [
        pytest.param(lambda: mailgun_signature(key="the-wrong-key"), id="wrong key"),
        pytest.param(lambda: {**mailgun_signature(), "signature": "0" * 64}, id="bad signature"),
        pytest.param(lambda: {**mailgun_signature(), "token": "replaced"}, id="changed token"),
        pytest.param(lambda: mailgun_signature(timestamp=int(time.time()) - 3600), id="stale"),
        pytest.param(lambda: mailgun_signature(timestamp=int(time.time()) + 3600), id="future"),
    ],
)
def test_bad_signatures_are_refused(
    helpdesk: World, commit: Any, caplog: Any, signing: Any
) -> None:
    data = mailgun_mime_post(bytes(message()), **signing())

    response = _refused(data, commit, caplog)

    assert response.status_code == 400


@pytest.mark.parametrize("missing", ["signature", "timestamp", "token"])
def test_missing_signing_fields_are_refused(
    helpdesk: World, commit: Any, caplog: Any, missing: str
) -> None:
    data = mailgun_mime_post(bytes(message()))
    del data[missing]

    response = _refused(data, commit, caplog)

    assert response.status_code == 400


def test_the_endpoint_is_absent_while_inbound_email_is_off(
    helpdesk: World, commit: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "INBOUND_EMAIL_ENABLED": False}

    response = post_mailgun(Client(), mailgun_mime_post(bytes(message())), commit)

    assert response.status_code == 404
    assert InboundEmail.objects.count() == 0


def test_the_endpoint_is_absent_for_another_adapter(
    helpdesk: World, commit: Any, settings: Any
) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "INBOUND_EMAIL_ADAPTER": "postmark",
        "POSTMARK_INBOUND_TOKEN": "u:p",
    }

    response = post_mailgun(Client(), mailgun_mime_post(bytes(message())), commit)

    assert response.status_code == 404


def test_get_is_not_allowed(helpdesk: World) -> None:
    assert Client().get(URL).status_code == 405


def test_a_redelivery_answers_200_and_changes_nothing(helpdesk: World, commit: Any) -> None:
    raw = bytes(message(message_id="<once@mail.example.com>"))
    client = Client()
    assert post_mailgun(client, mailgun_mime_post(raw), commit).status_code == 200
    tickets, replies = Ticket.objects.count(), Reply.objects.count()

    response = post_mailgun(client, mailgun_mime_post(raw), commit)

    assert response.status_code == 200
    assert InboundEmail.objects.count() == 1
    assert (Ticket.objects.count(), Reply.objects.count()) == (tickets, replies)


def test_a_redelivery_after_a_half_way_failure_changes_nothing(
    helpdesk: World, commit: Any, monkeypatch: Any, inbound_on: Any
) -> None:
    """The first attempt dies after the ticket was written (in the timeline step): everything it
    wrote rolls back, the record says failed, a redelivery changes nothing, a retry succeeds."""
    from escalated import events

    real = events.record

    def dies_on_the_timeline(event: Any) -> None:
        real(event)
        if isinstance(event, events.EmailReceived):
            raise RuntimeError("the disk is full")

    monkeypatch.setattr(events, "record", dies_on_the_timeline)
    raw = bytes(message(message_id="<flaky@mail.example.com>"))
    client = Client()
    tickets = Ticket.objects.count()
    files_before = sorted(p.name for p in inbound_on.rglob("*") if p.is_file())

    assert post_mailgun(client, mailgun_mime_post(raw), commit).status_code == 200
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.FAILED
    assert "the disk is full" in inbound.error
    assert inbound.ticket is None
    assert Ticket.objects.count() == tickets

    assert post_mailgun(client, mailgun_mime_post(raw), commit).status_code == 200
    inbound.refresh_from_db()
    assert (inbound.status, inbound.attempts, Ticket.objects.count()) == (
        InboundStatus.FAILED,
        1,
        tickets,
    )

    monkeypatch.setattr(events, "record", real)
    from escalated.mail.processing import inbound_email_retry

    with commit():
        inbound = inbound_email_retry(actor=helpdesk.admin, inbound=inbound)
    assert inbound.status == InboundStatus.PROCESSED
    assert Ticket.objects.count() == tickets + 1
    assert inbound.attempts == 2
    # Only the raw message was added to the storage; nothing the failed attempt wrote is left.
    files_after = sorted(p.name for p in inbound_on.rglob("*") if p.is_file())
    assert len(files_after) == len(files_before) + 1
