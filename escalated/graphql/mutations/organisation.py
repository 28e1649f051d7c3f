"""Mutations that manage departments, tags and canned responses."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Info, relay

from escalated.graphql.context import viewer
from escalated.graphql.enums import DepartmentAssignment
from escalated.graphql.errors import (
    UserError,
    admin_mutation_payload,
    mutation_payload,
    staff_mutation_payload,
)
from escalated.graphql.ids import load, load_many
from escalated.graphql.types import CannedResponseNode, DepartmentNode, TagNode, UserNode
from escalated.models import AssignmentMode
from escalated.services import organisation as service
from escalated.services.common import UNSET

Errors = strawberry.field(default_factory=list)


def _given(value: Any) -> Any:
    return UNSET if value is strawberry.UNSET or value is None else value


# --- departments ------------------------------------------------------------------------------


@strawberry.input
class DepartmentCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    slug: str = strawberry.field(default="", description="Made from the name when blank.")
    description: str = ""
    is_active: bool = True
    agent_ids: list[relay.GlobalID] | None = None
    assignment_mode: DepartmentAssignment = strawberry.field(
        default=AssignmentMode.OFF, description="How new tickets find an agent."
    )
    max_open_tickets_per_agent: int | None = strawberry.field(
        default=None, description="Auto-assignment skips agents holding this many open tickets."
    )


@strawberry.input
class DepartmentUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    agent_ids: list[relay.GlobalID] | None = strawberry.field(
        default=strawberry.UNSET, description="The department's whole list of agents."
    )
    assignment_mode: DepartmentAssignment | None = strawberry.UNSET
    max_open_tickets_per_agent: int | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the limit."
    )


@strawberry.input
class DepartmentDeleteInput:
    id: relay.GlobalID


@strawberry.type
class DepartmentCreatePayload:
    department: DepartmentNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class DepartmentUpdatePayload(DepartmentCreatePayload):
    pass


@strawberry.type
class DepartmentDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


# --- tags -------------------------------------------------------------------------------------


@strawberry.input
class TagCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    color: str = "#6B7280"
    slug: str = ""


@strawberry.input
class TagUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    color: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET


@strawberry.input
class TagDeleteInput:
    id: relay.GlobalID


@strawberry.type
class TagCreatePayload:
    tag: TagNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class TagUpdatePayload(TagCreatePayload):
    pass


@strawberry.type
class TagDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


# --- canned responses -------------------------------------------------------------------------


@strawberry.input
class CannedResponseCreateInput:
    title: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    body: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    category: str = ""
    is_shared: bool = strawberry.field(
        default=True, description="Shared with every agent (admins only), or personal."
    )


@strawberry.input
class CannedResponseUpdateInput:
    id: relay.GlobalID
    title: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    is_shared: bool | None = strawberry.UNSET


@strawberry.input
class CannedResponseDeleteInput:
    id: relay.GlobalID


@strawberry.type
class CannedResponseCreatePayload:
    canned_response: CannedResponseNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class CannedResponseUpdatePayload(CannedResponseCreatePayload):
    pass


@strawberry.type
class CannedResponseDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


def _agents(info: Info, gids: list[relay.GlobalID] | None) -> Any:
    if gids is strawberry.UNSET or gids is None:
        return UNSET
    return load_many(info, gids, UserNode, field="agent_ids")


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation(description="Create a department (admins).")
    @admin_mutation_payload
    def department_create(
        self, info: Info, input: DepartmentCreateInput
    ) -> DepartmentCreatePayload:
        department = service.department_create(
            actor=viewer(info),
            name=input.name,
            slug=input.slug,
            description=input.description,
            is_active=input.is_active,
            agents=load_many(info, input.agent_ids or [], UserNode, field="agent_ids"),
            assignment_mode=input.assignment_mode,
            max_open_tickets_per_agent=input.max_open_tickets_per_agent,
        )
        return DepartmentCreatePayload(department=department)

    @strawberry.mutation(description="Edit a department (admins).")
    @admin_mutation_payload
    def department_update(
        self, info: Info, input: DepartmentUpdateInput
    ) -> DepartmentUpdatePayload:
        department = service.department_update(
            actor=viewer(info),
            department=load(info, input.id, DepartmentNode, field="id"),
            name=_given(input.name),
            slug=_given(input.slug),
            description=_given(input.description),
            is_active=_given(input.is_active),
            agents=_agents(info, input.agent_ids),
            assignment_mode=_given(input.assignment_mode),
            # null is a value here: it removes the limit.
            max_open_tickets_per_agent=UNSET
            if input.max_open_tickets_per_agent is strawberry.UNSET
            else input.max_open_tickets_per_agent,
        )
        return DepartmentUpdatePayload(department=department)

    @strawberry.mutation(description="Delete a department; its tickets move to no department.")
    @admin_mutation_payload
    def department_delete(
        self, info: Info, input: DepartmentDeleteInput
    ) -> DepartmentDeletePayload:
        service.department_delete(
            actor=viewer(info), department=load(info, input.id, DepartmentNode, field="id")
        )
        return DepartmentDeletePayload(deleted_id=input.id)

    @strawberry.mutation(description="Create a tag (admins).")
    @admin_mutation_payload
    def tag_create(self, info: Info, input: TagCreateInput) -> TagCreatePayload:
        tag = service.tag_create(
            actor=viewer(info), name=input.name, color=input.color, slug=input.slug
        )
        return TagCreatePayload(tag=tag)

    @strawberry.mutation(description="Edit a tag (admins).")
    @admin_mutation_payload
    def tag_update(self, info: Info, input: TagUpdateInput) -> TagUpdatePayload:
        tag = service.tag_update(
            actor=viewer(info),
            tag=load(info, input.id, TagNode, field="id"),
            name=_given(input.name),
            color=_given(input.color),
            slug=_given(input.slug),
        )
        return TagUpdatePayload(tag=tag)

    @strawberry.mutation(description="Delete a tag; it comes off every ticket.")
    @admin_mutation_payload
    def tag_delete(self, info: Info, input: TagDeleteInput) -> TagDeletePayload:
        service.tag_delete(actor=viewer(info), tag=load(info, input.id, TagNode, field="id"))
        return TagDeletePayload(deleted_id=input.id)

    @strawberry.mutation(description="Save a canned response: shared (admins) or personal.")
    @mutation_payload
    def canned_response_create(
        self, info: Info, input: CannedResponseCreateInput
    ) -> CannedResponseCreatePayload:
        response = service.canned_response_create(
            actor=viewer(info),
            title=input.title,
            body=input.body,
            category=input.category,
            is_shared=input.is_shared,
        )
        return CannedResponseCreatePayload(canned_response=response)

    @strawberry.mutation(description="Edit a canned response.")
    @staff_mutation_payload
    def canned_response_update(
        self, info: Info, input: CannedResponseUpdateInput
    ) -> CannedResponseUpdatePayload:
        response = service.canned_response_update(
            actor=viewer(info),
            response=load(info, input.id, CannedResponseNode, field="id"),
            title=_given(input.title),
            body=_given(input.body),
            category=_given(input.category),
            is_shared=_given(input.is_shared),
        )
        return CannedResponseUpdatePayload(canned_response=response)

    @strawberry.mutation(description="Delete a canned response.")
    @staff_mutation_payload
    def canned_response_delete(
        self, info: Info, input: CannedResponseDeleteInput
    ) -> CannedResponseDeletePayload:
        service.canned_response_delete(
            actor=viewer(info), response=load(info, input.id, CannedResponseNode, field="id")
        )
        return CannedResponseDeletePayload(deleted_id=input.id)
