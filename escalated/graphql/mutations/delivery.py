"""Mutations for webhook endpoints and the delivery log (admins)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Info, relay

from escalated.graphql.context import viewer
from escalated.graphql.delivery import DeliveryNode, WebhookEvent, WebhookNode
from escalated.graphql.errors import UserError, admin_mutation_payload
from escalated.graphql.ids import load
from escalated.graphql.mutations.organisation import _given
from escalated.services import outbox, webhooks
from escalated.services.common import UNSET

Errors = strawberry.field(default_factory=list)


@strawberry.input
class WebhookCreateInput:
    url: str | None = strawberry.field(
        default=None, description="Required; https outside development."
    )
    events: list[WebhookEvent] = strawberry.field(
        default_factory=list, description="Events to receive; empty: every event."
    )
    secret: str | None = strawberry.field(
        default=None, description="Signing secret (16+ characters); generated when omitted."
    )
    active: bool = True
    description: str = ""


@strawberry.input
class WebhookUpdateInput:
    id: relay.GlobalID
    url: str | None = strawberry.UNSET
    events: list[WebhookEvent] | None = strawberry.UNSET
    secret: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new signing secret (16+ characters)."
    )
    active: bool | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input
class WebhookDeleteInput:
    id: relay.GlobalID


@strawberry.type
class WebhookCreatePayload:
    webhook: WebhookNode | None = None
    secret: str | None = strawberry.field(
        default=None, description="The signing secret. Shown only here: store it now."
    )
    errors: list[UserError] = Errors


@strawberry.type
class WebhookUpdatePayload:
    webhook: WebhookNode | None = None
    secret: str | None = strawberry.field(
        default=None, description="The new signing secret, when this update set one."
    )
    errors: list[UserError] = Errors


@strawberry.type
class WebhookDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


@strawberry.input
class DeliveryRetryInput:
    id: relay.GlobalID


@strawberry.type
class DeliveryRetryPayload:
    delivery: DeliveryNode | None = None
    errors: list[UserError] = Errors


def _event_names(events: list[Any]) -> list[str]:
    return [event.value for event in events]


@strawberry.type
class DeliveryMutations:
    @strawberry.mutation(description="Register a webhook endpoint (admins).")
    @admin_mutation_payload
    def webhook_create(self, info: Info, input: WebhookCreateInput) -> WebhookCreatePayload:
        webhook = webhooks.webhook_create(
            actor=viewer(info),
            url=input.url,
            events=_event_names(input.events),
            secret=input.secret,
            is_active=input.active,
            description=input.description,
        )
        return WebhookCreatePayload(webhook=webhook, secret=webhook.secret)

    @strawberry.mutation(description="Change a webhook endpoint (admins).")
    @admin_mutation_payload
    def webhook_update(self, info: Info, input: WebhookUpdateInput) -> WebhookUpdatePayload:
        events, secret = _given(input.events), _given(input.secret)
        webhook = webhooks.webhook_update(
            actor=viewer(info),
            webhook=load(info, input.id, WebhookNode, field="id"),
            url=_given(input.url),
            events=events if events is UNSET else _event_names(events),
            secret=secret,
            is_active=_given(input.active),
            description=_given(input.description),
        )
        return WebhookUpdatePayload(webhook=webhook, secret=None if secret is UNSET else secret)

    @strawberry.mutation(description="Remove a webhook endpoint and its delivery log (admins).")
    @admin_mutation_payload
    def webhook_delete(self, info: Info, input: WebhookDeleteInput) -> WebhookDeletePayload:
        webhooks.webhook_delete(
            actor=viewer(info), webhook=load(info, input.id, WebhookNode, field="id")
        )
        return WebhookDeletePayload(deleted_id=input.id)

    @strawberry.mutation(
        description="Send a failed or waiting delivery again now (admins). A failed delivery "
        "gets one more attempt."
    )
    @admin_mutation_payload
    def delivery_retry(self, info: Info, input: DeliveryRetryInput) -> DeliveryRetryPayload:
        delivery = outbox.delivery_retry(
            actor=viewer(info), delivery=load(info, input.id, DeliveryNode, field="id")
        )
        return DeliveryRetryPayload(delivery=delivery)
