"""Values no resolver should ever see, refused at validation with an error naming the argument.

Each of these passes GraphQL's own coercion (it is a well-formed string, ID or DateTime) and
then fails deep inside, as an unexpected error:

* text with a NUL character, which PostgreSQL refuses to store or compare;
* a global id whose node part cannot be its type's primary key (``Ticket:abc``, or a number
  past the database's integer range);
* a date-time without a UTC offset (compared with aware times, it would crash), or one that
  leaves the calendar once moved to UTC (``0001-01-01T00:00:00+14:00``);
* a connection cursor that is not one (or decodes to a negative offset).

The rule walks every argument's value (literal or variable) along its input type, so it covers
every mutation input and list argument at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Field
from graphql import (
    ArgumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    ValidationRule,
    VariableNode,
    value_from_ast_untyped,
)
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry_django.utils.typing import get_django_definition

CURSOR_ARGUMENTS = ("after", "before")
CURSOR_KIND = "arrayconnection"  # strawberry's list connections' cursors


def _text_problem(value: Any) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        return "text must not contain NUL characters"
    if isinstance(value, Mapping):
        return next(filter(None, map(_text_problem, [*value.keys(), *value.values()])), None)
    if isinstance(value, list):
        return next(filter(None, map(_text_problem, value)), None)
    return None


def _datetime_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None  # not a date-time at all: the scalar itself says so
    if parsed.tzinfo is None:
        # Compared with aware times everywhere (USE_TZ): a bare local time would be a guess.
        return "the date-time needs a UTC offset, such as Z or +02:00"
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        return "the date-time is outside the calendar once moved to UTC"
    return None


def _primary_key_problem(pk: Field[Any, Any], node_id: str) -> str | None:
    try:
        value = pk.to_python(node_id)
    except Exception:
        return "the id does not name an object of its type"
    low, high = connection.ops.integer_field_range(pk.get_internal_type())
    if isinstance(value, int) and not (
        (low is None or value >= low) and (high is None or value <= high)
    ):
        return "the id does not name an object of its type"
    return None


class InputRule(ValidationRule):
    """See the module docstring; made per request by :func:`input_rule` with its variables."""

    variables: Mapping[str, Any] = {}

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        definition = self.context.get_argument()
        if definition is None:
            return
        if isinstance(node.value, VariableNode):
            value = self.variables.get(node.value.name.value)
        else:
            value = value_from_ast_untyped(node.value, dict(self.variables))
        name = node.name.value
        for path, problem in self._problems(value, definition.type, name):
            self.report_error(
                GraphQLError(
                    f"Argument '{path}': {problem}.",
                    node,
                    extensions={"code": "BAD_USER_INPUT", "argument": path},
                )
            )
        field = self.context.get_field_def()
        if name in CURSOR_ARGUMENTS and field is not None and "first" in field.args:
            wrong = _cursor_problem(value)
            if wrong:
                self.report_error(
                    GraphQLError(
                        f"Argument '{name}': {wrong}.",
                        node,
                        extensions={"code": "BAD_USER_INPUT", "argument": name},
                    )
                )

    def _problems(self, value: Any, kind: Any, path: str) -> Iterator[tuple[str, str]]:
        if value is None:
            return
        if isinstance(kind, GraphQLNonNull):
            yield from self._problems(value, kind.of_type, path)
        elif isinstance(kind, GraphQLList):
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                yield from self._problems(item, kind.of_type, f"{path}.{index}")
        elif isinstance(kind, GraphQLInputObjectType):
            if isinstance(value, Mapping):
                for name, field in kind.fields.items():
                    if name in value:
                        yield from self._problems(value[name], field.type, f"{path}.{name}")
        elif isinstance(kind, GraphQLScalarType):
            problem = _text_problem(value)
            if problem is None and kind.name == "DateTime":
                problem = _datetime_problem(value)
            if problem is None and kind.name == "ID":
                problem = self._id_problem(value)
            if problem:
                yield path, problem

    def _id_problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        try:
            gid = relay.GlobalID.from_id(value)
        except Exception:
            return None
        strawberry_schema = getattr(self.context.schema, "_strawberry_schema", None)
        node_type = strawberry_schema and strawberry_schema.get_type_by_name(gid.type_name)
        origin = getattr(node_type, "origin", None)
        definition = origin and get_django_definition(origin)
        if definition is None or definition.model is None:
            return None  # not a model's node: its resolver answers "not found"
        return _primary_key_problem(definition.model._meta.pk, gid.node_id)


def _cursor_problem(value: Any) -> str | None:
    """Every connection here is a list connection, whose cursors are offsets into the list."""
    if not isinstance(value, str):
        return None
    try:
        kind, offset = relay.from_base64(value)
    except Exception:
        kind, offset = "", ""
    if kind != CURSOR_KIND or not offset.isdigit():
        return "not a cursor of this list"
    return None


def input_rule(variables: Mapping[str, Any]) -> type[ValidationRule]:
    return type("InputRuleForRequest", (InputRule,), {"variables": variables})


class InputRules(SchemaExtension):
    """Adds :class:`InputRule`, made with this request's variables, to validation."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, input_rule(context.variables or {}))
        yield
