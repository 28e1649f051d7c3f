"""The admin API over the outbox: webhook endpoints and the delivery log."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.access import SystemActor
from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Webhook
from escalated.services import tickets as service
from escalated.services import webhooks
from tests.conftest import World, data_of, gid

CREATE = """mutation($input: WebhookCreateInput!) { webhookCreate(input: $input) {
    webhook { id url events active description secretHint } secret errors { field code message } } }"""
UPDATE = """mutation($input: WebhookUpdateInput!) { webhookUpdate(input: $input) {
    webhook { url events active } secret errors { field code } } }"""


def test_creating_an_endpoint_shows_its_secret_once(helpdesk: World, gql: Any) -> None:
    result = data_of(
        gql(
            CREATE,
            {"input": {"url": "https://hooks.example.com/in", "events": ["REPLY_CREATED"]}},
            user=helpdesk.admin,
        )
    )["webhookCreate"]

    hook = Webhook.objects.get()
    assert result["errors"] == []
    assert result["secret"] == hook.secret and len(hook.secret) >= 32
    assert result["webhook"]["events"] == ["REPLY_CREATED"]
    assert result["webhook"]["secretHint"] == f"…{hook.secret[-4:]}"
    listed = data_of(gql("{ webhooks(first: 5) { edges { node { url } } } }", user=helpdesk.admin))
    assert listed["webhooks"]["edges"] == [{"node": {"url": "https://hooks.example.com/in"}}]


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({}, "url", "REQUIRED"),
        ({"url": "http://hooks.example.com/in"}, "url", "INVALID"),
        ({"url": "https://10.1.2.3/in"}, "url", "INVALID"),
        ({"url": "https://hooks.example.com/in", "secret": "short"}, "secret", "INVALID"),
        ({"url": "https://hooks.example.com/" + "x" * 500}, "url", "TOO_LONG"),
    ],
)
def test_bad_endpoints_are_refused_with_typed_errors(
    helpdesk: World, gql: Any, given: dict[str, Any], field: str, code: str
) -> None:
    result = data_of(gql(CREATE, {"input": given}, user=helpdesk.admin))["webhookCreate"]

    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert result["webhook"] is None
    assert not Webhook.objects.exists()


def test_an_unknown_event_is_refused_by_the_schema(helpdesk: World, gql: Any) -> None:
    result = gql(
        CREATE,
        {"input": {"url": "https://hooks.example.com/in", "events": ["TICKET_EXPLODED"]}},
        user=helpdesk.admin,
    )

    assert "TICKET_EXPLODED" in result["errors"][0]["message"]


def test_updating_an_endpoint(helpdesk: World, gql: Any) -> None:
    hook = webhooks.webhook_create(actor=SystemActor("t"), url="https://a.example.com/in")
    old_secret = hook.secret

    quiet = data_of(
        gql(
            UPDATE, {"input": {"id": gid(hook), "active": False, "events": []}}, user=helpdesk.admin
        )
    )["webhookUpdate"]
    rotated = data_of(
        gql(
            UPDATE,
            {"input": {"id": gid(hook), "url": "https://b.example.com/in", "secret": "n" * 20}},
            user=helpdesk.admin,
        )
    )["webhookUpdate"]

    assert quiet == {
        "webhook": {"url": "https://a.example.com/in", "events": [], "active": False},
        "secret": None,
        "errors": [],
    }
    assert rotated["secret"] == "n" * 20
    hook.refresh_from_db()
    assert (hook.url, hook.secret, hook.is_active) == ("https://b.example.com/in", "n" * 20, False)
    assert old_secret != hook.secret


def test_deleting_an_endpoint_drops_its_queue(helpdesk: World, gql: Any) -> None:
    hook = webhooks.webhook_create(actor=SystemActor("t"), url="https://a.example.com/in")
    service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")
    assert Delivery.objects.filter(webhook=hook).count() == 1

    result = gql(
        "mutation($input: WebhookDeleteInput!) { webhookDelete(input: $input) { deletedId } }",
        {"input": {"id": gid(hook)}},
        user=helpdesk.admin,
    )

    assert data_of(result)["webhookDelete"]["deletedId"] == gid(hook)
    assert not Delivery.objects.filter(kind=DeliveryKind.WEBHOOK).exists()


def test_the_delivery_log_filters(helpdesk: World, gql: Any) -> None:
    hook = webhooks.webhook_create(actor=SystemActor("t"), url="https://a.example.com/in")
    other = service.ticket_create(actor=helpdesk.customer, subject="Other", department=None)
    service.ticket_reply(ticket=helpdesk.ticket, author=helpdesk.agent, body="Hi")
    Delivery.objects.filter(kind=DeliveryKind.EMAIL).update(status=DeliveryStatus.FAILED)

    def count(filter: str) -> int:
        query = f"{{ deliveries(first: 50, filter: {filter}) {{ totalCount }} }}"
        return data_of(gql(query, user=helpdesk.admin))["deliveries"]["totalCount"]

    assert count("{}") == 3  # two webhook calls and the requester's email
    assert count("{kind: [EMAIL]}") == 1
    assert count("{status: [FAILED], kind: [WEBHOOK]}") == 0
    assert count('{event: "reply.created"}') == 2
    assert count(f'{{ticket: "{gid(other)}"}}') == 1
    assert count(f'{{webhook: "{gid(hook)}"}}') == 2
    assert count('{recipient: "cora@"}') == 1
    bad = gql(
        f'{{ deliveries(first: 5, filter: {{ticket: "{gid(hook)}"}}) {{ totalCount }} }}',
        user=helpdesk.admin,
    )
    assert bad["errors"][0]["message"] == "filter.ticket must be a Ticket id."


DELIVERIES = """{ deliveries(first: 100) { totalCount edges { node {
    id kind event status idempotencyKey recipient attempts nextAttemptAt lastError lastStatusCode
    createdAt deliveredAt ticket { id reference } webhook { id url events active }
} } } }"""


@pytest.mark.parametrize("size", [4, 40])
def test_the_delivery_log_costs_the_same_at_any_size(helpdesk: World, gql: Any, size: int) -> None:
    hooks = [
        webhooks.webhook_create(actor=SystemActor("t"), url=f"https://h{n}.example.com/in")
        for n in range(2)
    ]
    for _ in range(size // 2):
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Again")
    assert Delivery.objects.filter(webhook__in=hooks).count() == size * 2

    gql.client.force_login(helpdesk.admin)
    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(gql.url, {"query": DELIVERIES}, content_type="application/json")
    data = data_of(response.json())

    assert data["deliveries"]["totalCount"] == size * 2
    # session, user, the admin's role permissions (1), the page with
    # its total (1), tickets (1) and endpoints (1).
    assert len(queries) == 6


def test_the_django_admin_lists_deliveries_and_sends_failed_ones_again(
    helpdesk: World, client: Any
) -> None:
    helpdesk.admin.is_superuser = True
    helpdesk.admin.save()
    service.ticket_resolve(ticket=helpdesk.ticket, actor=helpdesk.agent)
    row = Delivery.objects.get()
    Delivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED)
    client.force_login(helpdesk.admin)

    listing = client.get("/admin/escalated/delivery/")
    retried = client.post(
        "/admin/escalated/delivery/",
        {"action": "retry", "_selected_action": [row.pk]},
        follow=True,
    )

    assert listing.status_code == 200 and b"cora@example.com" in listing.content
    assert b"1 delivery(ies) queued to send again." in retried.content
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
