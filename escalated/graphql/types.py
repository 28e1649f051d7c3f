"""GraphQL object types. Each type's ``get_queryset`` applies row-level access, so every way to
reach an object (a list, a connection, ``node(id:)``, a nested field) shows only what the viewer
may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from strawberry import Info, relay
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.optimizer import is_optimized_by_prefetching
from strawberry_django.pagination import apply_window_pagination
from strawberry_django.relay import DjangoListConnection

from escalated import models
from escalated.access import (
    GuestActor,
    Role,
    can_see_ticket,
    is_staff,
    role_of,
    visible_attachments,
    visible_own_or_shared,
    visible_replies,
    visible_tickets,
    visible_users,
)
from escalated.conf import escalated_settings
from escalated.events import display_name
from escalated.graphql.bounds import files_per_message, page_size
from escalated.graphql.context import viewer
from escalated.graphql.enums import (
    AgentAvailability,
    ApiTokenScope,
    DepartmentAssignment,
    MacroActionType,
    TicketChannel,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from escalated.graphql.enums import Role as RoleEnum
from escalated.services.attachments import attachment_link, attachment_path
from escalated.services.macros import macro_actions
from escalated.services.participants import MAX_PARTICIPANTS
from escalated.services.routing import agent_availability

if TYPE_CHECKING:
    from escalated.graphql.sites import TicketSite
    from escalated.graphql.sla import TicketSla

User = get_user_model()


@strawberry_django.type(User, name="User", description="A person: customer, agent or admin.")
class UserNode(relay.Node):
    id: relay.NodeID[int]

    @strawberry_django.field(only=["first_name", "last_name", "username"])
    def name(self, root: Any) -> str:
        return display_name(root)

    @strawberry_django.field(
        only=["email"], description="Shown to staff, and to each person for themselves."
    )
    def email(self, root: Any, info: Info) -> str | None:
        me = viewer(info)
        return root.email if is_staff(me) or root.pk == me.pk else None

    @strawberry_django.field(
        select_related=["escalated_agent_profile"],
        description="Whether this agent takes new tickets (shown to staff only).",
    )
    def availability(self, root: Any, info: Info) -> AgentAvailability | None:
        return agent_availability(root) if is_staff(viewer(info)) else None

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return visible_users(viewer(info), queryset)


@strawberry.type(
    name="TicketGuest", description="The guest who opened a ticket without an account."
)
class TicketGuest:
    name: str
    email: str | None = strawberry.field(description="Shown to staff and to the guest.")
    token_expires_at: datetime | None = strawberry.field(
        description="When the guest's magic link stops working (staff and the guest only)."
    )
    claimed_at: datetime | None = strawberry.field(
        description="When a signed-in user with the guest's email claimed the ticket."
    )


def guest_view(access: models.GuestAccess, me: Any) -> TicketGuest:
    private = is_staff(me) or (isinstance(me, GuestActor) and me.access_id == access.pk)
    return TicketGuest(
        name=access.name,
        email=access.email if private else None,
        token_expires_at=access.token_expires_at if private else None,
        claimed_at=access.claimed_at,
    )


@strawberry.type(description="Who is asking.")
class Viewer:
    user: UserNode | None
    role: RoleEnum
    guest: TicketGuest | None = strawberry.field(
        default=None, description="For a guest: who they are and when their link expires."
    )


@strawberry_django.type(
    models.Attachment, name="Attachment", description="A file on a ticket, reply or note."
)
class AttachmentNode(relay.Node):
    id: relay.NodeID[int]
    filename: str = strawberry_django.field(description="The uploader's name for it, sanitised.")
    content_type: str = strawberry_django.field(description="Sniffed from the file's bytes.")
    size: int = strawberry_django.field(description="In bytes.")
    created_at: datetime
    reply: ReplyNode | None = strawberry_django.field(
        description="The reply or note it is on; null for the ticket's opening message."
    )

    @strawberry_django.field(
        only=["id"],
        description="Download address checked against the caller's own credentials (session "
        "cookie, bearer token or guest token header).",
    )
    def url(self, root: models.Attachment) -> str:
        return attachment_path(root)

    @strawberry_django.field(
        only=["id"],
        description="A signed download link that works without credentials until it expires "
        "(ATTACHMENT_LINK_EXPIRY_MINUTES); a guest's stops with their token.",
    )
    def download_url(self, root: models.Attachment, info: Info) -> str:
        me = viewer(info)
        return attachment_link(root, guest=me if isinstance(me, GuestActor) else None)

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Attachment], info: Info, **kwargs: Any
    ) -> QuerySet[models.Attachment]:
        return visible_attachments(viewer(info), queryset)


class _BoundedFiles(StrawberryDjangoField):
    """A list of files, oldest first, cut at its bound in the database: in the optimizer's
    prefetch (one query for the page, with what the selection reads of each file, such as its
    reply and the reply's author, joined in) or, unoptimized, by a slice."""

    bound: Callable[[], int]

    def get_queryset(self, queryset: Any, info: Info, **kwargs: Any) -> Any:
        if is_optimized_by_prefetching(queryset):
            return queryset
        queryset = super().get_queryset(queryset, info, **kwargs).order_by("pk")
        related = kwargs.get("_strawberry_related_field_id")
        if related is not None:
            return apply_window_pagination(queryset, related_field_id=related, limit=self.bound())
        return queryset[: self.bound()]


def _files(bound: Callable[[], int], description: str) -> Any:
    field_cls = type("BoundedFiles", (_BoundedFiles,), {"bound": staticmethod(bound)})
    return strawberry_django.field(field_cls=field_cls, description=description)


def _staff_count(root: Any, attribute: str, relation: str, info: Info) -> int | None:
    """A count, for staff only (the count of a department's tickets says more than a customer
    sees): annotated by the optimizer on lists, counted on its own for a single object."""
    if not is_staff(viewer(info)):
        return None
    if hasattr(root, attribute):
        return int(getattr(root, attribute) or 0)
    return int(getattr(root, relation).count())


@strawberry_django.type(models.Department, name="Department")
class DepartmentNode(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    description: str
    is_active: bool
    assignment_mode: DepartmentAssignment = strawberry_django.field(
        description="How new tickets find an agent."
    )
    max_open_tickets_per_agent: int | None = strawberry_django.field(
        description="Auto-assignment skips agents holding this many open tickets; null: no limit."
    )

    @strawberry_django.field(
        prefetch_related=["agents"], description="The department's agents (staff only)."
    )
    def agents(self, root: models.Department, info: Info) -> list[UserNode]:
        return list(root.agents.all()) if is_staff(viewer(info)) else []

    @strawberry_django.field(
        annotate={"tickets_count_value": Count("tickets", distinct=True)},
        description="Tickets in the department (staff only; null for others).",
    )
    def tickets_count(self, root: models.Department, info: Info) -> int | None:
        return _staff_count(root, "tickets_count_value", "tickets", info)

    @strawberry_django.field(
        annotate={"agents_count_value": Count("agents", distinct=True)},
        description="Agents of the department (staff only; null for others).",
    )
    def agents_count(self, root: models.Department, info: Info) -> int | None:
        return _staff_count(root, "agents_count_value", "agents", info)

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Department], info: Info, **kwargs: Any
    ) -> QuerySet[models.Department]:
        role = role_of(viewer(info))
        if role in (Role.ADMIN, Role.AGENT, Role.SYSTEM):
            return queryset
        if role in (Role.CUSTOMER, Role.GUEST) or escalated_settings.GUEST_TICKETS_ENABLED:
            return queryset.filter(is_active=True)
        return queryset.none()


@strawberry_django.type(models.Tag, name="Tag")
class TagNode(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    color: str

    @strawberry_django.field(
        annotate={"tickets_count_value": Count("tickets", distinct=True)},
        description="Tickets carrying the tag.",
    )
    def tickets_count(self, root: models.Tag, info: Info) -> int | None:
        return _staff_count(root, "tickets_count_value", "tickets", info)

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Tag], info: Info, **kwargs: Any
    ) -> QuerySet[models.Tag]:
        return queryset if is_staff(viewer(info)) else queryset.none()


@strawberry_django.type(models.CannedResponse, name="CannedResponse")
class CannedResponseNode(relay.Node):
    id: relay.NodeID[int]
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
        return visible_own_or_shared(viewer(info), queryset)


@strawberry_django.type(models.Reply, name="Reply", description="A public reply or internal note.")
class ReplyNode(relay.Node):
    id: relay.NodeID[int]
    body: str = strawberry_django.field(description="Sanitised HTML.")
    is_internal_note: bool
    is_pinned: bool
    author: UserNode | None
    author_label: str = strawberry_django.field(
        description="Who wrote it when that was not a user, e.g. 'guest:jane@example.com'."
    )
    created_at: datetime
    updated_at: datetime

    attachments: list[AttachmentNode] = _files(
        files_per_message, "Files on this reply or note, oldest first (at most MAX_ATTACHMENTS)."
    )

    @strawberry_django.field(select_related=["ticket"])
    def ticket(self, root: models.Reply, info: Info) -> TicketNode | None:
        # A reply the viewer can read is on a ticket they can see; checked again in memory.
        return root.ticket if can_see_ticket(viewer(info), root.ticket) else None

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Reply], info: Info, **kwargs: Any
    ) -> QuerySet[models.Reply]:
        return visible_replies(viewer(info), queryset)


@strawberry_django.type(
    models.TicketActivity, name="TicketActivity", description="One action on a ticket's timeline."
)
class TicketActivityNode(relay.Node):
    id: relay.NodeID[int]
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


@strawberry_django.type(
    models.SatisfactionRating,
    name="SatisfactionRating",
    description="The requester's rating of a settled ticket.",
)
class SatisfactionRatingNode(relay.Node):
    id: relay.NodeID[int]
    rating: int = strawberry_django.field(description="1 (poor) to 5 (great).")
    comment: str = strawberry_django.field(description="Plain text, as the requester wrote it.")
    rated_by: UserNode | None
    created_at: datetime

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.SatisfactionRating], info: Info, **kwargs: Any
    ) -> QuerySet[models.SatisfactionRating]:
        return queryset.filter(ticket__in=visible_tickets(viewer(info)))


@strawberry.type(description="One step of a macro; only the fields its type uses are set.")
class MacroAction:
    type: MacroActionType
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="SET_DEPARTMENT: the department; null moves to no department."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="SET_ASSIGNEE: the agent; null unassigns."
    )
    tag_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    body: str | None = strawberry.field(
        default=None, description="ADD_REPLY, ADD_NOTE: HTML with placeholders."
    )


def _global_id(type_name: str, pk: Any) -> relay.GlobalID | None:
    return None if pk is None else relay.GlobalID(type_name, str(pk))


@strawberry_django.type(models.Macro, name="Macro")
class MacroNode(relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    is_shared: bool
    owner: UserNode | None
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["actions"], description="The steps, in the order they run.")
    def actions(self, root: models.Macro) -> list[MacroAction]:
        return [
            MacroAction(
                type=action.type,
                status=action.status,
                priority=action.priority,
                department_id=_global_id("Department", action.department_id),
                assignee_id=_global_id("User", action.assignee_id),
                tag_ids=[relay.GlobalID("Tag", str(pk)) for pk in action.tag_ids],
                body=action.body,
            )
            for action in macro_actions(root)
        ]

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Macro], info: Info, **kwargs: Any
    ) -> QuerySet[models.Macro]:
        return visible_own_or_shared(viewer(info), queryset)


@strawberry_django.type(
    models.TicketParticipant,
    name="TicketParticipant",
    description="Someone copied on a ticket's email (not its requester): they may answer the "
    "ticket by email, as a public reply; they have no portal access and never see internal "
    "notes.",
)
class TicketParticipantType:
    email: str
    name: str = strawberry_django.field(
        description="As their email client named them; may be empty."
    )
    created_at: datetime = strawberry_django.field(description="When they were first copied in.")


def _participants_prefetch(info: Info) -> Prefetch[Any]:
    """The participants, for staff; for anyone else no rows and no statement."""
    rows = models.TicketParticipant.objects.all()
    return Prefetch("participants", queryset=rows if is_staff(viewer(info)) else rows.none())


def _latest_reply_prefetch(info: Info) -> Prefetch[Any]:
    """Each ticket's newest reply the viewer may read, in one query for the whole page."""
    staff = is_staff(viewer(info))
    candidates = models.Reply.objects.filter(ticket_id=OuterRef("ticket_id"))
    if not staff:
        candidates = candidates.filter(is_internal_note=False)
    newest = candidates.order_by("-created_at", "-id").values("id")[:1]
    replies = models.Reply.objects.filter(id=Subquery(newest)).select_related("author")
    return Prefetch("replies", queryset=replies, to_attr="latest_reply_cache")


def _tags_prefetch(info: Info) -> Prefetch[Any]:
    """The page's tags in one query, kept as a plain list on each ticket: reading
    ``ticket.tags.all()`` builds a many-to-many manager per ticket (about a tenth of a
    millisecond each), which a 50-row queue paid 50 times for nothing."""
    return Prefetch("tags", queryset=models.Tag.objects.all(), to_attr="tag_list")


def _is_following(info: Info) -> Exists:
    return Exists(
        models.TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=viewer(info).pk)
    )


def _sla_clocks_prefetch(info: Info) -> Prefetch[Any]:
    from escalated.graphql.sla import current_clocks_prefetch

    return current_clocks_prefetch(info)


@strawberry_django.type(models.Ticket, name="Ticket")
class TicketNode(relay.Node):
    id: relay.NodeID[int]
    reference: str = strawberry_django.field(description="Human-friendly id, e.g. ESC-00042.")
    subject: str
    description: str = strawberry_django.field(
        description="Sanitised HTML: the opening message, cleaned and shown exactly like a "
        "reply's body (same sanitiser, in emails and pages)."
    )
    status: TicketStatus
    priority: TicketPriority
    ticket_type: TicketKind
    channel: TicketChannel
    requester: UserNode | None
    assignee: UserNode | None
    department: DepartmentNode | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    replies: DjangoListConnection[ReplyNode] = strawberry_django.connection(
        description="Replies oldest first; internal notes only for staff."
    )
    satisfaction_rating: SatisfactionRatingNode | None = strawberry_django.field(
        description="The requester's rating, once given."
    )
    activities: DjangoListConnection[TicketActivityNode] = strawberry_django.connection(
        description="The audit timeline, oldest first (staff only; empty for customers)."
    )

    attachments: list[AttachmentNode] = _files(
        page_size,
        "Every file on the ticket the viewer may see: on the opening message and on its replies "
        "(and notes, for staff), oldest first; the first MAX_PAGE_SIZE of them (each reply's "
        "`attachments` lists its own).",
    )

    @strawberry_django.field(
        only=["updated_at", "public_activity_at"],
        description="When the ticket last changed: for staff, any change; for customers and "
        "guests, the last change they can see (not notes, tags or SLA clocks).",
    )
    def updated_at(self, root: models.Ticket, info: Info) -> datetime:
        return root.updated_at if is_staff(viewer(info)) else root.public_activity_at

    @strawberry_django.field(
        select_related=["guest_access"],
        description="The guest who opened the ticket, for a ticket opened without an account.",
    )
    def guest(self, root: models.Ticket, info: Info) -> TicketGuest | None:
        try:
            access = root.guest_access
        except models.GuestAccess.DoesNotExist:
            return None
        return guest_view(access, viewer(info))

    @strawberry_django.field(prefetch_related=[_tags_prefetch], description="Tags (staff only).")
    def tags(self, root: models.Ticket, info: Info) -> list[TagNode]:
        if not is_staff(viewer(info)):
            return []
        cached = getattr(root, "tag_list", None)
        return list(cached) if cached is not None else list(root.tags.all())

    @strawberry_django.field(
        prefetch_related=[_participants_prefetch],
        description="People copied on the ticket's email, oldest first (staff only; empty for "
        "others).",
    )
    def participants(self, root: models.Ticket, info: Info) -> list[TicketParticipantType]:
        if not is_staff(viewer(info)):
            return []
        return list(root.participants.all())[:MAX_PARTICIPANTS]

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

    @strawberry_django.field(
        annotate={"followers_count_value": Count("follows", distinct=True)},
        description="How many people follow the ticket (staff only; null for others).",
    )
    def followers_count(self, root: models.Ticket, info: Info) -> int | None:
        return _staff_count(root, "followers_count_value", "follows", info)

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

    @strawberry_django.field(
        select_related=["site"],
        only=["site_id", "site_reference"],
        description="On a hub: the site the ticket came from and its reference there (staff).",
    )
    def site(
        self, root: models.Ticket, info: Info
    ) -> Annotated[TicketSite, strawberry.lazy("escalated.graphql.sites")] | None:
        from escalated.graphql.sites import ticket_site

        return ticket_site(root, info)

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Ticket], info: Info, **kwargs: Any
    ) -> QuerySet[models.Ticket]:
        return visible_tickets(viewer(info), queryset)


@strawberry_django.type(models.ApiToken, name="ApiToken")
class ApiTokenNode(relay.Node):
    id: relay.NodeID[int]
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
