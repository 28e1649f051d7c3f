"""A cost limit for GraphQL operations.

Depth, alias and token limits do not stop a shallow query that multiplies pages:
``tickets(first: 100) { replies(first: 100) { … } }`` asks for 10,000 replies. Here every field
costs one per parent it is fetched for, and a field with ``first``/``last`` arguments multiplies
what is below it by its page size (the largest page when the client gives none). An operation
costing more than ``MAX_QUERY_COST`` is refused at validation, before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from escalated.conf import escalated_settings

PAGE_ARGUMENTS = ("first", "last")


class OperationCost:
    def __init__(
        self,
        context: ValidationContext,
        variables: Mapping[str, Any],
        default_page: int,
    ) -> None:
        self.schema = context.schema
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.default_page = default_page

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root, 1, frozenset())

    def _selections(
        self,
        selection_set: SelectionSetNode,
        parent: Any,
        multiplier: int,
        seen_fragments: frozenset[str],
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, multiplier, seen_fragments)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else parent
                total += self._selections(selection.selection_set, kind, multiplier, seen_fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen_fragments:
                    continue  # unknown or cyclic: other validation rules report it
                kind = self.schema.get_type(fragment.type_condition.name.value)
                total += self._selections(
                    fragment.selection_set, kind, multiplier, seen_fragments | {name}
                )
        return total

    def _field(
        self, node: FieldNode, parent: Any, multiplier: int, seen_fragments: frozenset[str]
    ) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return multiplier
        definition = parent.fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return multiplier
        below = multiplier * self._page(node, definition)
        child = get_named_type(definition.type)
        return multiplier + self._selections(node.selection_set, child, below, seen_fragments)

    def _page(self, node: FieldNode, definition: GraphQLField) -> int:
        if not any(name in definition.args for name in PAGE_ARGUMENTS):
            return 1
        sizes = []
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                sizes.append(int(value.value))
            elif isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int):
                    sizes.append(given)
        return max([size for size in sizes if size > 0], default=self.default_page)


def cost_rule(variables: Mapping[str, Any]) -> type[ValidationRule]:
    limit = escalated_settings.MAX_QUERY_COST
    default_page = escalated_settings.MAX_PAGE_SIZE

    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = OperationCost(self.context, variables, default_page).of(node)
            if cost > limit:
                self.report_error(
                    GraphQLError(
                        f"This operation would cost {cost}, over the limit of {limit}: "
                        "ask for smaller pages or fewer nested lists.",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
                    )
                )

    return QueryCostRule


class QueryCostLimiter(SchemaExtension):
    """Adds :func:`cost_rule`, made with this request's variables, to validation."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        rule: Callable[..., Any] = cost_rule(context.variables or {})
        context.validation_rules = (*context.validation_rules, rule)
        yield
