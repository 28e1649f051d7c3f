"""Macro mutations: manage macros, and apply one to tickets."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Info, relay

from escalated.errors import DomainError, Problem, collect
from escalated.graphql.context import viewer
from escalated.graphql.enums import MacroActionType, TicketPriority, TicketStatus
from escalated.graphql.errors import UserError, staff_mutation_payload
from escalated.graphql.ids import load
from escalated.graphql.mutations.tickets import TicketBulkResult, bulk_results
from escalated.graphql.types import DepartmentNode, MacroNode, TagNode, UserNode
from escalated.services import macros as service
from escalated.services.common import UNSET

Errors = strawberry.field(default_factory=list)


@strawberry.input(description="One step of a macro; set the fields its type uses.")
class MacroActionInput:
    type: MacroActionType
    status: TicketStatus | None = strawberry.field(default=None, description="SET_STATUS.")
    priority: TicketPriority | None = strawberry.field(default=None, description="SET_PRIORITY.")
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="SET_DEPARTMENT; null moves the ticket to no department."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="SET_ASSIGNEE; null unassigns."
    )
    tag_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="ADD_TAGS, REMOVE_TAGS."
    )
    body: str | None = strawberry.field(
        default=None,
        description="ADD_REPLY, ADD_NOTE: HTML; placeholders such as {{ requester.first_name }} "
        "are filled in for each ticket.",
    )


@strawberry.input
class MacroCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    description: str = ""
    is_shared: bool = strawberry.field(
        default=True, description="Shared with every agent (admins only), or personal."
    )
    actions: list[MacroActionInput] = strawberry.field(
        default_factory=list, description="The steps, in the order they run (at least one)."
    )


@strawberry.input
class MacroUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_shared: bool | None = strawberry.UNSET
    actions: list[MacroActionInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the whole list."
    )


@strawberry.input
class MacroDeleteInput:
    id: relay.GlobalID


@strawberry.input
class MacroApplyInput:
    macro_id: relay.GlobalID
    ticket_ids: list[relay.GlobalID]


@strawberry.type
class MacroCreatePayload:
    macro: MacroNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class MacroUpdatePayload(MacroCreatePayload):
    pass


@strawberry.type
class MacroDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


@strawberry.type
class MacroApplyPayload:
    results: list[TicketBulkResult] = strawberry.field(default_factory=list)
    errors: list[UserError] = Errors


def _given(value: Any) -> Any:
    return UNSET if value is strawberry.UNSET or value is None else value


def _actions(info: Info, inputs: list[MacroActionInput]) -> list[service.MacroAction]:
    """The inputs as service actions, with every id loaded through the viewer's scope; every id
    that names nothing is reported at once."""
    problems: list[Problem] = []

    def pk(gid: relay.GlobalID | None, node: type, field: str) -> Any:
        if gid is None:
            return None
        try:
            return load(info, gid, node, field=field).pk
        except DomainError as error:
            problems.extend(error.problems)
            return None

    actions = []
    for index, item in enumerate(inputs):
        where = f"actions.{index}"
        actions.append(
            service.MacroAction(
                type=item.type,
                status=item.status,
                priority=item.priority,
                department_id=pk(item.department_id, DepartmentNode, f"{where}.department_id"),
                assignee_id=pk(item.assignee_id, UserNode, f"{where}.assignee_id"),
                tag_ids=tuple(pk(t, TagNode, f"{where}.tag_ids") for t in item.tag_ids or []),
                body=item.body,
            )
        )
    collect(problems)
    return actions


@strawberry.type
class MacroMutations:
    @strawberry.mutation(description="Save a macro: shared (admins) or personal.")
    @staff_mutation_payload
    def macro_create(self, info: Info, input: MacroCreateInput) -> MacroCreatePayload:
        macro = service.macro_create(
            actor=viewer(info),
            name=input.name,
            description=input.description,
            is_shared=input.is_shared,
            actions=_actions(info, input.actions),
        )
        return MacroCreatePayload(macro=macro)

    @strawberry.mutation(description="Edit a macro.")
    @staff_mutation_payload
    def macro_update(self, info: Info, input: MacroUpdateInput) -> MacroUpdatePayload:
        macro = service.macro_update(
            actor=viewer(info),
            macro=load(info, input.id, MacroNode, field="id"),
            name=_given(input.name),
            description=_given(input.description),
            is_shared=_given(input.is_shared),
            actions=UNSET
            if input.actions in (None, strawberry.UNSET)
            else _actions(info, input.actions),
        )
        return MacroUpdatePayload(macro=macro)

    @strawberry.mutation(description="Delete a macro.")
    @staff_mutation_payload
    def macro_delete(self, info: Info, input: MacroDeleteInput) -> MacroDeletePayload:
        service.macro_delete(actor=viewer(info), macro=load(info, input.id, MacroNode, field="id"))
        return MacroDeletePayload(deleted_id=input.id)

    @strawberry.mutation(
        description="Apply a macro to tickets: on each ticket all of its actions or none."
    )
    @staff_mutation_payload
    def macro_apply(self, info: Info, input: MacroApplyInput) -> MacroApplyPayload:
        macro = load(info, input.macro_id, MacroNode, field="macro_id")
        results = bulk_results(
            info,
            input.ticket_ids,
            lambda tickets: service.macro_apply(macro=macro, tickets=tickets, actor=viewer(info)),
        )
        return MacroApplyPayload(results=results)
