"""From a stored message to a ticket or a reply: threading, senders, bodies, files, loops."""

from __future__ import annotations

from email.header import Header
from typing import Any

import pytest

from escalated.models import (
    Attachment,
    Channel,
    Delivery,
    GuestAccess,
    InboundEmail,
    InboundStatus,
    Status,
    Ticket,
    TicketActivity,
)
from escalated.services import tickets as ticket_service
from escalated.services.message_ids import message_id, reply_address, thread_root
from tests.conftest import World
from tests.mail.messages import PNG, attach, bounce, message, with_inline_image


def _only_inbound() -> InboundEmail:
    return InboundEmail.objects.get()


def test_a_known_customer_opens_their_own_ticket(helpdesk: World, deliver: Any) -> None:
    response = deliver(message(subject="Printer on fire", text="It is on fire."))

    assert response.status_code == 200
    inbound = _only_inbound()
    assert inbound.status == InboundStatus.PROCESSED
    ticket = inbound.ticket
    assert ticket.requester == helpdesk.customer
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Printer on fire"
    assert "It is on fire." in ticket.description
    assert not GuestAccess.objects.filter(ticket=ticket).exists()
    row = TicketActivity.objects.get(ticket=ticket, verb="email_received")
    assert row.after["inbound_email"] == inbound.pk
    assert row.after["from"] == "cora@example.com"


def test_an_unknown_sender_gets_a_guest_ticket_and_the_link(helpdesk: World, deliver: Any) -> None:
    deliver(message(sender="jane.doe@example.net", subject="Refund"))

    ticket = _only_inbound().ticket
    access = GuestAccess.objects.get(ticket=ticket)
    assert access.email == "jane.doe@example.net"
    assert access.name == "Jane Doe"
    assert ticket.requester is None
    link_mail = Delivery.objects.get(ticket=ticket, payload__template="guest_link")
    assert link_mail.recipient == "jane.doe@example.net"


def test_unknown_senders_are_ignored_while_guest_tickets_are_off(
    helpdesk: World, deliver: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": False}
    count = Ticket.objects.count()

    deliver(message(sender="stranger@example.net"))

    assert _only_inbound().status == InboundStatus.IGNORED
    assert Ticket.objects.count() == count


def test_a_subject_reference_threads_the_requesters_reply(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket
    deliver(message(subject=f"Re: [{ticket.reference}] Invoice is wrong", text="Still wrong."))

    inbound = _only_inbound()
    assert inbound.ticket == ticket
    assert inbound.reply.author == helpdesk.customer
    assert inbound.reply.body == "<p>Still wrong.</p>"
    assert not inbound.reply.is_internal_note
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_AGENT


def test_in_reply_to_one_of_our_emails_threads_it(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket
    ours = message_id(ticket.pk, "abc123")
    deliver(
        message(
            subject="Re: your ticket",
            headers={"In-Reply-To": ours, "References": thread_root(ticket.pk)},
        )
    )

    assert _only_inbound().ticket == ticket


def test_references_to_mail_we_received_thread_it(helpdesk: World, deliver: Any) -> None:
    deliver(message(subject="First", message_id="<first@mail.example.com>"))
    first = InboundEmail.objects.get(message_id="<first@mail.example.com>")

    deliver(message(subject="Another thing", headers={"References": "<first@mail.example.com>"}))

    second = InboundEmail.objects.exclude(pk=first.pk).get()
    assert second.ticket == first.ticket
    assert second.reply is not None


def test_a_signed_reply_address_threads_without_headers(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket
    address = reply_address(ticket.pk)
    assert address is not None and address.startswith("support+")

    deliver(message(subject="no headers at all", to=address))

    assert _only_inbound().ticket == ticket


def test_a_forged_reply_address_opens_a_new_ticket(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket
    deliver(message(subject="forged", to=f"support+{ticket.pk}-0000000000000000@help.example.com"))

    inbound = _only_inbound()
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.ticket not in (None, ticket)


def test_a_stranger_quoting_a_reference_gets_a_new_ticket(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket
    replies = ticket.replies.count()

    deliver(
        message(
            sender="mallory@evil.example",
            subject=f"Re: [{ticket.reference}] Invoice is wrong",
            headers={"In-Reply-To": message_id(ticket.pk, "k1")},
        )
    )

    inbound = _only_inbound()
    assert inbound.ticket != ticket
    assert ticket.replies.count() == replies
    assert GuestAccess.objects.get(ticket=inbound.ticket).email == "mallory@evil.example"


def test_another_customer_quoting_a_reference_gets_their_own_ticket(
    helpdesk: World, deliver: Any
) -> None:
    ticket = helpdesk.ticket
    deliver(message(sender="otto@example.com", subject=f"[{ticket.reference}] mine now?"))

    inbound = _only_inbound()
    assert inbound.ticket != ticket
    assert inbound.ticket.requester == helpdesk.other_customer


def test_an_agents_email_is_an_agent_reply_never_a_note(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket
    deliver(
        message(sender="alan@example.com", subject=f"[{ticket.reference}] done", text="Refunded.")
    )

    reply = _only_inbound().reply
    assert reply.author == helpdesk.agent
    assert reply.from_agent and not reply.is_internal_note
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER


def test_an_agent_who_cannot_see_the_ticket_opens_a_new_one(helpdesk: World, deliver: Any) -> None:
    ticket = helpdesk.ticket  # billing; the outsider works in sales
    deliver(message(sender="olga@example.com", subject=f"[{ticket.reference}] let me in"))

    inbound = _only_inbound()
    assert inbound.ticket not in (None, ticket)
    assert inbound.ticket.requester == helpdesk.outsider
    assert ticket.replies.filter(author=helpdesk.outsider).count() == 0


def test_a_guest_replies_to_their_ticket(helpdesk: World, deliver: Any) -> None:
    deliver(
        message(sender="gina@example.net", subject="Lost parcel", message_id="<g1@example.net>")
    )
    ticket = _only_inbound().ticket

    deliver(
        message(
            sender="Gina <gina@example.net>",
            subject=f"Re: [{ticket.reference}] Lost parcel",
            text="Any news?",
        )
    )

    reply = InboundEmail.objects.exclude(message_id="<g1@example.net>").get().reply
    assert reply.ticket == ticket
    assert reply.author is None and reply.author_label == "guest:gina@example.net"


@pytest.mark.parametrize("settle", [ticket_service.ticket_resolve, ticket_service.ticket_close])
def test_a_customer_reply_reopens_a_settled_ticket(
    helpdesk: World, deliver: Any, commit: Any, settle: Any
) -> None:
    ticket = helpdesk.ticket
    with commit():
        settle(ticket=ticket, actor=helpdesk.agent)

    deliver(message(subject=f"Re: [{ticket.reference}] Invoice is wrong", text="Not fixed."))

    ticket.refresh_from_db()
    assert ticket.status == Status.REOPENED
    assert _only_inbound().reply.ticket == ticket
    reopened = TicketActivity.objects.filter(ticket=ticket, after__status="reopened")
    assert reopened.exists()


def test_a_guest_writing_to_their_closed_ticket_opens_a_new_one(
    helpdesk: World, deliver: Any, commit: Any
) -> None:
    deliver(message(sender="gil@example.net", subject="First", message_id="<gil1@example.net>"))
    ticket = _only_inbound().ticket
    with commit():
        ticket_service.ticket_close(ticket=ticket, actor=helpdesk.agent)

    deliver(message(sender="gil@example.net", subject=f"Re: [{ticket.reference}] First"))

    second = InboundEmail.objects.exclude(message_id="<gil1@example.net>").get()
    assert second.status == InboundStatus.PROCESSED
    assert second.ticket != ticket
    assert GuestAccess.objects.get(ticket=second.ticket).email == "gil@example.net"
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_quoted_history_and_signature_are_trimmed_from_replies(
    helpdesk: World, deliver: Any
) -> None:
    ticket = helpdesk.ticket
    text = (
        "Thanks, that fixed it.\n\n-- \nCora Customer | ACME\n\n"
        "On Mon, 1 Dec 2026 at 10:00, Support <support@help.example.com> wrote:\n"
        "> We looked into it.\n> Regards\n"
    )
    deliver(message(subject=f"Re: [{ticket.reference}]", text=text))

    assert _only_inbound().reply.body == "<p>Thanks, that fixed it.</p>"


def test_a_forwarded_chain_keeps_its_history_on_a_new_ticket(helpdesk: World, deliver: Any) -> None:
    text = (
        "See below, please help.\n\n---------- Forwarded message ---------\n"
        "From: Bob <bob@example.org>\nDate: Mon, 1 Dec 2026\nSubject: broken\n\n"
        "The printer on floor 3 is broken.\n"
    )
    deliver(message(subject="Fwd: broken", text=text))

    description = _only_inbound().ticket.description
    assert "See below, please help." in description
    assert "The printer on floor 3 is broken." in description


def test_html_only_mail_is_sanitised_to_text(helpdesk: World, deliver: Any) -> None:
    html = '<p>Hello <b>there</b></p><script>alert(1)</script><img src=x onerror="alert(2)">'
    deliver(message(text=None, html=html))

    description = _only_inbound().ticket.description
    assert "Hello there" in description
    assert (
        "script" not in description and "onerror" not in description and "alert" not in description
    )


def test_multipart_alternative_prefers_the_text_part(helpdesk: World, deliver: Any) -> None:
    deliver(message(text="plain words", html="<p>html words</p>"))

    description = _only_inbound().ticket.description
    assert "plain words" in description and "html words" not in description


def test_iso_8859_1_and_encoded_words_are_decoded(helpdesk: World, deliver: Any) -> None:
    # As a mail client writes it: the subject as an ISO-8859-1 encoded word, the body quoted-
    # printable (webhook form fields carry text; raw 8-bit bodies are tested over IMAP).
    subject = Header("Ärger mit der Rechnung", "iso-8859-1").encode()
    assert subject.startswith("=?iso-8859-1?")
    deliver(
        message(
            subject=subject, text="Grüße aus Köln.", charset="iso-8859-1", cte="quoted-printable"
        )
    )

    ticket = _only_inbound().ticket
    assert ticket.subject == "Ärger mit der Rechnung"
    assert "Grüße aus Köln" in ticket.description


def test_shift_jis_bodies_are_decoded(helpdesk: World, deliver: Any) -> None:
    subject = Header("請求書について", "shift_jis").encode()
    deliver(
        message(subject=subject, text="請求書が届きません。", charset="shift_jis", cte="base64")
    )

    ticket = _only_inbound().ticket
    assert ticket.subject == "請求書について"
    assert "請求書が届きません。" in ticket.description


def test_attachments_and_inline_images_are_stored(helpdesk: World, deliver: Any) -> None:
    msg = with_inline_image(
        message(text="see picture", html='<p><img src="cid:logo@mail.example.com"></p>')
    )
    attach(
        msg,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "invoice.pdf",
        "application/pdf",
    )
    deliver(msg)

    ticket = _only_inbound().ticket
    names = sorted(Attachment.objects.filter(ticket=ticket).values_list("filename", "content_type"))
    assert names == [("invoice.pdf", "application/pdf"), ("logo.png", "image/png")]


def test_refused_files_are_listed_on_the_timeline(
    helpdesk: World, deliver: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "MAX_ATTACHMENT_SIZE_KB": 1}
    msg = message(text="files")
    attach(msg, PNG, "small.png", "image/png")
    attach(msg, b"x" * 4096, "big.txt", "text/plain")
    attach(msg, b"MZ\x90\x00" + b"\x00" * 60, "tool.exe")
    deliver(msg)

    inbound = _only_inbound()
    assert inbound.status == InboundStatus.PROCESSED
    assert list(
        Attachment.objects.filter(ticket=inbound.ticket).values_list("filename", flat=True)
    ) == ["small.png"]
    refused = TicketActivity.objects.get(ticket=inbound.ticket, verb="email_received").after[
        "refused_attachments"
    ]
    assert len(refused) == 2
    assert any("big.txt" in line for line in refused)
    assert any("tool.exe" in line for line in refused)


def test_more_files_than_allowed_are_refused_beyond_the_limit(
    helpdesk: World, deliver: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "MAX_ATTACHMENTS": 1}
    msg = message(text="files")
    attach(msg, PNG, "one.png", "image/png")
    attach(msg, PNG, "two.png", "image/png")
    deliver(msg)

    inbound = _only_inbound()
    assert Attachment.objects.filter(ticket=inbound.ticket).count() == 1
    refused = TicketActivity.objects.get(ticket=inbound.ticket, verb="email_received").after[
        "refused_attachments"
    ]
    assert refused == ["two.png: more than 1 files on one message"]


def test_automatic_mail_makes_no_ticket(helpdesk: World, deliver: Any) -> None:
    count = Ticket.objects.count()
    cases = [
        ({"Auto-Submitted": "auto-replied"}, InboundStatus.IGNORED),
        ({"Precedence": "bulk"}, InboundStatus.IGNORED),
        ({"Precedence": "junk"}, InboundStatus.IGNORED),
        ({"Precedence": "list"}, InboundStatus.IGNORED),
        ({"X-Autoreply": "yes"}, InboundStatus.IGNORED),
        ({"List-Id": "<news.example.com>"}, InboundStatus.IGNORED),
        ({"Return-Path": "<>"}, InboundStatus.BOUNCED),
    ]
    for headers, _status in cases:
        deliver(message(subject="Out of office", headers=headers))
    deliver(bounce())
    deliver(message(subject="echo", message_id=message_id(helpdesk.ticket.pk, "deadbeef")))

    statuses = list(InboundEmail.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [s for _h, s in cases] + [InboundStatus.BOUNCED, InboundStatus.IGNORED]
    assert Ticket.objects.count() == count
    assert not Delivery.objects.filter(ticket__isnull=True).exists()


def test_raw_mime_is_kept_in_the_attachment_storage(
    helpdesk: World, deliver: Any, inbound_on: Any
) -> None:
    msg = message(subject="Keep me")
    deliver(msg)

    inbound = _only_inbound()
    assert inbound.raw_storage == "escalated_test"
    stored = (inbound_on / inbound.raw_name).read_bytes()
    assert b"Subject: Keep me" in stored
    assert inbound.raw_size == len(stored)
