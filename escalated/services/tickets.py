"""Everything that changes a ticket: creating, replying, moving it through its life, routing it.

Each function is one action. It checks the rules, takes the ticket's row lock, changes the
ticket in one transaction, and records one event (see :mod:`escalated.events`). A call that
would change nothing returns without recording anything, so retries are harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from escalated import events
from escalated.access import (
    Role,
    TicketAction,
    bind_to_site,
    binding_of,
    can_see_ticket,
    combined_action,
    is_staff,
    require_signed_in,
    require_staff,
    require_ticket_action,
    role_of,
    site_of,
)
from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode, NotAllowed, Problem, collect
from escalated.models import (
    Attachment,
    Channel,
    Department,
    Priority,
    Reply,
    Site,
    SitePerson,
    Status,
    Tag,
    Ticket,
    TicketFollower,
    TicketType,
)
from escalated.services import routing
from escalated.services.attachments import (
    attachments_attach,
    attachments_check,
    attachments_store,
    attachments_write,
)
from escalated.services.common import (
    UNSET,
    Unset,
    active_department,
    choice,
    lock_ticket,
    ticket_save,
    ticket_transaction,
)
from escalated.services.ratelimit import message_budgets_take, requester_key
from escalated.services.references import next_ticket_reference
from escalated.services.shared_reads import shared_reads
from escalated.services.statuses import apply_status, can_move, require_move
from escalated.services.text import (
    MAX_BODY,
    MAX_SUBJECT,
    clean_html,
    optional_text,
    required_text,
)


def _assignee_problems(ticket: Ticket, assignee: Any) -> list[Problem]:
    """An assignee must be an agent or admin who can see the ticket. On a hub, a cloud-mode
    site's agent (the hub's person for them, in the role the site last asserted) is an agent
    of that site's tickets."""
    if (
        ticket.site_id is not None
        and binding_of(assignee) is None
        and SitePerson.objects.filter(
            site_id=ticket.site_id, user_id=assignee.pk, role=SitePerson.Role.AGENT
        ).exists()
    ):
        bind_to_site(assignee, site_id=ticket.site_id, role=Role.AGENT)
    if role_of(assignee) not in (Role.AGENT, Role.ADMIN) or not can_see_ticket(assignee, ticket):
        return [
            Problem(
                "That person cannot be assigned this ticket: they are not an agent of its "
                "department.",
                ErrorCode.INVALID_ASSIGNEE,
                "assignee_id",
            )
        ]
    return []


def is_agent_reply(ticket: Ticket, author: Any) -> bool:
    """A public reply answers the customer when staff wrote it and they are not the requester."""
    return is_staff(author) and getattr(author, "pk", None) != ticket.requester_id


def ticket_draft(
    *,
    subject: str | None,
    description: str | None,
    priority: str | None,
    ticket_type: str | None,
    channel: str,
    department: Department | None,
    requester: Any = None,
    assignee: Any = None,
) -> tuple[Ticket, list[Problem]]:
    """An unsaved ticket and every problem with it: the checks every way of opening one shares."""
    priority = priority or escalated_settings.DEFAULT_PRIORITY
    ticket_type = ticket_type or TicketType.QUESTION
    ticket = Ticket(
        subject=(subject or "").strip(),
        description=clean_html(description or ""),
        priority=priority,
        ticket_type=ticket_type,
        channel=channel,
        department=department,
        requester=requester,
        assignee=assignee,
    )
    problems = [
        *required_text(subject, field="subject", max_length=MAX_SUBJECT),
        *optional_text(description, field="description", max_length=MAX_BODY),
        *choice(priority, Priority, field="priority"),
        *choice(ticket_type, TicketType, field="ticket_type"),
        *choice(channel, Channel, field="channel"),
        *active_department(department, field="department_id"),
    ]
    if assignee is not None:
        problems += _assignee_problems(ticket, assignee)
    return ticket, problems


def ticket_save_new(ticket: Ticket, *, from_customer: bool) -> str:
    """Route, number and save a drafted ticket, inside the caller's transaction.

    A ticket nobody was assigned goes to the next available agent when its department
    auto-assigns. Returns the assignment mode that chose the assignee, or "" when none did.
    """
    routed = ""
    if ticket.assignee_id is None and ticket.department is not None:
        ticket.assignee = routing.next_agent(ticket.department)
        routed = ticket.department.assignment_mode if ticket.assignee is not None else ""
    ticket.reference = next_ticket_reference()
    if ticket.site_id is not None and not ticket.site_reference:
        ticket.site_reference = ticket.reference  # opened on the hub for a cloud-mode site
    if from_customer:
        ticket.last_customer_message_at = timezone.now()
    ticket.save()
    return routed


def ticket_create(
    *,
    actor: Any,
    subject: str | None,
    description: str | None = "",
    priority: str | None = None,
    ticket_type: str | None = None,
    channel: str = Channel.WEB,
    department: Department | None = None,
    requester: Any = None,
    assignee: Any = None,
    tags: Iterable[Tag] = (),
    attachments: Sequence[Any] = (),
) -> Ticket:
    """Open a ticket. Customers open their own; agents may open one for a requester, assign it
    and tag it. ``attachments`` are files (Django ``File`` objects) on the opening message."""
    require_signed_in(actor)
    tags = list(tags)
    staff = is_staff(actor)
    if not staff and (
        (requester is not None and requester.pk != actor.pk) or assignee is not None or tags
    ):
        raise NotAllowed("Only agents can open tickets for others, assign or tag them.")
    if requester is None and events.person(actor) is not None:
        requester = actor
    site_id = site_of(actor)
    if site_id is not None and department is None:
        # A cloud-mode site's ticket lands where the site's synced tickets would.
        site = Site.objects.select_related("department").filter(pk=site_id).first()
        department = site.department if site is not None else None
    ticket, problems = ticket_draft(
        subject=subject,
        description=description,
        priority=priority,
        ticket_type=ticket_type,
        channel=channel,
        department=department,
        requester=requester,
        assignee=assignee,
    )
    collect(problems)
    ticket.site_id = site_id
    files = attachments_check(attachments)
    message_budgets_take(
        ticket_id=None, requester=requester_key(actor), replies=0, files=len(files)
    )

    with transaction.atomic():
        # Files first: the reference counter stays locked from numbering until commit.
        written = attachments_write(files=files, uploader=actor)
        routed = ticket_save_new(
            ticket, from_customer=requester is not None and not (staff and requester.pk != actor.pk)
        )
        if tags:
            ticket.tags.add(*tags)
        stored = attachments_attach(written, ticket=ticket, reply=None)
        events.record(
            events.TicketCreated(
                ticket=ticket, actor=actor, attachments=tuple(stored), routed=routed
            )
        )
    return ticket


def ticket_update(
    *,
    ticket: Ticket,
    actor: Any,
    subject: str | Unset = UNSET,
    description: str | Unset = UNSET,
    ticket_type: str | Unset = UNSET,
) -> Ticket:
    """Edit a ticket's subject, description or type (agents only)."""
    problems: list[Problem] = []
    if subject is not UNSET:
        problems += required_text(subject, field="subject", max_length=MAX_SUBJECT)
        subject = subject.strip()
    if description is not UNSET:
        problems += optional_text(description, field="description", max_length=MAX_BODY)
        description = clean_html(description or "")
    if ticket_type is not UNSET:
        problems += choice(ticket_type, TicketType, field="ticket_type")
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        collect(problems)
        wanted = {"subject": subject, "description": description, "ticket_type": ticket_type}
        changes = {
            name: (getattr(ticket, name), value)
            for name, value in wanted.items()
            if value is not UNSET and getattr(ticket, name) != value
        }
        if not changes:
            return ticket
        for name, (_old, new) in changes.items():
            setattr(ticket, name, new)
        ticket.save(update_fields=[*changes, "updated_at"])
        events.record(events.TicketUpdated(ticket=ticket, actor=actor, changes=changes))
    return ticket


def _add_reply(
    ticket: Ticket,
    author: Any,
    body: str | None,
    files: list[Any],
    *,
    internal: bool,
    from_agent: bool,
) -> tuple[Reply, tuple[Attachment, ...]]:
    collect(required_text(body, field="body", max_length=MAX_BODY))
    cleaned = clean_html(body or "")
    if not cleaned:
        raise DomainError(
            "The message is empty once unsafe markup is removed.",
            code=ErrorCode.REQUIRED,
            field="body",
        )
    # Last of the checks, so that nothing refused above spends the ticket's budgets.
    message_budgets_take(
        ticket_id=ticket.pk, requester=requester_key(author), replies=1, files=len(files)
    )
    reply = Reply.objects.create(
        ticket=ticket,
        author=events.person(author),
        author_label=events.actor_label(author),
        body=cleaned,
        is_internal_note=internal,
        from_agent=from_agent,
    )
    stored = attachments_store(ticket=ticket, reply=reply, files=files, uploader=author)
    return reply, tuple(stored)


def ticket_reply(
    *, ticket: Ticket, author: Any, body: str | None, attachments: Sequence[Any] = ()
) -> Reply:
    """Post a public reply, with files if given, and move the ticket along.

    An agent's reply answers the customer: it sets ``first_response_at`` the first time and
    waits on the customer. A customer's reply to a ticket waiting on them hands it back to the
    agents, and a reply to a resolved ticket reopens it.
    """
    files = attachments_check(attachments)
    with transaction.atomic():
        # Whoever the reply notifies (the requester of an agent's reply, the assignee of a
        # customer's) is read with the ticket.
        ticket = lock_ticket(ticket, related=("requester", "assignee"))
        require_ticket_action(author, ticket, TicketAction.REPLY)
        if ticket.status == Status.CLOSED:
            reopen = "reopen it to reply" if role_of(author) is not Role.GUEST else "open a new one"
            raise DomainError(
                f"This ticket is closed; {reopen}.",
                code=ErrorCode.TICKET_CLOSED,
                field="ticket_id",
            )
        from_agent = is_agent_reply(ticket, author)
        reply, stored = _add_reply(
            ticket, author, body, files, internal=False, from_agent=from_agent
        )
        changed: list[str] = []
        if from_agent:
            target: str | None = Status.WAITING_ON_CUSTOMER
            if ticket.first_response_at is None:
                ticket.first_response_at = reply.created_at
                changed.append("first_response_at")
        else:
            ticket.last_customer_message_at = reply.created_at
            changed.append("last_customer_message_at")
            target = {
                Status.WAITING_ON_CUSTOMER: Status.WAITING_ON_AGENT,
                Status.RESOLVED: Status.REOPENED,
            }.get(Status(ticket.status))
        old_status = ticket.status
        status_change = None
        if target is not None and target != old_status and can_move(old_status, target):
            changed += apply_status(ticket, target, reply.created_at)
            status_change = (old_status, str(target))
        ticket.save(update_fields=[*changed, "updated_at"])
        events.record(
            events.ReplyAdded(
                ticket=ticket,
                actor=author,
                reply=reply,
                status_change=status_change,
                attachments=stored,
            )
        )
    return reply


def ticket_note_add(
    *, ticket: Ticket, author: Any, body: str | None, attachments: Sequence[Any] = ()
) -> Reply:
    """Add an internal note, with files if given: seen by staff only, never by the customer."""
    files = attachments_check(attachments)
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(author, ticket, TicketAction.WORK)
        reply, stored = _add_reply(ticket, author, body, files, internal=True, from_agent=True)
        ticket.save(update_fields=["updated_at"])
        events.record(
            events.ReplyAdded(ticket=ticket, actor=author, reply=reply, attachments=stored)
        )
    return reply


def ticket_note_pin(*, reply: Reply, actor: Any, pinned: bool = True) -> Reply:
    """Pin an internal note to the top of the ticket, or unpin it."""
    with transaction.atomic():
        ticket = lock_ticket(reply.ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        reply = Reply.objects.select_for_update().get(pk=reply.pk)
        if not reply.is_internal_note:
            raise DomainError(
                "Only internal notes can be pinned.", code=ErrorCode.INVALID, field="reply_id"
            )
        if reply.is_pinned == pinned:
            return reply
        reply.is_pinned = pinned
        reply.save(update_fields=["is_pinned", "updated_at"])
        events.record(events.NotePinned(ticket=ticket, actor=actor, reply=reply, pinned=pinned))
    return reply


def ticket_assign(*, ticket: Ticket, actor: Any, assignee: Any) -> Ticket:
    """Give the ticket to an agent, or take it from whoever has it (``assignee=None``)."""
    with ticket_transaction():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        if assignee is not None:
            collect(_assignee_problems(ticket, assignee))
        if ticket.assignee_id == (assignee.pk if assignee is not None else None):
            return ticket
        previous = ticket.assignee
        ticket.assignee = assignee
        ticket_save(ticket, ["assignee"])
        events.record(
            events.TicketAssigned(ticket=ticket, actor=actor, previous=previous, agent=assignee)
        )
    return ticket


def ticket_auto_assign(
    *, ticket: Ticket, actor: Any, department: Department | None = None, mode: str | None = None
) -> Any | None:
    """Give ``ticket`` to the next available agent of ``department`` (default: the ticket's own
    department), chosen as :func:`escalated.services.routing.next_agent` chooses.

    ``mode`` overrides the department's assignment mode: an escalation rule "assign round robin
    within a department" passes ``AssignmentMode.ROUND_ROBIN``. Returns the agent, or None when
    nobody is available, in which case the ticket is left as it was.
    """
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        department = department if department is not None else ticket.department
        agent = None if department is None else routing.next_agent(department, mode=mode)
        if agent is not None:
            ticket_assign(ticket=ticket, actor=actor, assignee=agent)
    return agent


def ticket_status_change(
    *,
    ticket: Ticket,
    actor: Any,
    status: str,
    reason: str = "",
    only_from: Iterable[str] | None = None,
    follow_transitions: bool = True,
) -> Ticket:
    """Move the ticket to ``status`` if the transition table allows it (and, when ``only_from``
    is given, only from one of those statuses). ``follow_transitions=False`` is for sync: the
    other instance already made this move under its own table, and both must end equal."""
    collect(choice(status, Status, field="status"))
    action = {Status.CLOSED: TicketAction.CLOSE, Status.REOPENED: TicketAction.REOPEN}.get(
        Status(status), TicketAction.WORK
    )
    with ticket_transaction():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, action)
        old = ticket.status
        if only_from is not None and old not in only_from:
            sources = " or ".join(sorted(set(only_from) - {status}))
            raise DomainError(
                f"This ticket is {old}; it can become {status} only when it is {sources}.",
                code=ErrorCode.INVALID_TRANSITION,
            )
        if old == status:
            return ticket
        if follow_transitions:
            require_move(old, status)
        changed = apply_status(ticket, status, timezone.now())
        ticket_save(ticket, changed)
        events.record(
            events.TicketStatusChanged(
                ticket=ticket, actor=actor, old=old, new=status, reason=reason
            )
        )
    return ticket


def ticket_resolve(*, ticket: Ticket, actor: Any) -> Ticket:
    return ticket_status_change(ticket=ticket, actor=actor, status=Status.RESOLVED)


def ticket_close(*, ticket: Ticket, actor: Any) -> Ticket:
    return ticket_status_change(ticket=ticket, actor=actor, status=Status.CLOSED)


def ticket_reopen(*, ticket: Ticket, actor: Any) -> Ticket:
    """Reopen a resolved or closed ticket; from any other status there is nothing to reopen,
    whatever STATUS_TRANSITIONS says. (Reopening a reopened ticket is a harmless retry.)"""
    return ticket_status_change(
        ticket=ticket,
        actor=actor,
        status=Status.REOPENED,
        only_from=(Status.RESOLVED, Status.CLOSED, Status.REOPENED),
    )


def ticket_escalate(*, ticket: Ticket, actor: Any, reason: str = "") -> Ticket:
    return ticket_status_change(ticket=ticket, actor=actor, status=Status.ESCALATED, reason=reason)


def ticket_priority_change(*, ticket: Ticket, actor: Any, priority: str) -> Ticket:
    collect(choice(priority, Priority, field="priority"))
    with ticket_transaction():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        old = ticket.priority
        if old == priority:
            return ticket
        ticket.priority = priority
        ticket_save(ticket, ["priority"])
        events.record(
            events.TicketPriorityChanged(ticket=ticket, actor=actor, old=old, new=priority)
        )
    return ticket


def ticket_department_change(
    *, ticket: Ticket, actor: Any, department: Department | None
) -> Ticket:
    """Move the ticket to another department's queue (None: to no department)."""
    collect(active_department(department, field="department_id"))
    with ticket_transaction():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        old = ticket.department
        if ticket.department_id == (department.pk if department else None):
            return ticket
        ticket.department = department
        ticket_save(ticket, ["department"])
        events.record(
            events.TicketDepartmentChanged(ticket=ticket, actor=actor, old=old, new=department)
        )
    return ticket


def ticket_tags_add(*, ticket: Ticket, actor: Any, tags: Iterable[Tag]) -> Ticket:
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        present = set(ticket.tags.values_list("id", flat=True))
        added = tuple({tag.pk: tag for tag in tags if tag.pk not in present}.values())
        if not added:
            return ticket
        ticket.tags.add(*added)
        ticket.save(update_fields=["updated_at"])
        events.record(events.TicketTagsChanged(ticket=ticket, actor=actor, added=added))
    return ticket


def ticket_tags_remove(*, ticket: Ticket, actor: Any, tags: Iterable[Tag]) -> Ticket:
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        present = set(ticket.tags.values_list("id", flat=True))
        removed = tuple({tag.pk: tag for tag in tags if tag.pk in present}.values())
        if not removed:
            return ticket
        ticket.tags.remove(*removed)
        ticket.save(update_fields=["updated_at"])
        events.record(events.TicketTagsChanged(ticket=ticket, actor=actor, removed=removed))
    return ticket


def ticket_follow(*, ticket: Ticket, actor: Any, following: bool = True) -> Ticket:
    """Follow a ticket to hear about its changes (agents only), or stop following it."""
    require_staff(actor)
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        if following:
            _row, changed = TicketFollower.objects.get_or_create(ticket=ticket, user=actor)
        else:
            changed = TicketFollower.objects.filter(ticket=ticket, user=actor).delete()[0] > 0
        if changed:
            events.record(
                events.TicketFollowChanged(ticket=ticket, actor=actor, following=following)
            )
    return ticket


def ticket_unfollow(*, ticket: Ticket, actor: Any) -> Ticket:
    return ticket_follow(ticket=ticket, actor=actor, following=False)


# --- bulk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkChanges:
    """What a bulk update does to each ticket; UNSET parts are left alone."""

    status: str | Unset = UNSET
    priority: str | Unset = UNSET
    assignee: Any = UNSET  # a user, None to unassign, or UNSET
    department: Department | Unset | None = UNSET
    add_tags: tuple[Tag, ...] = ()
    remove_tags: tuple[Tag, ...] = ()

    def is_empty(self) -> bool:
        parts = (self.status, self.priority, self.assignee, self.department)
        return all(p is UNSET for p in parts) and not self.add_tags and not self.remove_tags


@dataclass
class BulkResult:
    ticket: Ticket
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def require_batch_size(count: int, *, field: str = "ticket_ids") -> None:
    """Requests that act on many tickets take at most a page of the queue (MAX_PAGE_SIZE) at a
    time, so one request stays short. (Python callers may pass as many as they like.)"""
    limit = escalated_settings.MAX_PAGE_SIZE
    if count > limit:
        raise DomainError(
            f"{count} tickets were given; act on at most {limit} at a time.",
            code=ErrorCode.INVALID,
            field=field,
        )


def tickets_each(
    *,
    tickets: Iterable[Ticket],
    actor: Any,
    apply: Callable[[Ticket], Ticket],
    verb: str,
    context: dict[str, Any] | None = None,
) -> list[BulkResult]:
    """Run ``apply`` on each ticket on its own, all or nothing per ticket.

    One ticket's refusal does not stop the others. Each ticket's changes are judged against the
    ticket as it was when they began (see :func:`escalated.access.combined_action`) and leave one
    activity row named ``verb`` (with ``context``).
    """
    results = []
    with shared_reads():
        for ticket in tickets:
            result = BulkResult(ticket)
            try:
                with (
                    transaction.atomic(),
                    events.one_activity(verb, context=context),
                    combined_action(actor, ticket),
                ):
                    result.ticket = apply(ticket)
            except DomainError as error:
                result.problems = error.problems
            except NotAllowed as refusal:
                result.problems = [Problem(str(refusal), ErrorCode.NOT_ALLOWED, None)]
            results.append(result)
    return results


def tickets_bulk_update(
    *, tickets: Iterable[Ticket], actor: Any, changes: BulkChanges
) -> list[BulkResult]:
    """Apply ``changes`` to each ticket on its own: one ticket's refusal does not stop the others,
    and each changed ticket gets one activity row for the whole update."""
    require_staff(actor)
    if changes.is_empty():
        raise DomainError("Choose at least one change to apply.", code=ErrorCode.REQUIRED)
    return tickets_each(
        tickets=tickets,
        actor=actor,
        apply=lambda ticket: _apply_bulk(ticket, actor, changes),
        verb="bulk_updated",
    )


def _apply_bulk(ticket: Ticket, actor: Any, changes: BulkChanges) -> Ticket:
    if changes.department is not UNSET:
        ticket = ticket_department_change(ticket=ticket, actor=actor, department=changes.department)
    if changes.assignee is not UNSET:
        ticket = ticket_assign(ticket=ticket, actor=actor, assignee=changes.assignee)
    if changes.priority is not UNSET:
        ticket = ticket_priority_change(ticket=ticket, actor=actor, priority=changes.priority)
    if changes.add_tags:
        ticket = ticket_tags_add(ticket=ticket, actor=actor, tags=changes.add_tags)
    if changes.remove_tags:
        ticket = ticket_tags_remove(ticket=ticket, actor=actor, tags=changes.remove_tags)
    if changes.status is not UNSET:
        ticket = ticket_status_change(ticket=ticket, actor=actor, status=changes.status)
    return ticket
