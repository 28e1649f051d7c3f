"""The outbox in the API: webhook endpoints and the delivery log, for admins."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import Info, relay
from strawberry_django.relay import DjangoListConnection

from escalated import models
from escalated.access import Role, require_admin, role_of
from escalated.filters import DeliveryFilter
from escalated.graphql.context import viewer
from escalated.graphql.filters import apply_filter, filter_data
from escalated.graphql.queries import guard
from escalated.graphql.types import TicketNode
from escalated.services.webhooks import WEBHOOK_EVENTS

# Made from the one list of event names; typed Any because mypy cannot follow a functional Enum.
_WEBHOOK_EVENT: Any = Enum(  # type: ignore[misc]
    "WebhookEvent", {name.upper().replace(".", "_"): name for name in WEBHOOK_EVENTS}
)
WebhookEvent = strawberry.enum(
    _WEBHOOK_EVENT,
    name="WebhookEvent",
    description="An event a webhook endpoint can subscribe to.",
)
DeliveryKindEnum = strawberry.enum(
    models.DeliveryKind, name="DeliveryKind", description="What a delivery sends."
)
DeliveryStatusEnum = strawberry.enum(
    models.DeliveryStatus, name="DeliveryStatus", description="Where a delivery is in its life."
)


def admins_only(queryset: QuerySet[Any], info: Info) -> QuerySet[Any]:
    return queryset if role_of(viewer(info)) in (Role.ADMIN, Role.SYSTEM) else queryset.none()


@strawberry_django.type(
    models.Webhook, name="Webhook", description="An endpoint that receives webhook calls."
)
class WebhookNode(relay.Node):
    id: relay.NodeID[int]
    url: str
    active: bool = strawberry_django.field(field_name="is_active")
    description: str
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["events"], description="Subscribed events; empty: every event.")
    def events(self, root: models.Webhook) -> list[WebhookEvent]:
        return [WebhookEvent(name) for name in root.events if name in WEBHOOK_EVENTS]

    @strawberry_django.field(
        only=["secret"],
        description="The secret's last four characters, to recognise it. The secret itself is "
        "shown only by the mutation that sets it.",
    )
    def secret_hint(self, root: models.Webhook) -> str:
        return f"…{root.secret[-4:]}"

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Webhook], info: Info, **kwargs: Any
    ) -> QuerySet[models.Webhook]:
        return admins_only(queryset, info)


@strawberry_django.type(
    models.Delivery,
    name="Delivery",
    description="One email or webhook call in the outbox, with how its sending went.",
)
class DeliveryNode(relay.Node):
    id: relay.NodeID[int]
    kind: DeliveryKindEnum
    event: str
    status: DeliveryStatusEnum
    idempotency_key: str = strawberry_django.field(
        description="Sent to the receiver (X-Escalated-Delivery, deliveryId, in the Message-ID)."
    )
    recipient: str = strawberry_django.field(description="The email address or URL.")
    ticket: TicketNode | None
    webhook: WebhookNode | None
    attempts: int
    next_attempt_at: datetime = strawberry_django.field(
        description="When a worker may next try (for a row being sent: when its claim lapses)."
    )
    last_error: str
    last_status_code: int | None = strawberry_django.field(description="HTTP status, webhooks.")
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Delivery], info: Info, **kwargs: Any
    ) -> QuerySet[models.Delivery]:
        return admins_only(queryset, info)


@strawberry.input(name="DeliveryFilter", description="Narrow the delivery log; all parts match.")
class DeliveryFilterInput:
    status: list[DeliveryStatusEnum] | None = None
    kind: list[DeliveryKindEnum] | None = None
    event: str | None = strawberry.field(default=None, description="e.g. reply.created")
    ticket: relay.GlobalID | None = None
    webhook: relay.GlobalID | None = None
    recipient: str | None = strawberry.field(
        default=None, description="Part of the address or URL."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None

    ID_TYPES = {"ticket": "Ticket", "webhook": "Webhook"}


@strawberry.type
class DeliveryQueries:
    @strawberry_django.connection(
        DjangoListConnection[WebhookNode], description="Webhook endpoints (admins)."
    )
    def webhooks(self, info: Info) -> QuerySet[models.Webhook]:
        guard(info, require_admin)
        return models.Webhook.objects.all()

    @strawberry_django.connection(
        DjangoListConnection[DeliveryNode],
        description="The outbox: emails and webhook calls, newest first (admins).",
    )
    def deliveries(
        self, info: Info, filter: DeliveryFilterInput | None = None
    ) -> QuerySet[models.Delivery]:
        guard(info, require_admin)
        data = filter_data(filter, DeliveryFilter, filter.ID_TYPES) if filter else {}
        return apply_filter(
            DeliveryFilter, data, models.Delivery.objects.all(), info.context.request
        ).order_by("-created_at", "-id")
