"""Every door's events reach the hub: guests, bulk actions, management commands, SLA sweeps
(a sweep's batch included), each written with its change."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import time_machine
from django.core.management import call_command
from django.utils import timezone

from escalated.models import Delivery, DeliveryKind, Status, Ticket, TicketParticipant
from escalated.services import guests
from escalated.services import tickets as service
from escalated.services.participants import participant_actor
from escalated.services.sla_check import sla_check
from tests.conftest import World
from tests.outbox.peers import HttpReceiver
from tests.sla.conftest import make_policy, ny, targets


def _pushed(ticket: Ticket) -> list[tuple[int, str]]:
    rows = Delivery.objects.filter(kind=DeliveryKind.HUB, ticket=ticket).order_by("sequence")
    return [(row.sequence or 0, row.event) for row in rows]


def test_guest_bulk_command_and_sweep_events_are_all_pushed_in_order(
    world: World, hub_receiver: HttpReceiver, settings: Any
) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "GUEST_TICKETS_ENABLED": True,
        "OUTBOX": {"DELIVERY": "worker"},
    }
    guest_ticket, _token = guests.guest_ticket_create(
        name="Gail Guest", email="gail@example.net", subject="Where is my order?"
    )
    service.tickets_bulk_update(
        tickets=[guest_ticket],
        actor=world.admin,
        changes=service.BulkChanges(priority="urgent", status=Status.RESOLVED),
    )
    Ticket.objects.filter(pk=guest_ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=30)
    )
    call_command("close_resolved", stdout=StringIO())

    assert _pushed(guest_ticket) == [
        (1, "ticket.created"),
        (2, "ticket.priority_changed"),
        (3, "ticket.status_changed"),
        (4, "ticket.status_changed"),
    ]
    first = Delivery.objects.get(kind=DeliveryKind.HUB, ticket=guest_ticket, sequence=1)
    requester = first.payload["payload"]["ticket"]["requester"]
    assert requester == {
        "id": "guest:gail@example.net",
        "name": "Gail Guest",
        "email": "gail@example.net",
    }
    assert "token" not in str(first.payload) and _token not in str(first.payload)


def test_an_sla_sweeps_batch_is_pushed(
    world: World, hub_receiver: HttpReceiver, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    with time_machine.travel(ny(2025, 3, 3, 9), tick=False) as frozen:
        make_policy(targets=targets(first=1))
        opened = [
            service.ticket_create(
                actor=world.agent,
                requester=world.customer,
                subject=f"T{n}",
                department=world.billing,
            )
            for n in range(3)
        ]
        frozen.move_to(ny(2025, 3, 3, 10, 30))
        assert sla_check().breaches == 3

    for ticket in opened:
        assert _pushed(ticket)[-1] == (2, "sla.breached")


def test_a_participants_reply_is_pushed_as_a_participants(
    world: World, hub_receiver: HttpReceiver, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    copied = TicketParticipant.objects.create(
        ticket=world.ticket, email="otto@example.com", name="Otto", user=world.other_customer
    )
    bob = participant_actor(copied, world.other_customer)

    service.ticket_reply(ticket=world.ticket, author=bob, body="Me too")

    row = Delivery.objects.filter(kind=DeliveryKind.HUB, event="reply.created").latest("pk")
    # Never as the account: on the hub, that account is no one on this ticket.
    assert row.payload["payload"]["actor"] == {
        "id": "participant:otto@example.com",
        "name": "Otto",
        "staff": False,
    }
