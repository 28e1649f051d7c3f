"""Who someone is to the helpdesk, and what they may see.

This is the one place row-level access is decided. The GraphQL types scope their querysets with
:func:`visible_tickets` and :func:`visible_replies`; the services check actions with
:func:`require_ticket_action`. Everything else asks these functions.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.module_loading import import_string

from escalated.conf import escalated_settings
from escalated.errors import NotAllowed

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from escalated.models import Attachment, Reply, Ticket


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"
    # Not a person: an escalation rule, a management command. Acts with an admin's reach.
    SYSTEM = "system"
    # Someone holding a guest ticket's magic link: sees that one ticket and nothing else.
    GUEST = "guest"
    # Someone copied on a ticket's email, answering it by email: replies on that one ticket and
    # does nothing else. Never a viewer: no door signs anyone in as a participant.
    PARTICIPANT = "participant"


STAFF_ROLES = frozenset({Role.AGENT, Role.ADMIN, Role.SYSTEM})


@dataclass(frozen=True)
class SystemActor:
    """A non-human actor, named on the activity timeline (e.g. ``"rule:Urgent VIP"``)."""

    label: str
    pk: None = None
    id: None = None
    is_authenticated: bool = True


@dataclass(frozen=True)
class GuestActor:
    """Whoever presents a live guest token: the guest requester of exactly one ticket.

    Not a user: ``is_authenticated`` is False so nothing mistakes a guest for a signed-in
    account, and :func:`role_of` recognises the type instead. Made only by
    :func:`escalated.services.guests.guest_authenticate`.
    """

    ticket_id: int
    access_id: int
    name: str
    email: str
    pk: None = None
    id: None = None
    is_authenticated: bool = False
    # The hash of the token they presented: signed download links are bound to it.
    token_hash: str = field(default="", repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"guest:{self.email}"


@dataclass(frozen=True)
class ParticipantActor:
    """A participant of one ticket (someone copied on its email) writing to it by email.

    Made only by the inbound email pipeline (escalated.mail.threading), from the sender's address
    matching a :class:`~escalated.models.TicketParticipant`, and on a hub for a site's
    participant's reply (escalated.hub.receive, from a signed event; ``participant_id`` None);
    no web, GraphQL or websocket door accepts one. It may reply on that ticket, publicly, and
    nothing else: not see it in a portal, not reopen, close or rate it, never read or write a
    note. ``user``: the participant's account, when their address has one (the reply is then
    credited to it).
    """

    ticket_id: int
    participant_id: int | None
    name: str
    email: str
    user: Any = field(default=None, compare=False)
    pk: None = None
    id: None = None
    is_authenticated: bool = False

    @property
    def label(self) -> str:
        return f"participant:{self.email}"


User: TypeAlias = "AbstractBaseUser | AnonymousUser"
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | SystemActor | GuestActor | ParticipantActor"

_ROLE_CACHE = "_escalated_role"
_DEPARTMENTS_CACHE = "_escalated_department_ids"
_SITE_BINDING = "_escalated_site_binding"


@dataclass(frozen=True)
class SiteBinding:
    """On a hub: this user object acts for a cloud-mode site's person, in the role the site
    asserted. A site's customer sees their own tickets of that site; a site's agent works that
    site's tickets and sees nothing of another site's."""

    site_id: int
    role: Role


def bind_to_site(user: Any, *, site_id: int, role: Role) -> None:
    """Make ``user`` (one request's object) act for a site: :func:`role_of` answers ``role``
    and every scope below keeps to the site's tickets."""
    if role not in (Role.CUSTOMER, Role.AGENT):
        raise ValueError("A site's person is its customer or its agent on the hub.")
    setattr(user, _SITE_BINDING, SiteBinding(site_id=site_id, role=role))


def binding_of(actor: Any) -> SiteBinding | None:
    """How ``actor`` is bound to a site (:func:`bind_to_site`), if it is."""
    binding: SiteBinding | None = getattr(actor, _SITE_BINDING, None)
    return binding


def site_of(actor: Any) -> int | None:
    """The site ``actor`` acts for (see :func:`bind_to_site`), or None."""
    binding: SiteBinding | None = getattr(actor, _SITE_BINDING, None)
    return binding.site_id if binding is not None else None


def default_role(user: Any) -> Role:
    """Admin: superuser, or staff with ``escalated.admin``. Agent: a department member or holder
    of ``escalated.agent``. Anyone else signed in: customer."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return Role.ANONYMOUS
    if user.is_superuser:
        return Role.ADMIN
    if user.is_staff and _holds(user, "admin"):
        return Role.ADMIN
    if agent_department_ids(user) or _holds(user, "agent"):
        return Role.AGENT
    return Role.CUSTOMER


ROLE_PERMISSIONS = ("agent", "admin")  # escalated.<codename>: what default_role asks of a user
_PERMISSIONS_CACHE = "_escalated_role_permissions"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _holds(user: Any, codename: str) -> bool:
    """``user.has_perm("escalated.<codename>")``; where that is a read of permission rows, both
    role permissions are read at once (one statement, not has_perm's two) and remembered."""
    if getattr(user, _PERMISSIONS_CACHE, None) is None and _reads_permission_rows(user):
        prime_role_permissions([user])
    held: frozenset[str] | None = getattr(user, _PERMISSIONS_CACHE, None)
    if held is not None:
        return codename in held
    return bool(user.has_perm(f"escalated.{codename}"))


def _reads_permission_rows(user: Any) -> bool:
    """Whether ``has_perm`` is exactly a read of the user's and their groups' permission rows:
    Django's ModelBackend alone, on a user model with its standard relations. Another backend
    may answer otherwise (a directory, a rule), so then :func:`_holds` asks ``has_perm``."""
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission

    if list(settings.AUTHENTICATION_BACKENDS) != [MODEL_BACKEND]:
        return False
    meta = getattr(user, "_meta", None)  # the user may be a lazy object: ask it, not its type
    if meta is None:
        return False
    fields = {f.name: f for f in meta.get_fields()}
    permissions, groups = fields.get("user_permissions"), fields.get("groups")
    return (
        permissions is not None
        and groups is not None
        and permissions.related_model is Permission
        and groups.related_model is Group
    )


def prime_role_permissions(users: Iterable[Any]) -> None:
    """Which of the ``escalated`` role permissions each user holds, themselves or through a
    group, in one statement (a UNION of the two reads ``has_perm`` makes), for users whose
    permissions are rows (:func:`_reads_permission_rows`)."""
    from django.db.models import F

    people = {user.pk: user for user in users if user.pk is not None}
    if not people:
        return
    model = next(iter(people.values()))._meta.model
    ids = list(people)
    own = model.user_permissions.through.objects.filter(
        user_id__in=ids,
        permission__content_type__app_label="escalated",
        permission__codename__in=ROLE_PERMISSIONS,
    ).values_list("user_id", F("permission__codename"))
    grouped = model.groups.through.objects.filter(
        user_id__in=ids,
        group__permissions__content_type__app_label="escalated",
        group__permissions__codename__in=ROLE_PERMISSIONS,
    ).values_list("user_id", F("group__permissions__codename"))
    held: dict[Any, set[str]] = {pk: set() for pk in people}
    for user_id, codename in own.union(grouped, all=True):
        held[user_id].add(codename)
    for pk, user in people.items():
        # An inactive user holds no permission (ModelBackend's rule; default_role never asks).
        setattr(user, _PERMISSIONS_CACHE, frozenset(held[pk]) if user.is_active else frozenset())


def _resolver() -> Callable[[Any], Role | str]:
    configured = escalated_settings.ROLE_RESOLVER
    if configured is None:
        return default_role
    return configured if callable(configured) else import_string(configured)


def role_of(actor: Any) -> Role:
    """The actor's role, computed once per user object (one request) and then remembered."""
    if isinstance(actor, SystemActor):
        return Role.SYSTEM
    if isinstance(actor, GuestActor):
        return Role.GUEST
    if isinstance(actor, ParticipantActor):
        return Role.PARTICIPANT
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Role.ANONYMOUS
    binding: SiteBinding | None = getattr(actor, _SITE_BINDING, None)
    if binding is not None:
        return binding.role
    cached = getattr(actor, _ROLE_CACHE, None)
    if cached is None:
        cached = Role(_resolver()(actor))
        setattr(actor, _ROLE_CACHE, cached)
    return cached


def forget(actor: Any) -> None:
    """Drop what :func:`role_of` remembered, after a change to the user's memberships."""
    for attribute in (_ROLE_CACHE, _DEPARTMENTS_CACHE, _PERMISSIONS_CACHE):
        if hasattr(actor, attribute):
            delattr(actor, attribute)


def is_staff(actor: Any) -> bool:
    return role_of(actor) in STAFF_ROLES


def agent_department_ids(user: Any) -> frozenset[int]:
    """Ids of the departments the user works in, remembered on the user object."""
    if getattr(user, _DEPARTMENTS_CACHE, None) is None:
        prime_department_ids([user])
    cached: frozenset[int] = getattr(user, _DEPARTMENTS_CACHE)
    return cached


def prime_department_ids(users: Iterable[Any]) -> None:
    """Read the departments of many users at once (one statement), for :func:`agent_department_ids`
    to answer from memory."""
    from escalated.models import Department

    people = {user.pk: user for user in users}
    if not people:
        return
    found: dict[Any, set[int]] = {pk: set() for pk in people}
    rows = Department.agents.through.objects.filter(
        user_id__in=list(people), department__is_active=True
    ).values_list("user_id", "department_id")
    for user_id, department_id in rows:
        found[user_id].add(department_id)
    for pk, ids in found.items():
        setattr(people[pk], _DEPARTMENTS_CACHE, frozenset(ids))


def ticket_scope(actor: Any, via: str = "") -> Q | None:
    """The condition on a ticket that :func:`visible_tickets` applies, over the relation path
    ``via`` (``"ticket__"`` from a reply, say), so a query about other rows can ask it of the
    ticket it joins instead of reading the visible tickets' ids: None when the actor sees every
    ticket; a condition no row meets for anyone without a role."""
    role = role_of(actor)
    if role in (Role.ADMIN, Role.SYSTEM):
        return None
    site = site_of(actor)
    if site is not None:
        mine = Q(**{f"{via}site_id": site})
        return mine if role is Role.AGENT else mine & Q(**{f"{via}requester_id": actor.pk})
    if role is Role.AGENT:
        if escalated_settings.AGENT_SCOPE == "all":
            return None
        return (
            Q(**{f"{via}department_id__isnull": True})
            | Q(**{f"{via}department_id__in": agent_department_ids(actor)})
            | Q(**{f"{via}assignee_id": actor.pk})
        )
    if role is Role.CUSTOMER:
        return Q(**{f"{via}requester_id": actor.pk})
    if role in (Role.GUEST, Role.PARTICIPANT):
        return Q(**{f"{via}pk": actor.ticket_id})
    return Q(pk__in=[])


def visible_tickets(actor: Any, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets ``actor`` may see: all for admins, their departments' (plus tickets in no
    department, plus their own assignments) for agents, their own for customers."""
    from escalated.models import Ticket

    qs = Ticket.objects.all() if queryset is None else queryset
    if role_of(actor) is Role.ANONYMOUS:
        return qs.none()
    scope = ticket_scope(actor)
    return qs if scope is None else qs.filter(scope)


def can_see_ticket(actor: Any, ticket: Ticket) -> bool:
    """The in-memory twin of :func:`visible_tickets`, for one loaded ticket."""
    role = role_of(actor)
    if role in (Role.ADMIN, Role.SYSTEM):
        return True
    site = site_of(actor)
    if site is not None and ticket.site_id != site:
        return False
    if site is not None and role is Role.AGENT:
        return True
    if role is Role.AGENT:
        return (
            escalated_settings.AGENT_SCOPE == "all"
            or ticket.department_id is None
            or ticket.department_id in agent_department_ids(actor)
            or ticket.assignee_id == actor.pk
        )
    if role in (Role.CUSTOMER, Role.GUEST):
        return is_requester(actor, ticket)
    if role is Role.PARTICIPANT:
        return ticket.pk == actor.ticket_id
    return False


def is_requester(actor: Any, ticket: Ticket) -> bool:
    """Whether ``actor`` is the person the ticket is for: its signed-in requester, or the guest
    holding its magic link. Requester-only actions (rating, customer close) ask this."""
    if isinstance(actor, GuestActor):
        return ticket.pk == actor.ticket_id
    return actor is not None and actor.pk is not None and ticket.requester_id == actor.pk


def visible_replies(actor: Any, queryset: QuerySet[Reply]) -> QuerySet[Reply]:
    """Replies on visible tickets; internal notes only for staff."""
    if not is_staff(actor):
        queryset = queryset.filter(is_internal_note=False)
    scope = ticket_scope(actor, "ticket__")
    return queryset if scope is None else queryset.filter(scope)


def can_see_reply(actor: Any, reply: Reply, ticket: Ticket) -> bool:
    """The in-memory twin of :func:`visible_replies`, for one loaded reply of a loaded ticket."""
    if reply.ticket_id != ticket.pk or not can_see_ticket(actor, ticket):
        return False
    return is_staff(actor) or not reply.is_internal_note


def in_a_department() -> Exists:
    """Whether the user row of the outer query is a member of any department (active or not):
    how :func:`visible_users` counts staff, and what :func:`sees_person_on` is told."""
    from escalated.models import Department

    return Exists(Department.agents.through.objects.filter(user_id=OuterRef("pk")))


def visible_users(actor: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """People the actor may look up.

    Admins: everyone; so do agents when AGENT_SCOPE is "all". Other agents: the staff (members of
    any department, superusers) and the people on the tickets they can see (requesters,
    assignees, reply authors). A customer or guest: themselves and the staff who work their
    tickets (assignees and authors of public replies).
    """
    from escalated.models import Reply, SitePerson, Ticket

    role = role_of(actor)
    if role in (Role.ADMIN, Role.SYSTEM):
        return queryset
    site = site_of(actor)
    if role is Role.AGENT and escalated_settings.AGENT_SCOPE == "all" and site is None:
        return queryset
    if role is Role.ANONYMOUS:
        return queryset.none()
    # Each condition asks about the one person of the outer row, and PostgreSQL tries them in
    # this order, stopping at the first that holds: the cheap ones first (who they are, staff),
    # then probes through an index (requester, author, assignee) that reads a few rows, not every
    # visible ticket or reply (tests/test_queue_plans.py). The order matters: an author probe
    # reads that author's replies, so it comes after the staff test (an agent writes thousands);
    # with few distinct assignees PostgreSQL plans an assignee probe as a sequential scan that
    # expects to stop early, so for agents it comes last, and for customers and guests it runs
    # on their own few tickets.
    mine = visible_tickets(actor, Ticket.objects.all())
    people = Q(pk=actor.pk) if actor.pk is not None else Q(pk__in=[])  # a guest is no user row
    authors = Q(Exists(visible_replies(actor, Reply.objects.filter(author_id=OuterRef("pk")))))
    assignees = Q(Exists(mine.filter(assignee_id=OuterRef("pk"))))
    if role is Role.AGENT and site is not None:
        # A site's agent: the site's agents and the people on its tickets, not the hub's whole
        # staff.
        fellows = SitePerson.objects.filter(site_id=site, role=SitePerson.Role.AGENT)
        people |= (
            Q(pk__in=fellows.values("user_id"))
            | Q(Exists(mine.filter(requester_id=OuterRef("pk"))))
            | authors
            | assignees
        )
    elif role is Role.AGENT:
        people |= (
            Q(is_superuser=True)
            | Q(in_a_department())
            | Q(Exists(mine.filter(requester_id=OuterRef("pk"))))
            | authors
            | assignees
        )
    else:
        people |= assignees | authors
    return queryset.filter(people)


def sees_person_on(
    actor: Any, person: Any, ticket: Ticket, *, person_in_a_department: bool
) -> bool | None:
    """The in-memory twin of :func:`visible_users` for one person on a ticket ``actor`` can see
    (say, who made a change): True or False where memory is enough, None where only the
    database can tell (:func:`visible_users` then decides). ``person_in_a_department``: whether
    the person is a member of any department, as the query counts staff."""
    role = role_of(actor)
    site = site_of(actor)
    if role in (Role.ADMIN, Role.SYSTEM) or (
        role is Role.AGENT and escalated_settings.AGENT_SCOPE == "all" and site is None
    ):
        return True
    if role is Role.ANONYMOUS:
        return False
    if (actor.pk is not None and person.pk == actor.pk) or person.pk == ticket.assignee_id:
        return True
    if role is Role.AGENT and site is not None:
        return True if person.pk == ticket.requester_id else None
    if role is Role.AGENT and (
        person.is_superuser or person_in_a_department or person.pk == ticket.requester_id
    ):
        return True
    return None


class TicketAction(StrEnum):
    VIEW = "view"
    REPLY = "reply"
    CLOSE = "close"
    REOPEN = "reopen"
    WORK = "work"  # everything an agent does: notes, status, assignment, tags, departments…
    RATE = "rate"  # the requester's satisfaction rating: theirs alone, never staff's


def require_ticket_action(actor: Any, ticket: Ticket, action: TicketAction) -> None:
    """Raise :class:`NotAllowed` unless ``actor`` may take ``action`` on ``ticket``.

    Callers resolve the ticket through :func:`visible_tickets` first, so an invisible ticket is
    "not found" rather than "not allowed" and its existence does not leak.
    """
    if not (_in_sight(actor, ticket) or can_see_ticket(actor, ticket)):
        raise NotAllowed("You cannot see this ticket.")
    if action is TicketAction.RATE:
        if not is_requester(actor, ticket):
            raise NotAllowed("Only the person who asked for help can rate this ticket.")
        return
    if is_staff(actor):
        return
    if action in (TicketAction.VIEW, TicketAction.REPLY):
        return
    if role_of(actor) is Role.PARTICIPANT:
        raise NotAllowed("Someone copied on a ticket may only answer it.")
    if action is TicketAction.REOPEN:
        if role_of(actor) is Role.GUEST:
            raise NotAllowed("A guest link cannot reopen a ticket; reply, or ask the support team.")
        return
    if action is TicketAction.CLOSE:
        if escalated_settings.ALLOW_CUSTOMER_CLOSE:
            return
        raise NotAllowed("Only the support team can close tickets here.")
    raise NotAllowed("Only agents can do this.")


_kept_in_sight: contextvars.ContextVar[frozenset[tuple[Any, int]]] = contextvars.ContextVar(
    "escalated_kept_in_sight", default=frozenset()
)


def _actor_key(actor: Any) -> Any:
    if isinstance(actor, SystemActor | ParticipantActor):
        return actor.label
    return getattr(actor, "pk", None)


def _in_sight(actor: Any, ticket: Ticket) -> bool:
    return (_actor_key(actor), ticket.pk) in _kept_in_sight.get()


@contextmanager
def combined_action(actor: Any, ticket: Ticket) -> Iterator[None]:
    """Decide once, as the block begins, that ``actor`` can see ``ticket``; keep that decision for
    every step inside.

    For actions made of several steps (a bulk update, a macro): they are judged against the ticket
    as it was when they began, so a step that moves the ticket out of the actor's sight (to
    another department) does not refuse the steps after it. Each step's other rules still apply.
    """
    if not can_see_ticket(actor, ticket):
        raise NotAllowed("You cannot see this ticket.")
    token = _kept_in_sight.set(_kept_in_sight.get() | {(_actor_key(actor), ticket.pk)})
    try:
        yield
    finally:
        _kept_in_sight.reset(token)


def require_staff(actor: Any) -> None:
    if not is_staff(actor):
        raise NotAllowed("Only agents can do this.")


def require_admin(actor: Any) -> None:
    if role_of(actor) not in (Role.ADMIN, Role.SYSTEM):
        raise NotAllowed("Only helpdesk admins can do this.")


def require_signed_in(actor: Any) -> None:
    """A signed-in account; a guest's link is not one."""
    if role_of(actor) in (Role.ANONYMOUS, Role.GUEST):
        raise NotAllowed("Sign in first.")


def visible_attachments(actor: Any, queryset: QuerySet[Attachment]) -> QuerySet[Attachment]:
    """Files on visible tickets; a file on an internal note only for staff."""
    if not is_staff(actor):
        queryset = queryset.filter(Q(reply__isnull=True) | Q(reply__is_internal_note=False))
    scope = ticket_scope(actor, "ticket__")
    return queryset if scope is None else queryset.filter(scope)


def can_download(actor: Any, attachment: Attachment) -> bool:
    """The in-memory twin of :func:`visible_attachments`, for one file with its ticket and
    reply loaded."""
    if attachment.reply is not None and attachment.reply.is_internal_note and not is_staff(actor):
        return False
    return can_see_ticket(actor, attachment.ticket)


def visible_own_or_shared(actor: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Staff tools that are shared or personal (canned responses, macros): the shared ones and
    the actor's own, for staff; nothing for anyone else."""
    if not is_staff(actor):
        return queryset.none()
    return queryset.filter(Q(is_shared=True) | Q(owner_id=actor.pk))


def can_use_own_or_shared(actor: Any, obj: Any) -> bool:
    """The in-memory twin of :func:`visible_own_or_shared`, for one loaded object."""
    return is_staff(actor) and (obj.is_shared or obj.owner_id == actor.pk)


def require_may_manage(actor: Any, obj: Any) -> None:
    """Shared staff tools are the admins' to change; a personal one is its owner's (or an
    admin's)."""
    if obj.is_shared:
        require_admin(actor)
    elif role_of(actor) not in (Role.ADMIN, Role.SYSTEM) and obj.owner_id != actor.pk:
        raise NotAllowed("This belongs to another agent.")
