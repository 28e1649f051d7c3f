"""The site's /support/cloud/webhook/: the hub's changes, signed, applied once through the
services, never echoed back; concurrent changes converge (the later one wins)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from escalated.hosted.signing import sign
from escalated.models import Delivery, DeliveryKind, Department, ReceivedEvent, Reply, Ticket
from escalated.services import tickets as service
from tests.conftest import make_user
from tests.hosted.conftest import SECRET
from tests.hosted.test_hub import created, event, post
from tests.outbox.peers import HttpReceiver

URL = "/support/cloud/webhook/"
HANA = {"id": "3", "name": "Hana Hub", "staff": True}


def call(body: dict[str, Any], secret: str = SECRET, raw: bytes | None = None) -> Any:
    data = raw if raw is not None else json.dumps(body).encode()
    return Client().post(
        URL,
        data,
        content_type="application/json",
        headers={"X-Escalated-Signature": sign(secret, data)},
    )


def _site_ticket(commit: Any) -> tuple[Ticket, Any]:
    billing = Department.objects.create(name="Billing", slug="billing")
    customer = make_user("cora", first="Cora", last="Customer")
    with commit():
        ticket = service.ticket_create(actor=customer, subject="Broken", department=billing)
    return ticket, customer


def _hub_reply(ticket: Ticket, body: str = "On our way", **extra: Any) -> dict[str, Any]:
    return event(
        "reply.created",
        ticket.reference,
        1,
        reply={"body": body, "internal": False},
        actor=HANA,
        status="waiting_on_customer",
        changed=["status"],
        **extra,
    )


def test_a_hub_reply_is_applied_as_the_hub_emails_the_customer_and_is_not_echoed(
    hub_receiver: HttpReceiver, commit: Any, db: Any
) -> None:
    ticket, customer = _site_ticket(commit)
    pushed = Delivery.objects.filter(kind=DeliveryKind.HUB).count()

    with commit():
        answer = call(_hub_reply(ticket))

    assert (answer.status_code, answer.json()) == (200, {"status": "applied"})
    [reply] = Reply.objects.filter(ticket=ticket)
    assert (reply.body, reply.author_label, reply.from_agent) == (
        "On our way",
        "hub:Hana Hub",
        True,
    )
    assert Ticket.objects.get(pk=ticket.pk).status == "waiting_on_customer"
    emails = Delivery.objects.filter(kind=DeliveryKind.EMAIL, event="reply.created")
    assert [e.recipient for e in emails] == [customer.email]
    assert Delivery.objects.filter(kind=DeliveryKind.HUB).count() == pushed, "echoed to the hub"


def test_a_replayed_call_changes_nothing(hub_receiver: HttpReceiver, commit: Any, db: Any) -> None:
    ticket, _customer = _site_ticket(commit)
    body = _hub_reply(ticket)
    call(body)
    before = (Reply.objects.count(), Delivery.objects.count(), ReceivedEvent.objects.count())

    again = call(body)

    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    after = (Reply.objects.count(), Delivery.objects.count(), ReceivedEvent.objects.count())
    assert after == before


def test_a_bad_or_missing_signature_changes_nothing(
    hub_receiver: HttpReceiver, commit: Any, db: Any
) -> None:
    ticket, _customer = _site_ticket(commit)
    body = json.dumps(_hub_reply(ticket)).encode()
    forged = call({}, secret="not-the-secret-at-all", raw=body)
    tampered = Client().post(
        URL,
        body.replace(b"On our way", b"Send money"),
        content_type="application/json",
        headers={"X-Escalated-Signature": sign(SECRET, body)},
    )
    bare = Client().post(URL, body, content_type="application/json")

    assert [forged.status_code, tampered.status_code, bare.status_code] == [401, 401, 401]
    assert not Reply.objects.exists() and not ReceivedEvent.objects.exists()


def test_not_in_synced_mode_the_webhook_is_not_there(db: Any) -> None:
    assert call({}, raw=b"{}").status_code == 404


def test_the_later_of_two_concurrent_changes_wins_on_the_site(
    hub_receiver: HttpReceiver, commit: Any, db: Any
) -> None:
    ticket, _customer = _site_ticket(commit)
    agent = make_user("alan", is_superuser=True, is_staff=True)
    local_at = timezone.now()
    with commit():
        service.ticket_priority_change(ticket=ticket, actor=agent, priority="urgent")

    older = event(
        "ticket.priority_changed", ticket.reference, 1, priority="low", changed=["priority"]
    )
    older["timestamp"] = (local_at - timedelta(seconds=5)).isoformat()
    newer = event(
        "ticket.priority_changed", ticket.reference, 2, priority="high", changed=["priority"]
    )
    newer["timestamp"] = (timezone.now() + timedelta(seconds=5)).isoformat()

    assert call(older).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).priority == "urgent", "an older hub change won"
    assert call(newer).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"


def test_the_later_of_two_concurrent_changes_wins_on_the_hub_and_replies_are_kept(
    hub: dict[str, Any],
) -> None:
    post(created(), hub["shop_key"])
    ticket = Ticket.objects.get()
    service.ticket_priority_change(ticket=ticket, actor=hub["agent"], priority="low")
    service.ticket_status_change(ticket=ticket, actor=hub["agent"], status="closed")
    site_change = event(
        "ticket.priority_changed", "ESC-00001", 2, priority="urgent", changed=["priority"]
    )
    site_change["timestamp"] = (timezone.now() - timedelta(seconds=5)).isoformat()
    late_reply = event(
        "reply.created",
        "ESC-00001",
        3,
        status="waiting_on_agent",
        changed=["status"],
        reply={"body": "Are you there?", "internal": False},
    )
    late_reply["timestamp"] = (timezone.now() - timedelta(seconds=4)).isoformat()

    assert post(site_change, hub["shop_key"]).status_code == 200
    assert post(late_reply, hub["shop_key"]).status_code == 200

    ticket = Ticket.objects.get()
    assert ticket.priority == "low", "the site's older change overrode the hub's newer one"
    assert ticket.status == "closed", "the hub's later close was undone"
    assert list(Reply.objects.values_list("body", flat=True)) == ["Are you there?"]
