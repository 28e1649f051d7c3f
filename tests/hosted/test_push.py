"""Synced mode, site side: every event goes to the hub through the outbox, in ticket order."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Department, Tag
from escalated.services import outbox
from escalated.services import tickets as service
from tests.conftest import make_user
from tests.outbox.peers import HttpReceiver


def _bodies(receiver: HttpReceiver) -> list[dict[str, Any]]:
    return [json.loads(call.body) for call in receiver.calls]


def _people() -> tuple[Any, Any, Department]:
    billing = Department.objects.create(name="Billing", slug="billing")
    agent = make_user("alan", first="Alan", last="Agent")
    billing.agents.add(agent)
    return make_user("cora", first="Cora", last="Customer"), agent, billing


def test_every_event_is_pushed_with_the_envelope_key_and_ticket_order(
    hub_receiver: HttpReceiver, commit: Any, db: Any
) -> None:
    customer, agent, billing = _people()
    tag = Tag.objects.create(name="VIP", slug="vip")

    with commit():
        ticket = service.ticket_create(actor=customer, subject="Broken", department=billing)
    with commit():
        service.ticket_reply(ticket=ticket, author=agent, body="Looking")
    with commit():
        service.ticket_priority_change(ticket=ticket, actor=agent, priority="high")
    with commit():
        service.ticket_tags_add(ticket=ticket, actor=agent, tags=[tag])
    with commit():
        service.ticket_note_add(ticket=ticket, author=agent, body="Internal")

    bodies = _bodies(hub_receiver)
    assert [b["event"] for b in bodies] == [
        "ticket.created",
        "reply.created",
        "ticket.priority_changed",
        "ticket.tags_added",
        "note.created",
    ]
    assert [b["payload"]["sequence"] for b in bodies] == [1, 2, 3, 4, 5]
    assert all(set(b) == {"event", "payload", "event_id", "timestamp"} for b in bodies)
    call = hub_receiver.calls[0]
    assert call.path == "/hook/events"
    assert call.headers["Authorization"] == "Bearer esk_site_key"
    rows = Delivery.objects.filter(kind=DeliveryKind.HUB).order_by("sequence")
    assert [r.idempotency_key for r in rows] == [b["event_id"] for b in bodies]
    assert bodies[1]["payload"]["reply"] == {"body": "Looking", "internal": False}
    assert bodies[1]["payload"]["ticket"]["status"] == "waiting_on_customer"
    assert bodies[3]["payload"]["tags_added"] == [{"slug": "vip", "name": "VIP"}]
    assert bodies[0]["payload"]["ticket"]["requester"]["email"] == "cora@example.com"


def test_a_ticket_waits_for_its_earlier_event_and_a_retry_sends_the_same_event_id(
    hub_receiver: HttpReceiver, commit: Any, db: Any
) -> None:
    customer, agent, billing = _people()
    hub_receiver.plan = [503]

    with commit():
        ticket = service.ticket_create(actor=customer, subject="Down", department=billing)
    with commit():
        service.ticket_reply(ticket=ticket, author=agent, body="First")
    with commit():
        other = service.ticket_create(actor=customer, subject="Other", department=billing)

    first, second = Delivery.objects.filter(ticket=ticket, kind=DeliveryKind.HUB).order_by(
        "sequence"
    )
    assert first.status == DeliveryStatus.PENDING and first.last_status_code == 503
    # The reply is due, but its ticket's first event is not delivered: it was never sent.
    assert (second.status, second.attempts) == (DeliveryStatus.PENDING, 0)
    assert [b["payload"]["ticket_reference"] for b in _bodies(hub_receiver)] == [
        ticket.reference,
        other.reference,
    ]

    outbox.drain(now=timezone.now() + timedelta(hours=1))

    events = [(b["payload"]["ticket_reference"], b["event"]) for b in _bodies(hub_receiver)]
    assert events[2:] == [(ticket.reference, "ticket.created"), (ticket.reference, "reply.created")]
    ids = [b["event_id"] for b in _bodies(hub_receiver) if b["payload"]["sequence"] == 1]
    assert ids[0] == ids[2] == first.idempotency_key


def test_a_permanent_refusal_fails_is_listed_and_can_be_retried(
    hub_receiver: HttpReceiver, commit: Any, gql: Any, db: Any
) -> None:
    customer, agent, billing = _people()
    admin = make_user("root", is_superuser=True, is_staff=True)
    hub_receiver.plan = [422]

    with commit():
        ticket = service.ticket_create(actor=customer, subject="Refused", department=billing)
    with commit():
        service.ticket_reply(ticket=ticket, author=agent, body="Held back")

    failed = Delivery.objects.get(kind=DeliveryKind.HUB, sequence=1)
    assert (failed.status, failed.last_status_code) == (DeliveryStatus.FAILED, 422)
    listed = gql(
        "query { deliveries(filter: {status: [FAILED], kind: [HUB]}) { edges { node { id event } } } }",
        user=admin,
    )
    [edge] = listed["data"]["deliveries"]["edges"]
    assert edge["node"]["event"] == "ticket.created"
    assert len(hub_receiver.calls) == 1, "the ticket's later event waited behind the failed one"

    with commit():
        gql(
            "mutation($id: ID!) { deliveryRetry(input: {id: $id}) { errors { message } } }",
            {"id": edge["node"]["id"]},
            user=admin,
        )
    outbox.drain()

    assert [json.loads(c.body)["event"] for c in hub_receiver.calls] == [
        "ticket.created",
        "ticket.created",
        "reply.created",
    ]
    assert set(Delivery.objects.filter(kind=DeliveryKind.HUB).values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }


def test_self_hosted_mode_pushes_nothing(commit: Any, db: Any) -> None:
    customer, _agent, billing = _people()

    with commit():
        service.ticket_create(actor=customer, subject="Local", department=billing)

    assert not Delivery.objects.filter(kind=DeliveryKind.HUB).exists()


def test_a_batch_records_its_hub_successes_in_one_update_and_stores_no_copy_of_the_body(
    hub_receiver: HttpReceiver, commit: Any, settings: Any, db: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    customer, _agent, billing = _people()
    for n in range(3):
        with commit():
            service.ticket_create(actor=customer, subject=f"Ticket {n}", department=billing)
    rows = Delivery.objects.filter(kind=DeliveryKind.HUB)
    assert rows.count() == 3 and not hub_receiver.calls

    keys = list(rows.values_list("idempotency_key", flat=True))
    with CaptureQueriesContext(connection) as queries:
        report = outbox.deliver(keys=keys)

    assert report.delivered == 3 and len(hub_receiver.calls) == 3
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert set(rows.values_list("last_status_code", flat=True)) == {200}
    assert list(rows.values_list("content", flat=True)) == [None, None, None]
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2, updates  # the claim, and the three successes at once
    assert {json.loads(call.body)["event_id"] for call in hub_receiver.calls} == set(keys)


def test_a_success_whose_claim_lapsed_meanwhile_is_left_to_the_new_owner(
    hub_receiver: HttpReceiver, commit: Any, settings: Any, db: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    customer, _agent, billing = _people()
    with commit():
        service.ticket_create(actor=customer, subject="Lapsed", department=billing)
    hub_row = Delivery.objects.get(kind=DeliveryKind.HUB)
    (row,) = outbox.claim(keys=[hub_row.idempotency_key])
    sent: dict[int | None, list[Delivery]] = {}
    outbox.attempt(row, record=sent)
    assert sent == {200: [row]} and len(hub_receiver.calls) == 1
    Delivery.objects.filter(pk=row.pk).update(claim_token="someone-else")  # the lease ran out

    outbox._record_sent(sent, None)

    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENDING and row.claim_token == "someone-else"
