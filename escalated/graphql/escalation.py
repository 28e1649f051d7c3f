"""Escalation rules in the API: the rule type, its queries, and how condition and action values
cross the door.

Values are JSON, kept as the client gave them, so the admin form's ``{field, value}`` rows read
back exactly as they were sent. The one translation: a value naming a department, tag or person
is that object's global id here and its primary key in the domain, as everywhere else in the
API. Which values name objects is read from the registries, so a new field or action needs no
change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
import strawberry_django
from django.db.models import Count, DateTimeField, IntegerField, Max, Model, OuterRef, QuerySet
from django.db.models import Subquery as SubqueryExpression
from django.db.models.functions import Coalesce
from strawberry import Info, relay
from strawberry.scalars import JSON
from strawberry.types.base import get_object_definition
from strawberry_django.relay import DjangoListConnection
from strawberry_django.utils.typing import get_django_definition

from escalated import models
from escalated.access import Role, require_admin, role_of, visible_tickets
from escalated.errors import DomainError, ErrorCode, NotAllowed, Problem, collect
from escalated.graphql.connections import CountedListConnection
from escalated.graphql.context import viewer
from escalated.graphql.errors import UserError, refusal, user_errors
from escalated.graphql.ids import load_optional
from escalated.graphql.queries import guard
from escalated.graphql.types import DepartmentNode, TagNode, TicketNode, UserNode
from escalated.services.common import UNSET
from escalated.services.escalation.actions import ACTIONS
from escalated.services.escalation.conditions import FIELDS
from escalated.services.escalation.evaluation import escalation_rule_preview
from escalated.services.escalation.values import Referring

EscalationTrigger = strawberry.enum(
    models.RuleTrigger,
    name="EscalationTrigger",
    description=(
        "When a rule is looked at. TIME_BASED, SLA_BREACH and SLA_WARNING: by every run of "
        "evaluate_escalations. TICKET_CREATED, TICKET_UPDATED, CUSTOMER_REPLY and PRIORITY_BASED "
        "(a ticket's opening and every change of its priority): right after that change."
    ),
)
EscalationMatch = strawberry.enum(
    models.RuleMatch, name="EscalationMatch", description="Whether all conditions must hold."
)

# The node types whose global ids stand for the primary keys in condition and action values.
REFERENCE_NODES = (DepartmentNode, TagNode, UserNode)


def _node_name(model: type[Model]) -> str:
    for node in REFERENCE_NODES:
        if get_django_definition(node, strict=True).model is model:
            return get_object_definition(node, strict=True).name
    raise LookupError(f"No GraphQL type for {model.__name__}")


# --- values across the door -------------------------------------------------------------------


def _pk_from_api(value: Any, model: type[Model], path: str, problems: list[Problem]) -> Any:
    if value is None:
        return None  # "none", where the field allows it; the service decides
    name = _node_name(model)
    try:
        gid = relay.GlobalID.from_id(value) if isinstance(value, str) else None
    except (ValueError, TypeError):
        gid = None
    if gid is None or gid.type_name != name or not gid.node_id.isdigit():
        problems.append(Problem(f"Give the id of a {name}.", ErrorCode.INVALID, path))
        return value
    return int(gid.node_id)


def _pk_to_api(value: Any, model: type[Model]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return relay.to_base64(_node_name(model), value)
    if isinstance(value, str) and value.strip().isdigit():
        return relay.to_base64(_node_name(model), value.strip())
    return value


def _pks_from_api(value: Any, entry: Referring | None, path: str, problems: list[Problem]) -> Any:
    """A value with the global ids in it made primary keys."""
    model = None if entry is None else entry.reference
    if entry is None or model is None:
        return value
    return entry.map_references(value, lambda v: _pk_from_api(v, model, path, problems))


def _pks_to_api(value: Any, entry: Referring | None) -> Any:
    model = None if entry is None else entry.reference
    if entry is None or model is None:
        return value
    return entry.map_references(value, lambda v: _pk_to_api(v, model))


@strawberry.input(description="A condition: a field, an operator and a value.")
class EscalationConditionInput:
    field: str | None = strawberry.field(
        default=None, description="A condition field, e.g. status, priority, age_hours."
    )
    operator: str | None = strawberry.field(
        default=None,
        description=(
            "equals, not_equals, in, not_in, greater_than or less_than. Left out: equals (in "
            "for a list; greater_than for the hours fields)."
        ),
    )
    value: JSON | None = strawberry.field(
        default=None,
        description='Kept as given (text such as "24" is read as a number). Departments, tags '
        "and people are given by global id.",
    )


@strawberry.input(description="An action: a type and a value.")
class EscalationActionInput:
    type: str | None = strawberry.field(
        default=None,
        description="escalate, change_priority, assign_to, assign_round_robin, "
        "change_department, add_tag, add_note, notify.",
    )
    value: JSON | None = strawberry.field(
        default=None, description="Kept as given; departments, tags and people by global id."
    )


def _reference(registry: Mapping[str, Referring], name: Any) -> Referring | None:
    """The condition field or action ``name`` names, if any."""
    return registry.get(name) if isinstance(name, str) else None


def conditions_from_api(items: list[EscalationConditionInput]) -> list[dict[str, Any]]:
    """The conditions as the services take them, references turned into primary keys."""
    problems: list[Problem] = []
    conditions = [
        {
            "field": item.field,
            "operator": item.operator,
            "value": _pks_from_api(
                item.value, _reference(FIELDS, item.field), f"conditions.{n}.value", problems
            ),
        }
        for n, item in enumerate(items)
    ]
    collect(problems)
    return conditions


def actions_from_api(items: list[EscalationActionInput]) -> list[dict[str, Any]]:
    """The actions as the services take them, references turned into primary keys."""
    problems: list[Problem] = []
    actions = [
        {
            "type": item.type,
            "value": _pks_from_api(
                item.value, _reference(ACTIONS, item.type), f"actions.{n}.value", problems
            ),
        }
        for n, item in enumerate(items)
    ]
    collect(problems)
    return actions


# --- the rule ---------------------------------------------------------------------------------


@strawberry.type(description="A condition of a rule.")
class EscalationCondition:
    field: str
    operator: str
    value: JSON | None


@strawberry.type(description="An action of a rule.")
class EscalationAction:
    type: str
    value: JSON | None


def _fire_count(info: Info) -> Any:
    counts = (
        models.RuleFiring.objects.filter(rule_id=OuterRef("pk"))
        .order_by()
        .values("rule_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(SubqueryExpression(counts, output_field=IntegerField()), 0)


def _last_fired_at(info: Info) -> Any:
    latest = (
        models.RuleFiring.objects.filter(rule_id=OuterRef("pk"))
        .order_by()
        .values("rule_id")
        .annotate(latest=Max("fired_at"))
        .values("latest")
    )
    return SubqueryExpression(latest, output_field=DateTimeField())


@strawberry_django.type(
    models.EscalationRule,
    name="EscalationRule",
    description="Conditions on a ticket and the actions to take on the tickets that meet them.",
)
class EscalationRuleNode(relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    category: str
    order: int = strawberry_django.field(description="Rules are looked at in ascending order.")
    is_active: bool
    trigger: EscalationTrigger
    match: EscalationMatch
    stop_processing: bool = strawberry_django.field(
        description="Later rules leave alone the tickets this rule matches."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["conditions"])
    def conditions(self, root: models.EscalationRule) -> list[EscalationCondition]:
        return [
            EscalationCondition(
                field=stored["field"],
                operator=stored["operator"],
                value=_pks_to_api(stored.get("value"), _reference(FIELDS, stored["field"])),
            )
            for stored in root.conditions
        ]

    @strawberry_django.field(only=["actions"], description="In the order they run.")
    def actions(self, root: models.EscalationRule) -> list[EscalationAction]:
        return [
            EscalationAction(
                type=stored["type"],
                value=_pks_to_api(stored.get("value"), _reference(ACTIONS, stored["type"])),
            )
            for stored in root.actions
        ]

    @strawberry_django.field(
        annotate={"fire_count_value": _fire_count},
        description="How many times the rule has fired: once per ticket per matching episode.",
    )
    def fire_count(self, root: models.EscalationRule) -> int:
        cached = getattr(root, "fire_count_value", None)
        return cached if cached is not None else root.firings.count()

    @strawberry_django.field(annotate={"last_fired_at_value": _last_fired_at})
    def last_fired_at(self, root: models.EscalationRule) -> datetime | None:
        if hasattr(root, "last_fired_at_value"):
            return root.last_fired_at_value
        latest = root.firings.order_by("-fired_at").values_list("fired_at", flat=True).first()
        return latest

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.EscalationRule], info: Info, **kwargs: Any
    ) -> QuerySet[models.EscalationRule]:
        return queryset if role_of(viewer(info)) is Role.ADMIN else queryset.none()


# --- queries ----------------------------------------------------------------------------------


@strawberry.input(
    description="What to preview: a saved rule (id), a draft (trigger and conditions), or a "
    "saved rule with changes not yet saved."
)
class EscalationRulePreviewInput:
    id: relay.GlobalID | None = None
    trigger: EscalationTrigger | None = strawberry.UNSET
    match: EscalationMatch | None = strawberry.UNSET
    conditions: list[EscalationConditionInput] | None = strawberry.UNSET
    order: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where the rule stands among the others (a draft without one comes last).",
    )
    stop_processing: bool | None = strawberry.UNSET


@strawberry.type(description="The tickets a rule would act on now; nothing is changed.")
class EscalationRulePreview:
    errors: list[UserError] = strawberry.field(default_factory=list)
    matched: strawberry.Private[QuerySet[models.Ticket] | None] = None

    @strawberry_django.connection(
        CountedListConnection[TicketNode],
        description="Oldest first. Empty when the input has errors.",
    )
    def tickets(self, info: Info) -> QuerySet[models.Ticket]:
        if self.matched is None:
            return models.Ticket.objects.none()
        return visible_tickets(viewer(info), self.matched)


def given(value: Any) -> Any:
    """An input part the client left out (or sent as null) leaves that part as it is."""
    return UNSET if value is strawberry.UNSET or value is None else value


@strawberry.type
class EscalationQueries:
    @strawberry_django.connection(
        DjangoListConnection[EscalationRuleNode],
        description="Escalation rules in the order they are looked at (admins).",
    )
    def escalation_rules(self, info: Info) -> QuerySet[models.EscalationRule]:
        guard(info, require_admin)
        return models.EscalationRule.objects.order_by("order", "id")

    @strawberry.field(
        description="The open tickets a rule (saved, or given in the input) would act on now, "
        "acting on nothing (admins)."
    )
    def escalation_rule_preview(
        self, info: Info, input: EscalationRulePreviewInput
    ) -> EscalationRulePreview:
        guard(info, require_admin)
        try:
            rule = load_optional(info, input.id, EscalationRuleNode, field="id")
            conditions = given(input.conditions)
            matched = escalation_rule_preview(
                actor=viewer(info),
                rule=rule,
                trigger=given(input.trigger),
                match=given(input.match),
                conditions=UNSET if conditions is UNSET else conditions_from_api(conditions),
                order=given(input.order),
                stop_processing=given(input.stop_processing),
            )
        except DomainError as error:
            return EscalationRulePreview(errors=user_errors(error.problems))
        except NotAllowed as error:
            raise refusal(viewer(info), str(error)) from error
        return EscalationRulePreview(matched=matched)
