"""Ticket mutations. Each loads what its input names through the viewer's scope, calls one service,
and answers with a payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry
from strawberry import Info, relay
from strawberry.file_uploads import Upload

from escalated.access import is_staff
from escalated.errors import DomainError, ErrorCode, NotAllowed
from escalated.graphql.context import api_token, viewer
from escalated.graphql.enums import TicketChannel, TicketKind, TicketPriority, TicketStatus
from escalated.graphql.errors import (
    UserError,
    guest_mutation_payload,
    mutation_payload,
    staff_mutation_payload,
    user_errors,
)
from escalated.graphql.ids import load, load_each, load_many, load_optional
from escalated.graphql.types import DepartmentNode, ReplyNode, TagNode, TicketNode, UserNode
from escalated.models import Channel, Status, Ticket
from escalated.services import tickets as service
from escalated.services.common import UNSET

Errors = strawberry.field(default_factory=list)
T = TypeVar("T")


def _ticket(info: Info, gid: relay.GlobalID) -> Ticket:
    return load(info, gid, TicketNode, field="ticket_id")


# --- inputs and payloads ----------------------------------------------------------------------


# People's text follows one rule: a ticket's description is cleaned like a reply's body.
DESCRIPTION = "HTML; unsafe markup is removed, as from a reply's body."


@strawberry.input
class TicketCreateInput:
    subject: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    description: str = strawberry.field(default="", description=DESCRIPTION)
    priority: TicketPriority | None = None
    ticket_type: TicketKind | None = None
    channel: TicketChannel | None = strawberry.field(
        default=None, description="Defaults to API for token clients, WEB otherwise."
    )
    department_id: relay.GlobalID | None = None
    requester_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Staff only: open the ticket for this person."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(default=None, description="Staff only.")
    tag_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="Staff only.")
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Files, sent as a GraphQL multipart request (MAX_ATTACHMENTS files of at "
        "most MAX_ATTACHMENT_SIZE_KB each, of an allowed type).",
    )


@strawberry.type
class TicketCreatePayload:
    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


@strawberry.input
class TicketUpdateInput:
    id: relay.GlobalID
    subject: str | None = strawberry.UNSET
    description: str | None = strawberry.field(default=strawberry.UNSET, description=DESCRIPTION)
    ticket_type: TicketKind | None = strawberry.UNSET


@strawberry.type
class TicketUpdatePayload:
    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


@strawberry.input
class TicketReplyInput:
    ticket_id: relay.GlobalID
    body: str | None = strawberry.field(
        default=None,
        description="HTML; unsafe markup is removed (as from a ticket's description). Required.",
    )
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Files, sent as a GraphQL multipart request (MAX_ATTACHMENTS files of at "
        "most MAX_ATTACHMENT_SIZE_KB each, of an allowed type).",
    )


@strawberry.type
class TicketReplyPayload:
    reply: ReplyNode | None = None
    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


@strawberry.input
class TicketNoteAddInput:
    ticket_id: relay.GlobalID
    body: str | None = strawberry.field(default=None, description="HTML. Required.")
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Files, sent as a GraphQL multipart request (MAX_ATTACHMENTS files of at "
        "most MAX_ATTACHMENT_SIZE_KB each, of an allowed type).",
    )


@strawberry.type
class TicketNoteAddPayload:
    reply: ReplyNode | None = None
    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


@strawberry.input
class TicketNotePinInput:
    reply_id: relay.GlobalID
    pinned: bool = True


@strawberry.type
class TicketNotePinPayload:
    reply: ReplyNode | None = None
    errors: list[UserError] = Errors


@strawberry.input
class TicketAssignInput:
    ticket_id: relay.GlobalID
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The agent to assign; null unassigns."
    )


@strawberry.input
class TicketStatusChangeInput:
    ticket_id: relay.GlobalID
    status: TicketStatus
    reason: str = strawberry.field(default="", description="Recorded with an escalation.")


@strawberry.input
class TicketIdInput:
    ticket_id: relay.GlobalID


@strawberry.input
class TicketPriorityChangeInput:
    ticket_id: relay.GlobalID
    priority: TicketPriority


@strawberry.input
class TicketDepartmentChangeInput:
    ticket_id: relay.GlobalID
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="null moves the ticket out of every department."
    )


@strawberry.input
class TicketTagsInput:
    ticket_id: relay.GlobalID
    tag_ids: list[relay.GlobalID]


@strawberry.type
class TicketPayload:
    """The shape every single-ticket change answers with."""

    ticket: TicketNode | None = None
    errors: list[UserError] = Errors


# The contract names one input and one payload per mutation; many share a shape.


@strawberry.type
class TicketAssignPayload(TicketPayload):
    pass


@strawberry.type
class TicketStatusChangePayload(TicketPayload):
    pass


@strawberry.input
class TicketResolveInput(TicketIdInput):
    pass


@strawberry.type
class TicketResolvePayload(TicketPayload):
    pass


@strawberry.input
class TicketCloseInput(TicketIdInput):
    pass


@strawberry.type
class TicketClosePayload(TicketPayload):
    pass


@strawberry.input
class TicketReopenInput(TicketIdInput):
    pass


@strawberry.type
class TicketReopenPayload(TicketPayload):
    pass


@strawberry.type
class TicketPriorityChangePayload(TicketPayload):
    pass


@strawberry.type
class TicketDepartmentChangePayload(TicketPayload):
    pass


@strawberry.input
class TicketTagsAddInput(TicketTagsInput):
    pass


@strawberry.type
class TicketTagsAddPayload(TicketPayload):
    pass


@strawberry.input
class TicketTagsRemoveInput(TicketTagsInput):
    pass


@strawberry.type
class TicketTagsRemovePayload(TicketPayload):
    pass


@strawberry.input
class TicketFollowInput(TicketIdInput):
    pass


@strawberry.type
class TicketFollowPayload(TicketPayload):
    pass


@strawberry.input
class TicketUnfollowInput(TicketIdInput):
    pass


@strawberry.type
class TicketUnfollowPayload(TicketPayload):
    pass


@strawberry.input(description="Changes to apply to each ticket; omitted parts are left alone.")
class TicketsBulkUpdateInput:
    ticket_ids: list[relay.GlobalID]
    status: TicketStatus | None = strawberry.UNSET
    priority: TicketPriority | None = strawberry.UNSET
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="An agent to assign; null unassigns."
    )
    department_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A department; null moves out of every department."
    )
    add_tag_ids: list[relay.GlobalID] | None = None
    remove_tag_ids: list[relay.GlobalID] | None = None
    close: bool = strawberry.field(default=False, description="Close each ticket.")


@strawberry.type(description="What happened to one ticket of a bulk update.")
class TicketBulkResult:
    ticket_id: relay.GlobalID
    ticket: TicketNode | None
    errors: list[UserError]


@strawberry.type
class TicketsBulkUpdatePayload:
    results: list[TicketBulkResult] = strawberry.field(default_factory=list)
    errors: list[UserError] = Errors


# --- the mutations ----------------------------------------------------------------------------


def _given(value: object) -> object:
    """Strawberry's UNSET (field omitted) as the services' UNSET."""
    return UNSET if value is strawberry.UNSET else value


@strawberry.type
class TicketMutations:
    @strawberry.mutation(description="Open a ticket.")
    @mutation_payload
    def ticket_create(self, info: Info, input: TicketCreateInput) -> TicketCreatePayload:
        actor = viewer(info)
        staff = is_staff(actor)
        channel = input.channel or (Channel.API if api_token(info) else Channel.WEB)
        ticket = service.ticket_create(
            actor=actor,
            subject=input.subject,
            description=input.description,
            priority=input.priority,
            ticket_type=input.ticket_type,
            channel=channel,
            department=load_optional(
                info, input.department_id, DepartmentNode, field="department_id"
            ),
            requester=load_optional(info, input.requester_id, UserNode, field="requester_id")
            if staff
            else _own(actor, input.requester_id),
            assignee=load_optional(info, input.assignee_id, UserNode, field="assignee_id")
            if staff
            else _refuse_if_given(input.assignee_id),
            tags=load_many(info, input.tag_ids or [], TagNode, field="tag_ids")
            if staff
            else _refuse_if_given(input.tag_ids) or [],
            attachments=input.attachments or (),
        )
        return TicketCreatePayload(ticket=ticket)

    @strawberry.mutation(description="Edit a ticket's subject, description or type (staff).")
    @staff_mutation_payload
    def ticket_update(self, info: Info, input: TicketUpdateInput) -> TicketUpdatePayload:
        ticket = service.ticket_update(
            ticket=load(info, input.id, TicketNode, field="id"),
            actor=viewer(info),
            subject=_given(input.subject),
            description=_given(input.description),
            ticket_type=_given(input.ticket_type),
        )
        return TicketUpdatePayload(ticket=ticket)

    @strawberry.mutation(description="Post a public reply (guests too, on their own ticket).")
    @guest_mutation_payload
    def ticket_reply(self, info: Info, input: TicketReplyInput) -> TicketReplyPayload:
        reply = service.ticket_reply(
            ticket=_ticket(info, input.ticket_id),
            author=viewer(info),
            body=input.body,
            attachments=input.attachments or (),
        )
        return TicketReplyPayload(reply=reply, ticket=reply.ticket)

    @strawberry.mutation(description="Add an internal note, seen by staff only.")
    @staff_mutation_payload
    def ticket_note_add(self, info: Info, input: TicketNoteAddInput) -> TicketNoteAddPayload:
        reply = service.ticket_note_add(
            ticket=_ticket(info, input.ticket_id),
            author=viewer(info),
            body=input.body,
            attachments=input.attachments or (),
        )
        return TicketNoteAddPayload(reply=reply, ticket=reply.ticket)

    @strawberry.mutation(description="Pin an internal note to the top of its ticket, or unpin it.")
    @staff_mutation_payload
    def ticket_note_pin(self, info: Info, input: TicketNotePinInput) -> TicketNotePinPayload:
        reply = service.ticket_note_pin(
            reply=load(info, input.reply_id, ReplyNode, field="reply_id"),
            actor=viewer(info),
            pinned=input.pinned,
        )
        return TicketNotePinPayload(reply=reply)

    @strawberry.mutation(description="Assign the ticket to an agent; a null assigneeId unassigns.")
    @staff_mutation_payload
    def ticket_assign(self, info: Info, input: TicketAssignInput) -> TicketAssignPayload:
        ticket = service.ticket_assign(
            ticket=_ticket(info, input.ticket_id),
            actor=viewer(info),
            assignee=load_optional(info, input.assignee_id, UserNode, field="assignee_id"),
        )
        return TicketAssignPayload(ticket=ticket)

    @strawberry.mutation(description="Move the ticket to another status.")
    @staff_mutation_payload
    def ticket_status_change(
        self, info: Info, input: TicketStatusChangeInput
    ) -> TicketStatusChangePayload:
        ticket = service.ticket_status_change(
            ticket=_ticket(info, input.ticket_id),
            actor=viewer(info),
            status=input.status,
            reason=input.reason,
        )
        return TicketStatusChangePayload(ticket=ticket)

    @strawberry.mutation(description="Mark the ticket resolved.")
    @staff_mutation_payload
    def ticket_resolve(self, info: Info, input: TicketResolveInput) -> TicketResolvePayload:
        ticket = service.ticket_resolve(ticket=_ticket(info, input.ticket_id), actor=viewer(info))
        return TicketResolvePayload(ticket=ticket)

    @strawberry.mutation(
        description="Close the ticket (its customer or guest too, when ALLOW_CUSTOMER_CLOSE)."
    )
    @guest_mutation_payload
    def ticket_close(self, info: Info, input: TicketCloseInput) -> TicketClosePayload:
        ticket = service.ticket_close(ticket=_ticket(info, input.ticket_id), actor=viewer(info))
        return TicketClosePayload(ticket=ticket)

    @strawberry.mutation(
        description="Reopen a resolved or closed ticket (staff, and the customer who asked)."
    )
    @mutation_payload
    def ticket_reopen(self, info: Info, input: TicketReopenInput) -> TicketReopenPayload:
        ticket = service.ticket_reopen(ticket=_ticket(info, input.ticket_id), actor=viewer(info))
        return TicketReopenPayload(ticket=ticket)

    @strawberry.mutation(description="Change the ticket's priority.")
    @staff_mutation_payload
    def ticket_priority_change(
        self, info: Info, input: TicketPriorityChangeInput
    ) -> TicketPriorityChangePayload:
        ticket = service.ticket_priority_change(
            ticket=_ticket(info, input.ticket_id), actor=viewer(info), priority=input.priority
        )
        return TicketPriorityChangePayload(ticket=ticket)

    @strawberry.mutation(description="Move the ticket to another department's queue.")
    @staff_mutation_payload
    def ticket_department_change(
        self, info: Info, input: TicketDepartmentChangeInput
    ) -> TicketDepartmentChangePayload:
        ticket = service.ticket_department_change(
            ticket=_ticket(info, input.ticket_id),
            actor=viewer(info),
            department=load_optional(
                info, input.department_id, DepartmentNode, field="department_id"
            ),
        )
        return TicketDepartmentChangePayload(ticket=ticket)

    @strawberry.mutation(description="Add tags to the ticket.")
    @staff_mutation_payload
    def ticket_tags_add(self, info: Info, input: TicketTagsAddInput) -> TicketTagsAddPayload:
        ticket = service.ticket_tags_add(
            ticket=_ticket(info, input.ticket_id),
            actor=viewer(info),
            tags=load_many(info, input.tag_ids, TagNode, field="tag_ids"),
        )
        return TicketTagsAddPayload(ticket=ticket)

    @strawberry.mutation(description="Remove tags from the ticket.")
    @staff_mutation_payload
    def ticket_tags_remove(
        self, info: Info, input: TicketTagsRemoveInput
    ) -> TicketTagsRemovePayload:
        ticket = service.ticket_tags_remove(
            ticket=_ticket(info, input.ticket_id),
            actor=viewer(info),
            tags=load_many(info, input.tag_ids, TagNode, field="tag_ids"),
        )
        return TicketTagsRemovePayload(ticket=ticket)

    @strawberry.mutation(description="Follow the ticket (staff).")
    @staff_mutation_payload
    def ticket_follow(self, info: Info, input: TicketFollowInput) -> TicketFollowPayload:
        ticket = service.ticket_follow(ticket=_ticket(info, input.ticket_id), actor=viewer(info))
        return TicketFollowPayload(ticket=ticket)

    @strawberry.mutation(description="Stop following the ticket.")
    @staff_mutation_payload
    def ticket_unfollow(self, info: Info, input: TicketUnfollowInput) -> TicketUnfollowPayload:
        ticket = service.ticket_unfollow(ticket=_ticket(info, input.ticket_id), actor=viewer(info))
        return TicketUnfollowPayload(ticket=ticket)

    @strawberry.mutation(
        description="Apply the same changes to many tickets; each succeeds or fails on its own."
    )
    @staff_mutation_payload
    def tickets_bulk_update(
        self, info: Info, input: TicketsBulkUpdateInput
    ) -> TicketsBulkUpdatePayload:
        status = _given(input.status)
        if input.close and status not in (UNSET, Status.CLOSED):
            raise DomainError(
                "Give either close or another status, not both.",
                code=ErrorCode.INVALID,
                field="close",
            )
        changes = service.BulkChanges(
            status=Status.CLOSED if input.close else status,
            priority=_given(input.priority),
            assignee=_load_unset(info, input.assignee_id, UserNode, "assignee_id"),
            department=_load_unset(info, input.department_id, DepartmentNode, "department_id"),
            add_tags=tuple(load_many(info, input.add_tag_ids or [], TagNode, field="add_tag_ids")),
            remove_tags=tuple(
                load_many(info, input.remove_tag_ids or [], TagNode, field="remove_tag_ids")
            ),
        )
        results = bulk_results(
            info,
            input.ticket_ids,
            lambda tickets: service.tickets_bulk_update(
                tickets=tickets, actor=viewer(info), changes=changes
            ),
        )
        return TicketsBulkUpdatePayload(results=results)


def bulk_results(
    info: Info,
    gids: list[relay.GlobalID],
    run: Callable[[list[Ticket]], list[service.BulkResult]],
) -> list[TicketBulkResult]:
    """Load each ticket id through the viewer's scope, ``run`` the action on those found, and
    answer one result per id, in the order given (an id naming nothing visible: NOT_FOUND)."""
    service.require_batch_size(len(gids))
    loaded: list[Ticket | DomainError] = load_each(info, gids, TicketNode, field="ticket_ids")
    outcomes = iter(run([t for t in loaded if isinstance(t, Ticket)]))
    results = []
    for gid, item in zip(gids, loaded, strict=True):
        if isinstance(item, DomainError):
            results.append(
                TicketBulkResult(ticket_id=gid, ticket=None, errors=user_errors(item.problems))
            )
            continue
        outcome = next(outcomes)
        results.append(
            TicketBulkResult(
                ticket_id=gid,
                ticket=outcome.ticket if outcome.ok else None,
                errors=user_errors(outcome.problems),
            )
        )
    return results


def _own(actor: object, requester_id: relay.GlobalID | None) -> object:
    """A customer can only open a ticket for themselves."""
    if requester_id is not None and str(requester_id.node_id) != str(getattr(actor, "pk", "")):
        raise NotAllowed("Only agents can open tickets for others.")
    return None


def _refuse_if_given(value: T) -> T:
    """Customers may not set staff-only fields: refuse them when given."""
    if value:
        raise NotAllowed("Only agents can assign or tag tickets.")
    return value


def _load_unset(info: Info, gid: relay.GlobalID | None, node: type, field: str) -> object:
    if gid is strawberry.UNSET:
        return UNSET
    return load_optional(info, gid, node, field=field)
