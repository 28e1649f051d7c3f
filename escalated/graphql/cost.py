"""A cost limit for GraphQL operations.

Depth, alias and token limits do not stop a shallow query that multiplies pages:
``tickets(first: 100) { replies(first: 100) { … } }`` asks for 10,000 replies. Here every field
costs one per parent it is fetched for, each fetch of its own (a root field, a connection)
:data:`FETCH_COST` more; a field with ``first``/``last`` arguments multiplies
what is below it by its page size (the largest page when the client gives none), and a plain
list by the most items it can hold (:mod:`escalated.graphql.bounds`). Introspection
(``__schema``, ``__type``) is counted exactly: the schema is fixed, so the walk below visits the
very types, fields and arguments the execution would, one per field per object, and stops as
soon as the limit is passed. An operation costing more than ``MAX_QUERY_COST`` is refused at
validation, before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from escalated.conf import escalated_settings
from escalated.graphql.bounds import list_bound

PAGE_ARGUMENTS = ("first", "last")
# What one fetch costs besides its fields: each root field and each connection runs its own
# query (a connection nested in a list runs one for the whole page) and its optimizer pass,
# which took as long as about a thousand fields on the development machine (20 ms).
FETCH_COST = 1000
INTROSPECTION_ROOTS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class _OverLimit(Exception):
    """The introspection walk passed the limit: nothing more needs counting."""


class OperationCost:
    def __init__(
        self,
        context: ValidationContext,
        variables: Mapping[str, Any],
        default_page: int,
        limit: int,
    ) -> None:
        self.schema = context.schema
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.default_page = default_page
        self.limit = limit
        self.introspected = 0

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        self.root = root
        try:
            counted = self._selections(operation.selection_set, root, 1, frozenset())
        except _OverLimit:
            return self.limit + 1
        return counted + self.introspected

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
        name = node.name.value
        if name in INTROSPECTION_ROOTS and node.selection_set is not None:
            # Only the root query type has these, so the multiplier is 1 here.
            self._introspect(node, INTROSPECTION_ROOTS[name], [None], seen_fragments)
            return multiplier
        definition = parent.fields.get(name)
        if definition is None:
            return multiplier
        fetch = FETCH_COST if parent is self.root or _is_connection(definition) else 0
        if node.selection_set is None:
            return multiplier + fetch
        below = multiplier * self._page(node, parent, definition)
        child = get_named_type(definition.type)
        selected = self._selections(node.selection_set, child, below, seen_fragments)
        return multiplier + fetch + selected

    def _page(self, node: FieldNode, parent: Any, definition: GraphQLField) -> int:
        if not _is_connection(definition):
            if not _is_list(definition):
                return 1
            bound = list_bound(parent, node.name.value)
            return self.default_page if bound is None else bound
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

    def _introspect(
        self,
        node: FieldNode,
        definition: GraphQLField,
        sources: list[Any],
        seen_fragments: frozenset[str],
    ) -> None:
        """Count ``node`` once per source, and what is below it once per object it resolves to,
        using graphql-core's own introspection resolvers over the schema."""
        info = SimpleNamespace(schema=self.schema)
        arguments = {
            argument.name.value: value_from_ast_untyped(argument.value, dict(self.variables))
            for argument in node.arguments or ()
        }
        listed = _is_list(definition)
        children: list[Any] = []
        for source in sources:
            self.introspected += 1
            if self.introspected > self.limit:
                raise _OverLimit
            if node.selection_set is None or definition.resolve is None:
                continue
            value = definition.resolve(source, info, **arguments)
            if listed and value is not None:
                children.extend(value)
            else:
                children.append(value)
        children = [child for child in children if child is not None]
        if node.selection_set is not None and children:
            child_type = get_named_type(definition.type)
            assert isinstance(child_type, GraphQLObjectType)  # so are all introspection types
            for field in self._fields_of(node.selection_set, seen_fragments):
                child_definition = child_type.fields.get(field.name.value)
                if child_definition is not None:
                    self._introspect(field, child_definition, children, seen_fragments)
                else:  # __typename
                    self.introspected += len(children)

    def _fields_of(
        self, selection_set: SelectionSetNode, seen_fragments: frozenset[str]
    ) -> Iterator[FieldNode]:
        """The fields of a selection on an introspection type, through its fragments (which can
        only name that same type: introspection types are all object types)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self._fields_of(selection.selection_set, seen_fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen_fragments:
                    yield from self._fields_of(fragment.selection_set, seen_fragments | {name})


def _is_connection(definition: GraphQLField) -> bool:
    return any(name in definition.args for name in PAGE_ARGUMENTS)


def _is_list(definition: GraphQLField) -> bool:
    kind = definition.type
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def _too_costly(cost: int, limit: int, node: OperationDefinitionNode) -> GraphQLError:
    return GraphQLError(
        f"This operation would cost {cost}, over the limit of {limit}: "
        "ask for smaller pages or fewer nested lists.",
        node,
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )


def cost_errors(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """The document's operations that cost more than ``MAX_QUERY_COST`` with these variables
    (page sizes can be variables), each as an error. A walk of the selections alone: no
    validation pass is needed for it, so it runs on every request at little cost."""
    limit = escalated_settings.MAX_QUERY_COST
    default_page = escalated_settings.MAX_PAGE_SIZE
    where = SimpleNamespace(schema=schema, document=document)
    errors = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            cost = OperationCost(where, variables, default_page, limit).of(definition)
            if cost > limit:
                errors.append(_too_costly(cost, limit, definition))
    return errors


def cost_rule(variables: Mapping[str, Any]) -> type[ValidationRule]:
    """The same limit as a validation rule, for checks that validate documents themselves."""
    limit = escalated_settings.MAX_QUERY_COST
    default_page = escalated_settings.MAX_PAGE_SIZE

    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = OperationCost(self.context, variables, default_page, limit).of(node)
            if cost > limit:
                self.report_error(_too_costly(cost, limit, node))

    return QueryCostRule
