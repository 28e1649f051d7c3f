"""Mutations that manage escalation rules (admins).

The inputs take the shared admin form's shape as it is: conditions as ``{field, value}`` rows
(the operator may be left out) and actions as ``{type, value}``; what is saved reads back the
same way.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Info, relay

from escalated.graphql.context import viewer
from escalated.graphql.errors import UserError, admin_mutation_payload
from escalated.graphql.escalation import (
    EscalationActionInput,
    EscalationConditionInput,
    EscalationMatch,
    EscalationRuleNode,
    EscalationTrigger,
    actions_from_api,
    conditions_from_api,
    given,
)
from escalated.graphql.ids import load, load_many
from escalated.models import RuleMatch
from escalated.services.common import UNSET
from escalated.services.escalation import rules as service

Errors = strawberry.field(default_factory=list)


@strawberry.input
class EscalationRuleCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    trigger: EscalationTrigger | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    conditions: list[EscalationConditionInput] = strawberry.field(
        default_factory=list, description="None: the rule matches every open ticket."
    )
    actions: list[EscalationActionInput] | None = strawberry.field(
        default=None, description="At least one, run in this order."
    )
    match: EscalationMatch = RuleMatch.ALL
    description: str = ""
    category: str = ""
    order: int | None = strawberry.field(default=None, description="Default: after the others.")
    is_active: bool = True
    stop_processing: bool = strawberry.field(
        default=False, description="Later rules leave alone the tickets this rule matches."
    )


@strawberry.input(description="Parts left out (or null) stay as they are.")
class EscalationRuleUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    trigger: EscalationTrigger | None = strawberry.UNSET
    conditions: list[EscalationConditionInput] | None = strawberry.UNSET
    actions: list[EscalationActionInput] | None = strawberry.UNSET
    match: EscalationMatch | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    order: int | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    stop_processing: bool | None = strawberry.UNSET


@strawberry.input
class EscalationRuleDeleteInput:
    id: relay.GlobalID


@strawberry.input
class EscalationRuleReorderInput:
    ids: list[relay.GlobalID] = strawberry.field(
        description="Every rule, once, in the order they should be looked at."
    )


@strawberry.type
class EscalationRuleCreatePayload:
    escalation_rule: EscalationRuleNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class EscalationRuleUpdatePayload(EscalationRuleCreatePayload):
    pass


@strawberry.type
class EscalationRuleDeletePayload:
    deleted_id: relay.GlobalID | None = None
    errors: list[UserError] = Errors


@strawberry.type
class EscalationRuleReorderPayload:
    escalation_rules: list[EscalationRuleNode] | None = None
    errors: list[UserError] = Errors


def _rule(info: Info, gid: relay.GlobalID) -> Any:
    return load(info, gid, EscalationRuleNode, field="id")


@strawberry.type
class EscalationMutations:
    @strawberry.mutation(description="Create an escalation rule (admins).")
    @admin_mutation_payload
    def escalation_rule_create(
        self, info: Info, input: EscalationRuleCreateInput
    ) -> EscalationRuleCreatePayload:
        rule = service.escalation_rule_create(
            actor=viewer(info),
            name=input.name,
            trigger=input.trigger,
            conditions=conditions_from_api(input.conditions),
            actions=actions_from_api(input.actions or []),
            match=input.match,
            description=input.description,
            category=input.category,
            order=input.order,
            is_active=input.is_active,
            stop_processing=input.stop_processing,
        )
        return EscalationRuleCreatePayload(escalation_rule=rule)

    @strawberry.mutation(description="Change an escalation rule (admins).")
    @admin_mutation_payload
    def escalation_rule_update(
        self, info: Info, input: EscalationRuleUpdateInput
    ) -> EscalationRuleUpdatePayload:
        conditions, actions = given(input.conditions), given(input.actions)
        rule = service.escalation_rule_update(
            actor=viewer(info),
            rule=_rule(info, input.id),
            name=given(input.name),
            trigger=given(input.trigger),
            conditions=UNSET if conditions is UNSET else conditions_from_api(conditions),
            actions=UNSET if actions is UNSET else actions_from_api(actions),
            match=given(input.match),
            description=given(input.description),
            category=given(input.category),
            order=given(input.order),
            is_active=given(input.is_active),
            stop_processing=given(input.stop_processing),
        )
        return EscalationRuleUpdatePayload(escalation_rule=rule)

    @strawberry.mutation(description="Delete an escalation rule and its firing record (admins).")
    @admin_mutation_payload
    def escalation_rule_delete(
        self, info: Info, input: EscalationRuleDeleteInput
    ) -> EscalationRuleDeletePayload:
        service.escalation_rule_delete(actor=viewer(info), rule=_rule(info, input.id))
        return EscalationRuleDeletePayload(deleted_id=input.id)

    @strawberry.mutation(description="Put the escalation rules in a new order (admins).")
    @admin_mutation_payload
    def escalation_rule_reorder(
        self, info: Info, input: EscalationRuleReorderInput
    ) -> EscalationRuleReorderPayload:
        rules = service.escalation_rules_reorder(
            actor=viewer(info), rules=load_many(info, input.ids, EscalationRuleNode, field="ids")
        )
        return EscalationRuleReorderPayload(escalation_rules=rules)
