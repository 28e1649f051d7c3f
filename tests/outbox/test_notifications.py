"""Notification emails through a real SMTP server: who gets what, and who never does."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Ticket
from escalated.services import outbox, webhooks
from escalated.services import tickets as service
from escalated.services.message_ids import thread_root, ticket_id_from_headers
from tests.conftest import World, make_user
from tests.outbox.peers import SmtpSink


@pytest.fixture
def assigned(helpdesk: World) -> Ticket:
    """The world's ticket, assigned to its billing agent, with nothing in the outbox."""
    service.ticket_assign(ticket=helpdesk.ticket, actor=helpdesk.admin, assignee=helpdesk.agent)
    Delivery.objects.all().delete()
    return helpdesk.ticket


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "every email has a text and an HTML part"
    return text.get_content(), html.get_content()


def test_a_new_ticket_emails_the_departments_agents_after_commit(
    helpdesk: World, smtp: SmtpSink, commit: Any
) -> None:
    with commit():
        ticket = service.ticket_create(
            actor=helpdesk.customer,
            subject="Card declined & refunded",
            description="Twice <b>today</b>.",
            department=helpdesk.billing,
        )

    [message] = smtp.wait_for(1)
    assert smtp.recipients == [["alan@example.com"]]
    assert message["Subject"] == f"[{ticket.reference}] New ticket: Card declined & refunded"
    assert message["From"] == "Help Desk <help@support.example.com>"
    text, html = _parts(message)
    # The description is HTML cleaned like a reply's body: shown as markup, stripped in text.
    assert "Twice today." in text
    assert "Twice <b>today</b>." in html
    assert f"http://localhost:8000/support/tickets/{ticket.reference}" in text
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.event == "ticket.created"


def test_emails_thread_by_message_id_and_references(
    helpdesk: World, assigned: Ticket, smtp: SmtpSink, commit: Any
) -> None:
    ticket = assigned
    with commit():
        service.ticket_reply(ticket=ticket, author=helpdesk.customer, body="Any news?")
    with commit():
        service.ticket_reply(ticket=ticket, author=helpdesk.agent, body="Yes: refunded.")

    first, second = smtp.wait_for(2)
    root = thread_root(ticket.pk)
    assert root.endswith("@support.example.com>")
    for message, delivery in zip(
        (first, second), Delivery.objects.order_by("created_at", "id"), strict=True
    ):
        assert message["In-Reply-To"] == root
        assert message["References"] == root
        assert message["Message-ID"].strip() == (
            f"<ticket-{ticket.pk}-{root.split('-')[2].split('@')[0]}"
            f".{delivery.idempotency_key}@support.example.com>"
        )
        assert message["X-Escalated-Ticket"] == ticket.reference
        assert message["Auto-Submitted"] == "auto-generated"
        assert ticket_id_from_headers(message["Message-ID"]) == ticket.pk
    # A reply from a mail client names the root in References: inbound mail finds the ticket.
    assert ticket_id_from_headers(None, f"<abc@mail.example> {root}") == ticket.pk


def test_forged_message_ids_name_no_ticket(helpdesk: World) -> None:
    root = thread_root(helpdesk.ticket.pk)
    forged = root.replace(f"ticket-{helpdesk.ticket.pk}-", "ticket-999-")

    assert ticket_id_from_headers(forged) is None
    assert ticket_id_from_headers("<ticket-1-0000000000000000@x.example>") is None
    assert ticket_id_from_headers("", None, "garbage") is None


def test_customer_reply_emails_the_assignee_and_agent_reply_the_requester(
    helpdesk: World, assigned: Ticket, smtp: SmtpSink, commit: Any
) -> None:
    ticket = assigned
    with commit():
        service.ticket_reply(ticket=ticket, author=helpdesk.customer, body="<p>Still double?</p>")
    with commit():
        service.ticket_reply(ticket=ticket, author=helpdesk.agent, body="<p>Refund sent.</p>")

    smtp.wait_for(2)
    [to_agent] = smtp.to("alan@example.com")
    [to_customer] = smtp.to("cora@example.com")
    assert to_agent["Subject"] == f"[{ticket.reference}] Customer reply: Invoice is wrong"
    assert "Still double?" in _parts(to_agent)[0]
    assert to_customer["Subject"] == f"[{ticket.reference}] Re: Invoice is wrong"
    text, html = _parts(to_customer)
    assert "Alan Agent answered your request" in text
    assert "<p>Refund sent.</p>" in html


def test_internal_notes_never_email_the_customer(
    helpdesk: World, assigned: Ticket, smtp: SmtpSink, commit: Any
) -> None:
    with commit():
        service.ticket_note_add(ticket=assigned, author=helpdesk.admin, body="Customer is VIP")

    assert not Delivery.objects.filter(kind=DeliveryKind.EMAIL).exists()
    assert smtp.messages == []


def test_a_note_row_addressed_to_a_customer_is_refused_at_sending(
    helpdesk: World, smtp: SmtpSink
) -> None:
    # However a row came to be, rendering refuses to mail a note to a customer.
    row = Delivery.objects.create(
        kind=DeliveryKind.EMAIL,
        event="note.created",
        ticket=helpdesk.ticket,
        recipient_user=helpdesk.customer,
        recipient=helpdesk.customer.email,
        payload={"template": "agent_reply", "reply_id": helpdesk.note.pk},
    )

    report = outbox.deliver()

    row.refresh_from_db()
    assert report.failed == 1
    assert row.status == DeliveryStatus.FAILED
    assert "never emailed to customers" in row.last_error
    assert smtp.messages == []


def test_assignment_emails_the_new_assignee_but_not_a_self_assignment(
    helpdesk: World, smtp: SmtpSink, commit: Any
) -> None:
    ticket = helpdesk.ticket
    with commit():
        service.ticket_assign(ticket=ticket, actor=helpdesk.agent, assignee=helpdesk.agent)
    with commit():
        service.ticket_assign(ticket=ticket, actor=helpdesk.agent, assignee=helpdesk.admin)

    [message] = smtp.wait_for(1)
    assert smtp.recipients == [["ada@example.com"]]
    assert message["Subject"] == f"[{ticket.reference}] Assigned to you: Invoice is wrong"
    assert "Alan Agent assigned" in _parts(message)[0]


def test_resolving_emails_the_requester_a_rating_link(
    helpdesk: World, smtp: SmtpSink, commit: Any, settings: Any
) -> None:
    settings.ESCALATED = {"SITE_URL": "https://help.example.com"}
    with commit():
        service.ticket_resolve(ticket=helpdesk.ticket, actor=helpdesk.agent)

    [message] = smtp.wait_for(1)
    reference = helpdesk.ticket.reference
    assert smtp.recipients == [["cora@example.com"]]
    assert message["Subject"] == f"[{reference}] Resolved: Invoice is wrong"
    text, html = _parts(message)
    assert f"https://help.example.com/support/tickets/{reference}/rate" in text
    assert f'href="https://help.example.com/support/tickets/{reference}/rate"' in html


def test_nobody_hears_of_their_own_action_or_without_an_address(
    helpdesk: World, smtp: SmtpSink, commit: Any
) -> None:
    silent = make_user("sam", first="Sam")
    silent.email = ""
    silent.save()
    helpdesk.billing.agents.add(silent)

    with commit():
        service.ticket_create(actor=helpdesk.agent, subject="Internal", department=helpdesk.billing)

    assert Delivery.objects.count() == 0
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("escalated", "expected"),
    [
        ({}, 1),
        ({"NOTIFICATIONS": {"TICKET_CREATED": False}}, 0),
        ({"NOTIFICATION_CHANNELS": []}, 0),
    ],
)
def test_each_email_has_a_switch(
    helpdesk: World, settings: Any, escalated: dict[str, Any], expected: int
) -> None:
    settings.ESCALATED = escalated

    service.ticket_create(actor=helpdesk.customer, subject="Hi", department=helpdesk.billing)

    assert Delivery.objects.filter(kind=DeliveryKind.EMAIL).count() == expected


def test_a_rolled_back_change_sends_nothing(helpdesk: World, smtp: SmtpSink, commit: Any) -> None:
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        service.ticket_create(actor=helpdesk.customer, subject="Hi", department=helpdesk.billing)
        assert Delivery.objects.count() == 1  # written with the change ...
        raise RuntimeError("the request failed after the ticket was saved")

    assert Delivery.objects.count() == 0  # ... and gone with it
    assert smtp.messages == []


def test_hosts_override_the_templates(
    helpdesk: World, smtp: SmtpSink, commit: Any, settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "escalated" / "email"
    folder.mkdir(parents=True)
    (folder / "ticket_resolved.subject.txt").write_text("All done: {{ ticket.subject }}")
    (folder / "ticket_resolved.txt").write_text("Rate us at {{ rating_url }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]

    with commit():
        service.ticket_resolve(ticket=helpdesk.ticket, actor=helpdesk.agent)

    [message] = smtp.wait_for(1)
    assert message["Subject"] == f"[{helpdesk.ticket.reference}] All done: Invoice is wrong"
    assert _parts(message)[0].startswith("Rate us at http://localhost:8000/")


def test_a_guest_requester_hears_of_public_replies_by_email_only(
    helpdesk: World, smtp: SmtpSink, commit: Any
) -> None:
    helpdesk.guest_headers()  # Gus Guest opens a ticket in billing (his link is emailed too)
    ticket = helpdesk.guest_ticket
    service.ticket_assign(ticket=ticket, actor=helpdesk.admin, assignee=helpdesk.agent)
    smtp.messages.clear()
    Delivery.objects.all().delete()

    with commit():
        service.ticket_note_add(ticket=ticket, author=helpdesk.agent, body="Check the carrier")
    with commit():
        service.ticket_reply(ticket=ticket, author=helpdesk.agent, body="<p>It ships today.</p>")

    [message] = smtp.wait_for(1)
    assert smtp.recipients == [["gus@example.org"]]
    assert message["Subject"] == f"[{ticket.reference}] Re: My parcel"
    text, _html = _parts(message)
    assert "It ships today." in text and "Check the carrier" not in text
    assert Delivery.objects.get().recipient_user is None


def test_a_guest_ticket_notifies_like_any_new_ticket(helpdesk: World) -> None:
    webhooks.webhook_create(
        actor=helpdesk.admin, url="https://hooks.example.com/in", events=[], secret="s" * 32
    )
    Delivery.objects.all().delete()

    helpdesk.guest_headers()  # Gus Guest opens a ticket in billing

    rows = Delivery.objects.filter(ticket=helpdesk.guest_ticket)
    assert sorted(rows.values_list("kind", "event", "recipient")) == [
        ("email", "ticket.created", "alan@example.com"),
        ("email", "ticket.created", "gus@example.org"),  # the magic link
        ("webhook", "ticket.created", "https://hooks.example.com/in"),
    ]


def _statements_to_open_a_ticket(helpdesk: World) -> int:
    with CaptureQueriesContext(connection) as queries:
        service.ticket_create(actor=helpdesk.customer, subject="Hi", department=helpdesk.billing)
    return len(queries)


def test_emailing_a_whole_department_costs_the_same_statements_for_any_size(
    helpdesk: World,
) -> None:
    _statements_to_open_a_ticket(helpdesk)  # the customer's own role is read once, here
    few = _statements_to_open_a_ticket(helpdesk)
    helpdesk.billing.agents.add(*(make_user(f"billing{n}") for n in range(6)))
    many = _statements_to_open_a_ticket(helpdesk)

    assert Delivery.objects.filter(kind=DeliveryKind.EMAIL).count() == 1 + 1 + 7
    assert many == few


def test_a_guest_link_repeats_nothing_the_sender_typed(
    helpdesk: World, smtp: SmtpSink, commit: Any, settings: Any
) -> None:
    # Anyone may open a guest ticket for any address: the first email to that address must not
    # carry the sender's words, or the form relays spam under the helpdesk's name.
    from escalated.services import guests

    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    with commit():
        ticket, _token = guests.guest_ticket_create(
            name="Cheap pills at spam.example",
            email="stranger@example.org",
            subject="WIN A PRIZE at spam.example",
            description="Click spam.example now",
        )

    messages = smtp.wait_for(1)
    [message] = [m for m in messages if m["To"] == "stranger@example.org"]
    text, html = _parts(message)
    assert message["Subject"] == f"[{ticket.reference}] Your support request"
    assert ticket.reference in text
    for part in (message["Subject"], text, html):
        assert "spam.example" not in part

    # A new link is sent by staff on purpose, who have read the request: it may say which
    # request it is about.
    smtp.messages.clear()
    with commit():
        guests.guest_token_rotate(ticket=ticket, actor=helpdesk.agent)
    [rotated] = smtp.wait_for(1)
    assert rotated["Subject"] == f"[{ticket.reference}] WIN A PRIZE at spam.example"
