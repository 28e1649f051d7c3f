"""Webhook endpoints and the delivery log: admins only."""

from __future__ import annotations

from escalated.access import SystemActor
from escalated.models import Delivery, DeliveryStatus, Webhook
from escalated.services import webhooks
from tests.conftest import World, gid
from tests.matrix import ADMIN_ONLY, Op, payload_mutation


def _endpoint(w: World) -> None:
    webhooks.webhook_create(actor=SystemActor("test"), url="https://hooks.example.com/in")


def _failed_delivery(w: World) -> None:
    Delivery.objects.filter(pk=Delivery.objects.order_by("pk").first().pk).update(
        status=DeliveryStatus.FAILED
    )


def _webhook_gid(w: World) -> str:
    return gid(Webhook.objects.get())


MUTATIONS = [
    Op(
        "webhookCreate",
        payload_mutation("webhookCreate", "WebhookCreateInput", "webhook { id } secret"),
        lambda w: {"input": {"url": "https://hooks.example.com/in", "events": ["TICKET_CREATED"]}},
        ADMIN_ONLY,
    ),
    Op(
        "webhookUpdate",
        payload_mutation("webhookUpdate", "WebhookUpdateInput", "webhook { id }"),
        lambda w: {"input": {"id": _webhook_gid(w), "active": False}},
        ADMIN_ONLY,
        setup=_endpoint,
    ),
    Op(
        "webhookDelete",
        payload_mutation("webhookDelete", "WebhookDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _webhook_gid(w)}},
        ADMIN_ONLY,
        setup=_endpoint,
    ),
    Op(
        "deliveryRetry",
        payload_mutation("deliveryRetry", "DeliveryRetryInput", "delivery { id status }"),
        lambda w: {"input": {"id": gid(Delivery.objects.get(status=DeliveryStatus.FAILED))}},
        ADMIN_ONLY,
        setup=_failed_delivery,
    ),
]

QUERIES = [
    Op(
        "webhooks",
        "{ webhooks(first: 10) { totalCount edges { node { url secretHint } } } }",
        lambda w: {},
        ADMIN_ONLY,
        setup=_endpoint,
        count=lambda d: d["webhooks"]["totalCount"],
        expected_counts={"admin": 1},
    ),
    Op(
        "deliveries",
        "{ deliveries(first: 10) { totalCount edges { node { recipient status } } } }",
        lambda w: {},
        ADMIN_ONLY,
        # Building the world emailed the billing agent (new ticket) and the customer (a reply).
        count=lambda d: d["deliveries"]["totalCount"],
        expected_counts={"admin": 2},
    ),
]
