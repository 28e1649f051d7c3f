"""GraphQL object types. Each type's ``get_queryset`` applies row-level access, so every way to
reach an object (a list, a connection, ``node(id:)``, a nested field) shows only what the viewer
may see."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from strawberry import Info, relay
from strawberry_django.relay import DjangoListConnection

from escalated import models
from escalated.access import (
    Role,
    is_staff,
    role_of,
    visible_replies,
    visible_tickets,
    visible_users,
)
from escalated.events import display_name
from escalated.graphql.context import viewer
from escalated.graphql.enums import (
    ApiTokenScope,
    TicketChannel,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from escalated.graphql.enums import Role as RoleEnum

if TYPE_CHECKING:
    from escalated.graphql.sla import TicketSla

User = get_user_model()


@strawberry_django.type(User, name="User", description="A person: customer, agent or admin.")
class UserNode(relay.Node):
    @strawberry_django.field(only=["first_name", "last_name", "username"])
    def name(self, root: Any) -> str:
        return display_name(root)

    @strawberry_django.field(
        only=["email"], description="Shown to staff, and to each person for themselves."
    )
    def email(self, root: Any, info: Info) -> str | None:
        me = viewer(info)
        return root.email if is_staff(me) or root.pk == me.pk else None

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return visible_users(viewer(info), queryset)


@strawberry.type(description="Who is asking.")
class Viewer:
    user: UserNode | None
    role: RoleEnum


@strawberry_django.type(models.Department, name="Department")
class DepartmentNode(relay.Node):
    name: str
    slug: str
    description: str
    is_active: bool

    @strawberry_django.field(
        prefetch_related=["agents"], description="The department's agents (staff only)."
    )
    def agents(self, root: models.Department, info: Info) -> list[UserNode]:
        return list(root.agents.all()) if is_staff(viewer(info)) else []

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Department], info: Info, **kwargs: Any
    ) -> QuerySet[models.Department]:
        role = role_of(viewer(info))
        if role in (Role.ADMIN, Role.AGENT, Role.SYSTEM):
            return queryset
        return queryset.filter(is_active=True) if role is Role.CUSTOMER else queryset.none()


@strawberry_django.type(models.Tag, name="Tag")
class TagNode(relay.Node):
    name: str
    slug: str
    color: str

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Tag], info: Info, **kwargs: Any
    ) -> QuerySet[models.Tag]:
        return queryset if is_staff(viewer(info)) else queryset.none()


@strawberry_django.type(models.CannedResponse, name="CannedResponse")
class CannedResponseNode(relay.Node):
    title: str
    body: str
    category: str
    is_shared: bool
    owner: UserNode | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.CannedResponse], info: Info, **kwargs: Any
    ) -> QuerySet[models.CannedResponse]:
        me = viewer(info)
        if not is_staff(me):
            return queryset.none()
        from django.db.models import Q

        return queryset.filter(Q(is_shared=True) | Q(owner_id=me.pk))


@strawberry_django.type(models.Reply, name="Reply", description="A public reply or internal note.")
class ReplyNode(relay.Node):
    body: str = strawberry_django.field(description="Sanitised HTML.")
    is_internal_note: bool
    is_pinned: bool
    author: UserNode | None
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["ticket_id"])
    def ticket(self, root: models.Reply, info: Info) -> TicketNode | None:
        return visible_tickets(viewer(info)).filter(pk=root.ticket_id).first()

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Reply], info: Info, **kwargs: Any
    ) -> QuerySet[models.Reply]:
        return visible_replies(viewer(info), queryset)


@strawberry_django.type(
    models.TicketActivity, name="TicketActivity", description="One action on a ticket's timeline."
)
class TicketActivityNode(relay.Node):
    verb: str
    actor: UserNode | None
    actor_label: str = strawberry_django.field(
        description="Who acted when it was not a person, e.g. 'rule:Urgent VIP'."
    )
    before: strawberry.scalars.JSON
    after: strawberry.scalars.JSON
    created_at: datetime

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.TicketActivity], info: Info, **kwargs: Any
    ) -> QuerySet[models.TicketActivity]:
        me = viewer(info)
        if not is_staff(me):
            return queryset.none()
        if role_of(me) is Role.ADMIN:
            return queryset
        return queryset.filter(ticket__in=visible_tickets(me))


def _latest_reply_prefetch(info: Info) -> Prefetch[Any]:
    """Each ticket's newest reply the viewer may read, in one query for the whole page."""
    staff = is_staff(viewer(info))
    candidates = models.Reply.objects.filter(ticket_id=OuterRef("ticket_id"))
    if not staff:
        candidates = candidates.filter(is_internal_note=False)
    newest = candidates.order_by("-created_at", "-id").values("id")[:1]
    replies = models.Reply.objects.filter(id=Subquery(newest)).select_related("author")
    return Prefetch("replies", queryset=replies, to_attr="latest_reply_cache")


def _is_following(info: Info) -> Exists:
    return Exists(
        models.TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=viewer(info).pk)
    )


def _sla_clocks_prefetch(info: Info) -> Prefetch[Any]:
    from escalated.graphql.sla import current_clocks_prefetch

    return current_clocks_prefetch(info)


@strawberry_django.type(models.Ticket, name="Ticket")
class TicketNode(relay.Node):
    reference: str = strawberry_django.field(description="Human-friendly id, e.g. ESC-00042.")
    subject: str
    description: str = strawberry_django.field(description="Plain text, as the requester wrote it.")
    status: TicketStatus
    priority: TicketPriority
    ticket_type: TicketKind
    channel: TicketChannel
    requester: UserNode | None
    assignee: UserNode | None
    department: DepartmentNode | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    replies: DjangoListConnection[ReplyNode] = strawberry_django.connection(
        description="Replies oldest first; internal notes only for staff."
    )
    activities: DjangoListConnection[TicketActivityNode] = strawberry_django.connection(
        description="The audit timeline, oldest first (staff only; empty for customers)."
    )

    @strawberry_django.field(prefetch_related=["tags"], description="Tags (staff only).")
    def tags(self, root: models.Ticket, info: Info) -> list[TagNode]:
        return list(root.tags.all()) if is_staff(viewer(info)) else []

    @strawberry_django.field(
        prefetch_related=[_latest_reply_prefetch],
        description="The newest reply the viewer may read.",
    )
    def latest_reply(self, root: models.Ticket, info: Info) -> ReplyNode | None:
        cached = getattr(root, "latest_reply_cache", None)
        if cached is not None:
            return cached[0] if cached else None
        replies = visible_replies(viewer(info), root.replies.select_related("author"))
        return replies.order_by("-created_at", "-id").first()

    @strawberry_django.field(annotate={"is_following_flag": _is_following})
    def is_following(self, root: models.Ticket, info: Info) -> bool:
        flag = getattr(root, "is_following_flag", None)
        if flag is not None:
            return bool(flag)
        me = viewer(info)
        return bool(me.pk) and root.follows.filter(user_id=me.pk).exists()

    @strawberry_django.field(
        prefetch_related=[_sla_clocks_prefetch],
        description="Service levels: the policy and a clock per metric (staff only; null when "
        "no policy applies).",
    )
    def sla(
        self, root: models.Ticket, info: Info
    ) -> Annotated[TicketSla, strawberry.lazy("escalated.graphql.sla")] | None:
        from escalated.graphql.sla import ticket_sla

        return ticket_sla(root, info)

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Ticket], info: Info, **kwargs: Any
    ) -> QuerySet[models.Ticket]:
        return visible_tickets(viewer(info), queryset)


@strawberry_django.type(models.ApiToken, name="ApiToken")
class ApiTokenNode(relay.Node):
    name: str
    prefix: str = strawberry_django.field(description="The token's visible start, to recognise it.")
    scopes: list[ApiTokenScope]
    user: UserNode
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.ApiToken], info: Info, **kwargs: Any
    ) -> QuerySet[models.ApiToken]:
        me = viewer(info)
        if role_of(me) is Role.ADMIN:
            return queryset
        return queryset.filter(user_id=me.pk) if me.is_authenticated else queryset.none()
