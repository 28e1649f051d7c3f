"""Files travel with synced events: the bytes in base64 within SYNC_ATTACHMENT_MAX_KB, checked
whole on arrival and against the receiver's own limits; a file left out never loses its reply."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from django.core.files.base import ContentFile

from escalated.hosted import wire
from escalated.models import Attachment, Delivery, DeliveryKind, Reply, Ticket
from escalated.services import tickets as service
from tests.hosted.test_hub import created, event, post
from tests.hosted.test_push import _people
from tests.outbox.peers import HttpReceiver

LOG = b"disk full on /var\n" * 10


def _entry(data: bytes, name: str = "disk.log", **changes: Any) -> dict[str, Any]:
    entry = {
        "filename": name,
        "content_type": "text/plain",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_base64": base64.b64encode(data).decode(),
    }
    return {**entry, **changes}


def test_a_replys_file_goes_in_its_event_and_a_large_one_as_metadata_only(
    hub_receiver: HttpReceiver, commit: Any, settings: Any, file_store: Any, db: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "SYNC_ATTACHMENT_MAX_KB": 1}
    customer, _agent, billing = _people()
    with commit():
        ticket = service.ticket_create(
            actor=customer,
            subject="Disk",
            department=billing,
            attachments=[ContentFile(b"opening note\n", name="first.txt")],
        )
    with commit():
        service.ticket_reply(
            ticket=ticket,
            author=customer,
            body="Logs",
            attachments=[
                ContentFile(LOG, name="disk.log"),
                ContentFile(b"x" * 2048, name="big.txt"),
            ],
        )

    opened, replied = (json.loads(call.body)["payload"] for call in hub_receiver.calls)
    assert [f["filename"] for f in opened["attachments"]] == ["first.txt"]
    small, big = replied["attachments"]
    assert small == _entry(LOG)
    assert big == {
        "filename": "big.txt",
        "content_type": "text/plain",
        "size": 2048,
        "sha256": None,
        "content_base64": None,
    }
    # The row holds the bytes it was written with: a retry sends the same event.
    row = Delivery.objects.get(kind=DeliveryKind.HUB, event="reply.created")
    assert row.payload["payload"]["attachments"][0]["content_base64"] == small["content_base64"]


def test_the_hub_keeps_whole_accepted_files_and_the_reply_whatever_it_leaves_out(
    hub: dict[str, Any], file_store: Any
) -> None:
    opening = created()
    opening["payload"]["attachments"] = [_entry(b"screenshot text\n", "first.txt")]
    assert post(opening, hub["shop_key"]).status_code == 200
    reply = event("reply.created", "ESC-00001", 2, reply={"body": "Logs", "internal": False})
    reply["payload"]["attachments"] = [
        _entry(LOG),
        _entry(b"tampered\n", "bad.txt", sha256="0" * 64),  # not the bytes that were sent
        _entry(b"MZ\x90\x00" + b"\x00" * 60, "tool.exe"),  # refused by the hub's own limits
        _entry(b"", "missing.txt", content_base64=None),  # too large to carry
        _entry(b"x", "garbled.txt", content_base64="!!not base64!!"),
    ]

    answer = post(reply, hub["shop_key"])

    assert answer.status_code == 200, answer.content
    ticket = Ticket.objects.get()
    assert [a.filename for a in Attachment.objects.filter(reply=None)] == ["first.txt"]
    (kept,) = Attachment.objects.filter(reply__isnull=False)
    assert (kept.filename, kept.reply.body, kept.ticket) == ("disk.log", "Logs", ticket)
    from escalated.services.attachments import attachment_open

    with attachment_open(kept) as handle:
        assert handle.read() == LOG
    assert Reply.objects.filter(ticket=ticket).count() == 1


def test_incoming_files_ignore_a_payload_without_a_list() -> None:
    assert wire.incoming_files({"attachments": "nope"}) == []
    assert wire.incoming_files({}) == []
