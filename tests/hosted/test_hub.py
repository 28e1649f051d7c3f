"""The hub's events endpoint: a site's events applied once each, in ticket order, to that
site's tickets only; refusals change nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.test import Client
from django.utils import timezone

from escalated.access import SystemActor
from escalated.models import Delivery, DeliveryKind, ReceivedEvent, Reply, Ticket
from escalated.services import sites
from escalated.services import tickets as service

URL = "/support/hub/api/v1/events"


def event(
    name: str,
    reference: str,
    sequence: int,
    *,
    status: str = "open",
    priority: str = "medium",
    changed: list[str] | None = None,
    reply: dict[str, Any] | None = None,
    actor: dict[str, Any] | None = None,
    tags_added: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ticket_reference": reference,
        "sequence": sequence,
        "ticket": {
            "subject": "Printer on fire",
            "description": "Smoke",
            "status": status,
            "priority": priority,
            "ticket_type": "problem",
            "channel": "web",
            "tags": [],
            "requester": {"id": "7", "name": "Cora Customer", "email": "cora@shop.example"},
        },
        "changed": changed if changed is not None else [],
        "tags_added": tags_added or [],
        "tags_removed": [],
        "actor": actor or {"id": "7", "name": "Cora Customer", "staff": False},
    }
    if reply is not None:
        payload["reply"] = reply
    return {
        "event": name,
        "event_id": uuid.uuid4().hex,
        "timestamp": timezone.now().isoformat(),
        "payload": payload,
    }


def post(body: dict[str, Any], key: str) -> Any:
    return Client().post(
        URL,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def created(reference: str = "ESC-00001") -> dict[str, Any]:
    return event(
        "ticket.created", reference, 1, changed=["subject", "status", "priority"], priority="high"
    )


def test_a_sites_ticket_arrives_labelled_with_the_site_and_a_repeat_changes_nothing(
    hub: dict[str, Any],
) -> None:
    body = created()

    first = post(body, hub["shop_key"])
    again = post(body, hub["shop_key"])

    assert (first.status_code, first.json()) == (200, {"status": "applied"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    ticket = Ticket.objects.get()
    assert (ticket.site, ticket.site_reference) == (hub["shop"], "ESC-00001")
    assert (ticket.subject, ticket.priority, ticket.department) == (
        "Printer on fire",
        "high",
        hub["inbox"],
    )
    assert ticket.requester is not None and ticket.requester.email == ""
    assert ReceivedEvent.objects.count() == 1


def test_events_apply_in_ticket_order_and_an_early_one_is_refused_retryably(
    hub: dict[str, Any],
) -> None:
    post(created(), hub["shop_key"])
    reply = event(
        "reply.created", "ESC-00001", 2, reply={"body": "Still burning", "internal": False}
    )
    status = event("ticket.status_changed", "ESC-00001", 3, status="escalated", changed=["status"])

    early = post(status, hub["shop_key"])

    assert early.status_code == 409 and early.json() == {"status": "out_of_order", "expected": 2}
    assert Ticket.objects.get().status == "open"
    assert post(reply, hub["shop_key"]).status_code == 200
    assert post(status, hub["shop_key"]).status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.status == "escalated"
    [message] = Reply.objects.filter(ticket=ticket)
    assert (message.body, message.from_agent, message.author) == (
        "Still burning",
        False,
        ticket.requester,
    )


def test_a_sites_participants_reply_is_a_participants_reply_here(hub: dict[str, Any]) -> None:
    post(created(), hub["shop_key"])
    actor = {"id": "participant:bob@partner.example", "name": "Bob", "staff": False}
    body = event("reply.created", "ESC-00001", 2, reply={"body": "Me too", "internal": False})
    body["payload"]["actor"] = actor

    answer = post(body, hub["shop_key"])

    assert answer.status_code == 200, answer.content
    [message] = Reply.objects.filter(ticket=Ticket.objects.get())
    assert (message.body, message.author, message.author_label, message.from_agent) == (
        "Me too",
        None,
        "participant:bob@partner.example",
        False,
    )


def test_a_wrong_or_revoked_key_changes_nothing(hub: dict[str, Any]) -> None:
    wrong = post(created(), hub["shop_key"][:-2] + "xx")
    bare = Client().post(URL, json.dumps(created()), content_type="application/json")
    sites.site_revoke(actor=SystemActor("test"), site=hub["shop"])
    revoked = post(created(), hub["shop_key"])

    assert [wrong.status_code, bare.status_code, revoked.status_code] == [401, 401, 401]
    assert not Ticket.objects.exists() and not ReceivedEvent.objects.exists()


def test_a_site_cannot_write_another_sites_ticket(hub: dict[str, Any]) -> None:
    post(created(), hub["shop_key"])
    intrusion = event("ticket.status_changed", "ESC-00001", 2, status="closed", changed=["status"])

    answer = post(intrusion, hub["blog_key"])

    assert answer.status_code == 409
    [ticket] = Ticket.objects.all()
    assert (ticket.site, ticket.status) == (hub["shop"], "open")
    assert ReceivedEvent.objects.count() == 1


def test_a_body_that_is_not_an_event_is_refused(hub: dict[str, Any]) -> None:
    answer = Client().post(
        URL,
        b"{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {hub['shop_key']}"},
    )

    assert answer.status_code == 400 and not Ticket.objects.exists()


def test_a_hub_agents_reply_goes_back_to_the_site_but_the_sites_own_does_not(
    hub: dict[str, Any], settings: Any
) -> None:
    shop = hub["shop"]
    shop.webhook_url = "http://127.0.0.1:9/support/cloud/webhook/"
    shop.save()
    post(created(), hub["shop_key"])
    post(
        event("reply.created", "ESC-00001", 2, reply={"body": "Help", "internal": False}),
        hub["shop_key"],
    )
    ticket = Ticket.objects.get()
    assert not Delivery.objects.filter(kind=DeliveryKind.SITE).exists()

    service.ticket_reply(ticket=ticket, author=hub["agent"], body="On our way")

    [row] = Delivery.objects.filter(kind=DeliveryKind.SITE)
    assert (row.event, row.recipient, row.sequence) == ("reply.created", shop.webhook_url, 1)
    assert row.payload["payload"]["ticket_reference"] == "ESC-00001"
    assert row.payload["payload"]["reply"]["body"] == "On our way"


def test_not_a_hub_answers_not_found(hub: dict[str, Any], settings: Any) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "HUB": {"ENABLED": False}}

    assert post(created(), hub["shop_key"]).status_code == 404


def test_the_call_back_to_the_site_is_signed_with_the_sites_secret(
    hub: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from escalated.hosted.signing import verify
    from tests.outbox.peers import HttpReceiver

    site_webhook = HttpReceiver()
    site_webhook.start()
    try:
        shop = hub["shop"]
        shop.webhook_url = site_webhook.url
        shop.save()
        post(created(), hub["shop_key"])
        ticket = Ticket.objects.get()

        with django_capture_on_commit_callbacks(execute=True):
            service.ticket_priority_change(ticket=ticket, actor=hub["agent"], priority="urgent")

        [received] = site_webhook.wait_for(1)
    finally:
        site_webhook.stop()
    verify(shop.signing_secret, received.body, received.headers["X-Escalated-Signature"])
    body = json.loads(received.body)
    assert set(body) == {"event", "payload", "event_id", "timestamp"}
    assert (body["event"], body["payload"]["ticket"]["priority"]) == (
        "ticket.priority_changed",
        "urgent",
    )
    assert Delivery.objects.get(kind=DeliveryKind.SITE).status == "delivered"


# What applying one event may cost, its after-commit work included: the hub applies a site's
# backlog one event at a time, so these bound how fast a backlog drains (bench/hub_apply.py
# counts the same on PostgreSQL). Before the savings in escalated.hub.receive and
# escalated.hosted.wire: an agent's reply 27, a customer's 30, a priority change 21 (SQLite).
STATEMENTS_PER_EVENT = {"agent reply": 20, "customer reply": 23, "priority change": 18}


def test_an_applied_event_costs_a_bounded_number_of_statements(
    hub: dict[str, Any], commit: Any, django_assert_max_num_queries: Any
) -> None:
    with commit():
        post(created(), hub["shop_key"])
    agent = {"id": "3", "name": "Alan Agent", "staff": True}
    answer = {"body": "On it", "internal": False}
    stream = {
        "agent reply": event(
            "reply.created",
            "ESC-00001",
            2,
            status="waiting_on_customer",
            changed=["status"],
            reply=answer,
            actor=agent,
        ),
        "customer reply": event(
            "reply.created",
            "ESC-00001",
            3,
            status="waiting_on_agent",
            changed=["status"],
            reply={"body": "Thanks", "internal": False},
        ),
        "priority change": event(
            "ticket.priority_changed",
            "ESC-00001",
            4,
            status="waiting_on_agent",
            priority="low",
            changed=["priority"],
            actor=agent,
        ),
    }

    for name, body in stream.items():
        with django_assert_max_num_queries(STATEMENTS_PER_EVENT[name]), commit():
            assert post(body, hub["shop_key"]).json() == {"status": "applied"}, name

    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.priority) == ("waiting_on_agent", "low")
    assert list(Reply.objects.values_list("body", flat=True).order_by("pk")) == ["On it", "Thanks"]
    assert ReceivedEvent.objects.count() == 4
