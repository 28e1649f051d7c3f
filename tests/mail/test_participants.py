"""Participants: people copied on a ticket's email may answer it by email, and do nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from escalated.access import (
    TicketAction,
    can_see_reply,
    require_ticket_action,
    visible_replies,
    visible_tickets,
)
from escalated.errors import NotAllowed
from escalated.models import (
    Delivery,
    DeliveryKind,
    GuestAccess,
    InboundEmail,
    Reply,
    Status,
    Ticket,
    TicketActivity,
    TicketParticipant,
)
from escalated.services import participants as participant_service
from escalated.services import tickets as ticket_service
from escalated.services.message_ids import reply_address
from tests.conftest import World, data_of, gid, make_user
from tests.mail.messages import message


def _inbound(message_id: str) -> InboundEmail:
    return InboundEmail.objects.get(message_id=message_id)


def _copied_ticket(deliver: Any, cc: str = "Bob Boss <bob@partner.example>") -> Ticket:
    """A stranger's new ticket with ``cc`` copied in."""
    deliver(
        message(
            sender="Gina <gina@example.net>",
            subject="Lost parcel",
            cc=cc,
            message_id="<first@example.net>",
        )
    )
    return _inbound("<first@example.net>").ticket


def test_people_copied_on_a_new_ticket_become_its_participants(
    helpdesk: World, deliver: Any
) -> None:
    ticket = _copied_ticket(
        deliver,
        cc="Bob Boss <bob@partner.example>, gina@example.net, Support <support@help.example.com>, "
        f"{reply_address(42)}, alan@example.com, carol.c@partner.example",
    )

    rows = list(TicketParticipant.objects.filter(ticket=ticket).values_list("email", "name"))
    # Not the requester, not our own addresses (signed or not), not staff (alan is an agent).
    assert rows == [("bob@partner.example", "Bob Boss"), ("carol.c@partner.example", "")]
    timeline = TicketActivity.objects.get(ticket=ticket, verb="email_received")
    assert timeline.after["participants_added"] == [
        "bob@partner.example",
        "carol.c@partner.example",
    ]


def test_a_copied_person_replies_into_the_same_ticket(helpdesk: World, deliver: Any) -> None:
    ticket = _copied_ticket(deliver)

    deliver(
        message(
            sender="Bob Boss <bob@partner.example>",
            subject="Re: Lost parcel",
            text="I can confirm it never arrived.",
            message_id="<bob1@partner.example>",
            headers={"In-Reply-To": "<first@example.net>"},
        )
    )

    inbound = _inbound("<bob1@partner.example>")
    assert inbound.ticket == ticket
    reply = inbound.reply
    assert reply.ticket == ticket
    assert reply.author is None and reply.author_label == "participant:bob@partner.example"
    assert not reply.is_internal_note and not reply.from_agent
    # Still the guest's ticket: a participant's reply changes nobody's role on it.
    assert GuestAccess.objects.get(ticket=ticket).email == "gina@example.net"


def test_a_participant_with_an_account_replies_as_that_account(
    helpdesk: World, deliver: Any
) -> None:
    ticket = helpdesk.ticket  # cora's; otto is another customer, who cannot see it
    deliver(
        message(
            subject=f"Re: [{ticket.reference}] Invoice is wrong",
            cc="Otto <otto@example.com>",
            message_id="<cora2@example.com>",
        )
    )
    assert TicketParticipant.objects.get(ticket=ticket).user == helpdesk.other_customer

    deliver(
        message(
            sender="otto@example.com",
            subject=f"Re: [{ticket.reference}] Invoice is wrong",
            text="Same here.",
            message_id="<otto1@example.com>",
        )
    )

    reply = _inbound("<otto1@example.com>").reply
    assert reply.ticket == ticket
    assert reply.author == helpdesk.other_customer and reply.author_label == ""


def test_a_stranger_quoting_the_reference_still_gets_a_new_ticket(
    helpdesk: World, deliver: Any
) -> None:
    ticket = _copied_ticket(deliver)
    replies = ticket.replies.count()

    deliver(
        message(
            sender="mallory@evil.example",
            subject=f"Re: [{ticket.reference}] Lost parcel",
            cc="bob@partner.example",
            message_id="<m1@evil.example>",
            headers={"In-Reply-To": "<first@example.net>"},
        )
    )

    inbound = _inbound("<m1@evil.example>")
    assert inbound.ticket != ticket
    assert ticket.replies.count() == replies
    assert GuestAccess.objects.get(ticket=inbound.ticket).email == "mallory@evil.example"


def test_a_participant_of_one_ticket_cannot_write_into_another(
    helpdesk: World, deliver: Any
) -> None:
    _copied_ticket(deliver)
    other = helpdesk.ticket

    deliver(
        message(
            sender="bob@partner.example",
            subject=f"Re: [{other.reference}] Invoice is wrong",
            message_id="<bob2@partner.example>",
        )
    )

    inbound = _inbound("<bob2@partner.example>")
    assert inbound.ticket not in (None, other)
    assert not other.replies.filter(author_label="participant:bob@partner.example").exists()


def test_a_participant_writing_to_a_closed_ticket_opens_a_new_one(
    helpdesk: World, deliver: Any, commit: Any
) -> None:
    ticket = _copied_ticket(deliver)
    with commit():
        ticket_service.ticket_close(ticket=ticket, actor=helpdesk.agent)

    deliver(
        message(
            sender="bob@partner.example",
            subject=f"Re: [{ticket.reference}] Lost parcel",
            message_id="<bob3@partner.example>",
        )
    )

    inbound = _inbound("<bob3@partner.example>")
    assert inbound.ticket not in (None, ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def _participant_of(ticket: Ticket) -> Any:
    return participant_service.participant_actor(TicketParticipant.objects.get(ticket=ticket))


def test_a_participant_never_sees_notes_or_other_tickets(
    helpdesk: World, deliver: Any, commit: Any
) -> None:
    ticket = _copied_ticket(deliver)
    with commit():
        note = ticket_service.ticket_note_add(
            ticket=ticket, author=helpdesk.agent, body="Courier blames the guest."
        )
        public = ticket_service.ticket_reply(ticket=ticket, author=helpdesk.agent, body="On it.")
    bob = _participant_of(ticket)

    assert list(visible_tickets(bob)) == [ticket]
    shown = set(visible_replies(bob, Reply.objects.all()))
    assert public in shown and note not in shown
    assert all(r.ticket_id == ticket.pk and not r.is_internal_note for r in shown)
    assert not can_see_reply(bob, note, ticket) and can_see_reply(bob, public, ticket)
    assert not can_see_reply(bob, helpdesk.reply, helpdesk.ticket)


@pytest.mark.parametrize(
    "action", [TicketAction.WORK, TicketAction.CLOSE, TicketAction.REOPEN, TicketAction.RATE]
)
def test_a_participant_may_only_reply(helpdesk: World, deliver: Any, action: Any) -> None:
    ticket = _copied_ticket(deliver)
    bob = _participant_of(ticket)
    require_ticket_action(bob, ticket, TicketAction.REPLY)

    with pytest.raises(NotAllowed):
        require_ticket_action(bob, ticket, action)
    with pytest.raises(NotAllowed):
        ticket_service.ticket_note_add(ticket=ticket, author=bob, body="sneaky")
    with pytest.raises(NotAllowed):
        require_ticket_action(bob, helpdesk.ticket, TicketAction.REPLY)


TICKET = """query($id: ID!) {
  node(id: $id) { ... on Ticket { reference participants { email name createdAt }
    replies(first: 50) { edges { node { body isInternalNote } } } } }
}"""
QUEUE = """{ tickets(first: 50) { edges { node { reference participants { email } } } } }"""


def test_a_participants_account_gets_no_portal_access(
    helpdesk: World, deliver: Any, gql: Any
) -> None:
    """Being copied is not being the requester: the account sees neither the ticket, nor its
    replies and notes, nor who else is copied."""
    ticket = helpdesk.ticket
    deliver(message(subject=f"Re: [{ticket.reference}] x", cc="otto@example.com"))
    otto = helpdesk.other_customer

    assert data_of(gql(TICKET, {"id": gid(ticket)}, user=otto))["node"] is None
    queue = data_of(gql(QUEUE, user=otto))["tickets"]["edges"]
    assert ticket.reference not in [e["node"]["reference"] for e in queue]


def test_staff_see_the_participants_and_customers_do_not(
    helpdesk: World, deliver: Any, gql: Any
) -> None:
    ticket = helpdesk.ticket
    deliver(message(subject=f"Re: [{ticket.reference}] x", cc="Otto <otto@example.com>"))

    staff = data_of(gql(TICKET, {"id": gid(ticket)}, user=helpdesk.agent))["node"]
    assert [(p["email"], p["name"]) for p in staff["participants"]] == [
        ("otto@example.com", "Otto")
    ]
    mine = data_of(gql(TICKET, {"id": gid(ticket)}, user=helpdesk.customer))["node"]
    assert mine["participants"] == []


def test_a_guest_does_not_see_who_is_copied_on_their_ticket(
    helpdesk: World, deliver: Any, gql: Any
) -> None:
    headers = helpdesk.guest_headers()
    ticket = helpdesk.guest_ticket
    deliver(
        message(
            sender="gus@example.org", subject=f"Re: [{ticket.reference}] x", cc="eve@example.org"
        )
    )
    assert TicketParticipant.objects.filter(ticket=ticket, email="eve@example.org").exists()

    node = data_of(gql(TICKET, {"id": gid(ticket)}, headers=headers))["node"]

    assert node["reference"] == ticket.reference and node["participants"] == []


def test_the_participants_cost_the_same_for_one_ticket_or_many(
    helpdesk: World, deliver: Any, gql: Any
) -> None:
    _copied_ticket(deliver)
    with CaptureQueriesContext(connection) as one:
        data_of(gql(QUEUE, user=helpdesk.admin))
    for n in range(4):
        deliver(
            message(
                sender=f"g{n}@example.net",
                subject=f"many {n}",
                cc=f"p{n}a@partner.example, p{n}b@partner.example",
            )
        )

    with CaptureQueriesContext(connection) as many:
        result = data_of(gql(QUEUE, user=helpdesk.admin))

    copied = [p for e in result["tickets"]["edges"] for p in e["node"]["participants"]]
    assert len(copied) == 9
    assert len(many.captured_queries) == len(one.captured_queries)


def test_participants_stop_at_the_cap(helpdesk: World, deliver: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(participant_service, "MAX_PARTICIPANTS", 2)
    ticket = _copied_ticket(deliver, cc="a@x.example, b@x.example, c@x.example")

    assert TicketParticipant.objects.filter(ticket=ticket).count() == 2


def test_the_assignee_hears_of_a_participants_reply_by_their_name(
    helpdesk: World, deliver: Any, commit: Any
) -> None:
    ticket = helpdesk.ticket
    with commit():
        ticket_service.ticket_assign(ticket=ticket, actor=helpdesk.agent, assignee=helpdesk.agent)
    deliver(message(subject=f"Re: [{ticket.reference}] x", cc="Bea Buyer <bea@partner.example>"))
    before = set(Delivery.objects.values_list("pk", flat=True))

    deliver(message(sender="bea@partner.example", subject=f"Re: [{ticket.reference}] x"))

    new = Delivery.objects.exclude(pk__in=before).filter(kind=DeliveryKind.EMAIL)
    assert [(d.recipient, d.payload["template"], d.payload["actor"]) for d in new] == [
        ("alan@example.com", "customer_reply", "Bea Buyer")
    ]


def test_the_admin_lists_participants_and_can_remove_but_not_add_them(
    helpdesk: World, deliver: Any
) -> None:
    ticket = _copied_ticket(deliver)
    participant = TicketParticipant.objects.get(ticket=ticket)
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    listing = client.get("/admin/escalated/ticketparticipant/")
    assert listing.status_code == 200 and b"bob@partner.example" in listing.content
    page = client.get(f"/admin/escalated/ticket/{ticket.pk}/change/")
    assert page.status_code == 200 and b"ticket participants" in page.content.lower()
    assert client.get("/admin/escalated/ticketparticipant/add/").status_code == 403

    url = f"/admin/escalated/ticketparticipant/{participant.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not TicketParticipant.objects.filter(ticket=ticket).exists()
