"""The read side of the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from graphql import GraphQLError
from strawberry import Info, relay
from strawberry_django.relay import DjangoListConnection

from escalated import models
from escalated.access import (
    GuestActor,
    Role,
    in_a_department,
    require_admin,
    require_signed_in,
    require_staff,
    role_of,
    site_of,
    visible_tickets,
)
from escalated.conf import escalated_settings
from escalated.errors import DomainError, NotAllowed
from escalated.graphql.connections import CountedListConnection
from escalated.graphql.context import viewer
from escalated.graphql.errors import refusal
from escalated.graphql.filters import TicketFilterInput, TicketOrder, filter_tickets
from escalated.graphql.ids import load
from escalated.graphql.sla import (
    BusinessScheduleNode,
    SlaPolicyNode,
    SlaPreview,
    SlaPreviewInput,
    sla_preview,
)
from escalated.graphql.types import (
    ApiTokenNode,
    CannedResponseNode,
    DepartmentNode,
    MacroNode,
    TagNode,
    TicketNode,
    UserNode,
    Viewer,
    guest_view,
)
from escalated.services import placeholders

T = TypeVar("T")


def guard(info: Info, check: Callable[[Any], T]) -> T:
    """Run an access check (or anything that may refuse) as the viewer; a refusal becomes a
    top-level GraphQL error."""
    try:
        return check(viewer(info))
    except NotAllowed as error:
        raise refusal(viewer(info), str(error)) from error


@strawberry.type(description="A canned response's text, filled in for one ticket.")
class RenderedCannedResponse:
    title: str
    body: str = strawberry.field(description="HTML; placeholder values are escaped.")
    unknown_placeholders: list[str] = strawberry.field(
        description="Names in {{ }} that are not placeholders, left in the body as written."
    )


@strawberry.type
class Query:
    node: relay.Node | None = strawberry_django.node(
        description="Any object by its global id; null when it does not exist or is not yours."
    )

    @strawberry.field(description="Who is asking, and their role.")
    def viewer(self, info: Info) -> Viewer:
        me = viewer(info)
        guest = None
        if isinstance(me, GuestActor):
            guest = guest_view(models.GuestAccess.objects.get(pk=me.access_id), me)
        return Viewer(user=me if me.is_authenticated else None, role=role_of(me), guest=guest)

    @strawberry_django.field(description="One ticket, by global id or by reference (ESC-00042).")
    def ticket(
        self,
        info: Info,
        id: relay.GlobalID | None = None,
        reference: str | None = None,
    ) -> TicketNode | None:
        if (id is None) == (reference is None):
            raise GraphQLError("Give exactly one of id or reference.")
        tickets = visible_tickets(viewer(info))
        if id is not None:
            if id.type_name != "Ticket":
                return None
            return tickets.filter(pk=id.node_id).first()
        return tickets.filter(reference__iexact=(reference or "").strip()).first()

    @strawberry_django.connection(
        CountedListConnection[TicketNode],
        description="The tickets the viewer may see, filtered and sorted.",
    )
    def tickets(
        self,
        info: Info,
        filter: TicketFilterInput | None = None,
        # Named apart in Python: strawberry-django claims a resolver argument called "order"
        # for its own ordering inputs.
        ordering: Annotated[TicketOrder | None, strawberry.argument(name="order")] = None,
    ) -> QuerySet[models.Ticket]:
        return filter_tickets(visible_tickets(viewer(info)), info.context.request, filter, ordering)

    @strawberry_django.connection(
        DjangoListConnection[DepartmentNode],
        description="Departments: all for staff; active ones for customers and guests, and for "
        "anyone when GUEST_TICKETS_ENABLED (so the guest form can offer them).",
    )
    def departments(self, info: Info) -> QuerySet[models.Department]:
        if not escalated_settings.GUEST_TICKETS_ENABLED and role_of(viewer(info)) is not Role.GUEST:
            guard(info, require_signed_in)
        return models.Department.objects.all()

    @strawberry_django.connection(DjangoListConnection[TagNode], description="Tags (staff only).")
    def tags(self, info: Info) -> QuerySet[models.Tag]:
        guard(info, require_staff)
        return models.Tag.objects.all()

    @strawberry_django.connection(
        DjangoListConnection[UserNode],
        description="The helpdesk's agents and admins, e.g. for @mentions (staff only): members "
        "of a department, superusers and holders of escalated.agent or escalated.admin (and, "
        "for a cloud-mode site's viewer on a hub, that site's agents), matched on name, "
        "username or email.",
    )
    def agents(self, info: Info, search: str = "") -> QuerySet[Any]:
        guard(info, require_staff)
        granted = Q(user_permissions__content_type__app_label="escalated") & Q(
            user_permissions__codename__in=("agent", "admin")
        )
        chosen = Q(in_a_department()) | Q(is_superuser=True) | granted
        site = site_of(viewer(info))
        if site is not None:
            # A cloud-mode site's agents, as the hub knows them, are agents of its tickets.
            chosen |= Q(
                pk__in=models.SitePerson.objects.filter(
                    site_id=site, role=models.SitePerson.Role.AGENT
                ).values("user_id")
            )
        people = get_user_model().objects.filter(chosen, is_active=True)
        for word in search.split()[:5]:
            people = people.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        return people.distinct().order_by("first_name", "last_name", "username")

    @strawberry_django.connection(
        DjangoListConnection[CannedResponseNode],
        description="Shared canned responses and the viewer's own (staff only).",
    )
    def canned_responses(self, info: Info) -> QuerySet[models.CannedResponse]:
        guard(info, require_staff)
        return models.CannedResponse.objects.all()

    @strawberry.field(
        description="A canned response filled in for a ticket (staff only); null when either "
        "is not found. Unknown placeholders are left as written and listed."
    )
    def canned_response_render(
        self, info: Info, id: relay.GlobalID, ticket_id: relay.GlobalID
    ) -> RenderedCannedResponse | None:
        guard(info, require_staff)
        try:
            response = load(info, id, CannedResponseNode, field="id")
            ticket = load(info, ticket_id, TicketNode, field="ticket_id")
        except DomainError:
            return None
        rendered = guard(
            info,
            lambda actor: placeholders.canned_response_render(
                response=response, ticket=ticket, actor=actor
            ),
        )
        return RenderedCannedResponse(
            title=response.title, body=rendered.text, unknown_placeholders=list(rendered.unknown)
        )

    @strawberry_django.connection(
        DjangoListConnection[MacroNode],
        description="Shared macros and the viewer's own (staff only), by name.",
    )
    def macros(self, info: Info) -> QuerySet[models.Macro]:
        guard(info, require_staff)
        return models.Macro.objects.all()

    @strawberry_django.connection(
        DjangoListConnection[ApiTokenNode],
        description="The viewer's API tokens; every token, for admins.",
    )
    def api_tokens(self, info: Info) -> QuerySet[models.ApiToken]:
        guard(info, require_signed_in)
        return models.ApiToken.objects.all()

    @strawberry_django.connection(
        DjangoListConnection[SlaPolicyNode],
        description="SLA policies in the order they are tried (staff only).",
    )
    def sla_policies(self, info: Info) -> QuerySet[models.SlaPolicy]:
        guard(info, require_staff)
        return models.SlaPolicy.objects.all()

    @strawberry_django.connection(
        DjangoListConnection[BusinessScheduleNode],
        description="Business schedules SLA targets can count in (staff only).",
    )
    def business_schedules(self, info: Info) -> QuerySet[models.BusinessSchedule]:
        guard(info, require_staff)
        return models.BusinessSchedule.objects.all()

    @strawberry.field(
        description="When each metric would be due for a new ticket like this (admins)."
    )
    def sla_preview(self, info: Info, input: SlaPreviewInput) -> SlaPreview:
        guard(info, require_admin)
        return sla_preview(info, input)
