"""Guest tickets: opening one without an account, rotating its link, claiming it later."""

from __future__ import annotations

import strawberry
from django.http import HttpRequest
from strawberry import Info, relay
from strawberry.file_uploads import Upload

from escalated.graphql.context import viewer
from escalated.graphql.enums import TicketKind, TicketPriority
from escalated.graphql.errors import (
    UserError,
    mutation_payload,
    public_mutation_payload,
    staff_mutation_payload,
)
from escalated.graphql.ids import load, load_optional
from escalated.graphql.mutations.tickets import DESCRIPTION
from escalated.graphql.types import DepartmentNode, TicketNode
from escalated.services import guests as service

Errors = strawberry.field(default_factory=list)


@strawberry.input
class GuestTicketCreateInput:
    name: str | None = strawberry.field(default=None, description="Required.")
    email: str | None = strawberry.field(
        default=None, description="Required; the magic link is sent here."
    )
    subject: str | None = strawberry.field(default=None, description="Required.")
    description: str = strawberry.field(default="", description=DESCRIPTION)
    priority: TicketPriority | None = None
    ticket_type: TicketKind | None = None
    department_id: relay.GlobalID | None = None
    attachments: list[Upload] | None = strawberry.field(
        default=None, description="Files, sent as a GraphQL multipart request."
    )


@strawberry.type
class GuestTicketCreatePayload:
    ticket: TicketNode | None = None
    guest_token: str | None = strawberry.field(
        default=None,
        description="The guest's token, shown this once: send it as X-Escalated-Guest-Token "
        "to carry on. The same token is emailed to the guest inside their magic link.",
    )
    errors: list[UserError] = Errors


@strawberry.input
class GuestTokenRotateInput:
    ticket_id: relay.GlobalID


@strawberry.type
class GuestTokenRotatePayload:
    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


@strawberry.input
class GuestTicketsClaimInput:
    references: list[str] | None = strawberry.field(
        default=None,
        description="Claim only these tickets (e.g. ESC-00042); null claims every guest "
        "ticket opened with the viewer's email.",
    )


@strawberry.type
class GuestTicketsClaimPayload:
    tickets: list[TicketNode] = strawberry.field(default_factory=list)
    errors: list[UserError] = Errors


@strawberry.type
class GuestMutations:
    @strawberry.mutation(
        description="Open a ticket without an account (when GUEST_TICKETS_ENABLED); the guest "
        "is emailed a magic link. Rate-limited per email address and per client IP."
    )
    @public_mutation_payload
    def guest_ticket_create(
        self, info: Info, input: GuestTicketCreateInput
    ) -> GuestTicketCreatePayload:
        request: HttpRequest = info.context.request
        ticket, token = service.guest_ticket_create(
            name=input.name,
            email=input.email,
            subject=input.subject,
            description=input.description,
            priority=input.priority,
            ticket_type=input.ticket_type,
            department=load_optional(
                info, input.department_id, DepartmentNode, field="department_id"
            ),
            attachments=input.attachments or (),
            client_ip=request.META.get("REMOTE_ADDR"),
            # On a hub, a cloud-mode site's visitor opens the ticket in that site.
            site=getattr(request, "escalated_site", None),
        )
        # The caller is that guest now: the payload shows the ticket as the guest sees it.
        request.escalated_guest = service.guest_authenticate(token)  # type: ignore[attr-defined]
        return GuestTicketCreatePayload(ticket=ticket, guest_token=token)

    @strawberry.mutation(
        description="Replace a guest ticket's magic link (staff): earlier links stop working "
        "and the guest is emailed the new one."
    )
    @staff_mutation_payload
    def guest_token_rotate(
        self, info: Info, input: GuestTokenRotateInput
    ) -> GuestTokenRotatePayload:
        ticket = service.guest_token_rotate(
            ticket=load(info, input.ticket_id, TicketNode, field="ticket_id"),
            actor=viewer(info),
        )
        return GuestTokenRotatePayload(ticket=ticket)

    @strawberry.mutation(
        description="Take the guest tickets opened with your email into your account; needs "
        "the host to vouch for the email (GUEST_CLAIM_EMAIL_VERIFIED)."
    )
    @mutation_payload
    def guest_tickets_claim(
        self, info: Info, input: GuestTicketsClaimInput
    ) -> GuestTicketsClaimPayload:
        tickets = service.guest_tickets_claim(actor=viewer(info), references=input.references)
        return GuestTicketsClaimPayload(tickets=tickets)
