"""Values no resolver should ever see, refused at validation with an error naming the argument.

Each of these passes GraphQL's own coercion (it is a well-formed string, ID or DateTime) and
then fails deep inside, as an unexpected error:

* text with a NUL character, which PostgreSQL refuses to store or compare;
* a global id whose node part cannot be its type's primary key (``Ticket:abc``, or a number
  past the database's integer range);
* a date-time without a UTC offset (compared with aware times, it would crash), or one that
  leaves the calendar once moved to UTC (``0001-01-01T00:00:00+14:00``);
* a connection cursor that is not one (or decodes to a negative offset).

Every argument's value (literal or variable) is walked along its input type, so this covers every
mutation input and list argument at once. Where a document's arguments are and what their types
are is the document's own business, found once (:func:`argument_sites`); only the values are
checked on every request (:func:`input_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Field
from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    value_from_ast_untyped,
    visit,
)
from strawberry import relay
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


@dataclass(frozen=True)
class ArgumentSite:
    """One argument of a document, with what validation's type walk knew about it there: its
    input type, and whether it is a connection's cursor."""

    node: ArgumentNode
    kind: GraphQLInputType
    cursor: bool


class _ArgumentSites(Visitor):
    """Collects a document's arguments along the schema's types (run inside a TypeInfoVisitor)."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: list[ArgumentSite] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        definition = self.type_info.get_argument()
        if definition is None:
            return
        field = self.type_info.get_field_def()
        cursor = node.name.value in CURSOR_ARGUMENTS and field is not None and "first" in field.args
        self.found.append(ArgumentSite(node, definition.type, cursor))


def argument_sites(schema: GraphQLSchema, document: DocumentNode) -> tuple[ArgumentSite, ...]:
    """Every argument of ``document`` that the schema knows: what the values are checked
    against. It depends on the document alone, so it is worked out once per document."""
    type_info = TypeInfo(schema)
    sites = _ArgumentSites(type_info)
    visit(document, TypeInfoVisitor(type_info, sites))
    return tuple(sites.found)


def input_errors(
    schema: GraphQLSchema, sites: Iterable[ArgumentSite], variables: Mapping[str, Any]
) -> list[GraphQLError]:
    """The values (literal or variable) of the arguments at ``sites`` that no resolver should
    see, each as an error naming its argument (see the module docstring)."""
    errors = []
    for site in sites:
        node = site.node
        if isinstance(node.value, VariableNode):
            value = variables.get(node.value.name.value)
        else:
            value = value_from_ast_untyped(node.value, dict(variables))
        name = node.name.value
        for path, problem in _problems(schema, value, site.kind, name):
            errors.append(
                GraphQLError(
                    f"Argument '{path}': {problem}.",
                    node,
                    extensions={"code": "BAD_USER_INPUT", "argument": path},
                )
            )
        wrong = _cursor_problem(value) if site.cursor else None
        if wrong:
            errors.append(
                GraphQLError(
                    f"Argument '{name}': {wrong}.",
                    node,
                    extensions={"code": "BAD_USER_INPUT", "argument": name},
                )
            )
    return errors


def _problems(schema: GraphQLSchema, value: Any, kind: Any, path: str) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(kind, GraphQLNonNull):
        yield from _problems(schema, value, kind.of_type, path)
    elif isinstance(kind, GraphQLList):
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            yield from _problems(schema, item, kind.of_type, f"{path}.{index}")
    elif isinstance(kind, GraphQLInputObjectType):
        if isinstance(value, Mapping):
            for name, field in kind.fields.items():
                if name in value:
                    yield from _problems(schema, value[name], field.type, f"{path}.{name}")
    elif isinstance(kind, GraphQLScalarType):
        problem = _text_problem(value)
        if problem is None and kind.name == "DateTime":
            problem = _datetime_problem(value)
        if problem is None and kind.name == "ID":
            problem = _id_problem(schema, value)
        if problem:
            yield path, problem


def _id_problem(schema: GraphQLSchema, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        gid = relay.GlobalID.from_id(value)
    except Exception:
        return None
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
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
