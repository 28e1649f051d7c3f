"""Inbound email in the API: the log of received messages and their retry, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import Info, relay
from strawberry_django.relay import DjangoListConnection

from escalated import models
from escalated.access import require_admin
from escalated.filters import InboundEmailFilter
from escalated.graphql.context import viewer
from escalated.graphql.delivery import admins_only
from escalated.graphql.errors import UserError, admin_mutation_payload
from escalated.graphql.filters import apply_filter, filter_data
from escalated.graphql.ids import load
from escalated.graphql.queries import guard
from escalated.graphql.types import ReplyNode, TicketNode

InboundStatusEnum = strawberry.enum(
    models.InboundStatus, name="InboundEmailStatus", description="Where a received email is."
)
InboundProviderEnum = strawberry.enum(
    models.InboundProvider, name="InboundEmailProvider", description="How an email came in."
)


@strawberry_django.type(
    models.InboundEmail,
    name="InboundEmail",
    description="One received email: stored raw first, then made into a ticket or a reply.",
)
class InboundEmailNode(relay.Node):
    provider: InboundProviderEnum
    message_id: str
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    status: InboundStatusEnum
    reason: str = strawberry_django.field(description="Why it was ignored or bounced.")
    ticket: TicketNode | None
    reply: ReplyNode | None
    error: str = strawberry_django.field(description="What the last failed attempt raised.")
    attempts: int
    raw_size: int = strawberry_django.field(description="Size of the raw message, in bytes.")
    received_at: datetime = strawberry_django.field(field_name="created_at")
    processed_at: datetime | None

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.InboundEmail], info: Info, **kwargs: Any
    ) -> QuerySet[models.InboundEmail]:
        return admins_only(queryset, info)


@strawberry.input(name="InboundEmailFilter", description="Narrow the inbound log; all must match.")
class InboundEmailFilterInput:
    status: list[InboundStatusEnum] | None = None
    provider: list[InboundProviderEnum] | None = None
    ticket: relay.GlobalID | None = None
    sender: str | None = strawberry.field(default=None, description="Part of the address.")
    message_id: str | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None

    ID_TYPES = {"ticket": "Ticket"}


@strawberry.type
class InboundQueries:
    @strawberry_django.connection(
        DjangoListConnection[InboundEmailNode],
        description="Received emails, newest first (admins).",
    )
    def inbound_emails(
        self, info: Info, filter: InboundEmailFilterInput | None = None
    ) -> QuerySet[models.InboundEmail]:
        guard(info, require_admin)
        data = filter_data(filter, InboundEmailFilter, filter.ID_TYPES) if filter else {}
        return apply_filter(
            InboundEmailFilter, data, models.InboundEmail.objects.all(), info.context.request
        ).order_by("-created_at", "-id")


@strawberry.input
class InboundEmailRetryInput:
    id: relay.GlobalID


@strawberry.type
class InboundEmailRetryPayload:
    inbound_email: InboundEmailNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InboundMutations:
    @strawberry.mutation(
        description="Process a failed (or stuck) received email again now (admins)."
    )
    @admin_mutation_payload
    def inbound_email_retry(
        self, info: Info, input: InboundEmailRetryInput
    ) -> InboundEmailRetryPayload:
        from escalated.mail import processing  # the door's pipeline, loaded when first used

        inbound = processing.inbound_email_retry(
            actor=viewer(info), inbound=load(info, input.id, InboundEmailNode, field="id")
        )
        return InboundEmailRetryPayload(inbound_email=inbound)
