"""Generated input at every mutation's input type and at the list arguments finds no
unexpected error: whatever a client sends gets a typed payload error, a refusal, or a GraphQL
validation error naming what is wrong; never the masked "Unexpected error." of a crash."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalated.graphql.schema import schema
from tests.conftest import World, gid

GRAPHQL = schema._schema
NODE_TYPES = ["Ticket", "Reply", "User", "Department", "Tag", "Macro", "Attachment", "Webhook"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Text at its edges: NUL and other control characters, lone surrogates escaped, very long.
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["\x00", "a", " ", "\u202e", "é", "<b>"]), max_size=8).map("".join),
    st.just("x" * 300),
)
GLOBAL_IDS = st.one_of(
    st.builds(
        lambda kind, node: _b64(f"{kind}:{node}"),
        st.sampled_from(NODE_TYPES),
        st.one_of(st.integers(-5, 10**20).map(str), st.sampled_from(["abc", "", "1.5", "\x00"])),
    ),
    st.text(max_size=12),
)
OFFSETS = st.sampled_from(["+14:00", "-12:00", "+05:45", "-00:01", "+23:59", "Z", ""])
DATETIMES = st.one_of(
    st.builds(
        lambda year, offset: f"{year:04d}-01-01T00:00:00{offset}",
        st.sampled_from([1, 2, 1970, 9999]),
        OFFSETS,
    ),
    st.builds(lambda offset: f"9999-12-31T23:59:59{offset}", OFFSETS),
    st.text(max_size=20),
)
CURSORS = st.one_of(
    st.integers(-(10**6), 10**6).map(lambda n: _b64(f"arrayconnection:{n}")),
    st.text(max_size=12).map(_b64),
    st.text(max_size=12),
)


def _for_type(kind: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    if isinstance(kind, GraphQLNonNull):
        return _for_type(kind.of_type, depth)
    if isinstance(kind, GraphQLList):
        return st.lists(_for_type(kind.of_type, depth + 1), max_size=3) | st.none()
    if isinstance(kind, GraphQLEnumType):
        return st.sampled_from(list(kind.values))  # a wrong name fails coercion, as it should
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 3:
            return st.none()
        fields = {name: _for_type(field.type, depth + 1) for name, field in kind.fields.items()}
        return st.fixed_dictionaries({}, optional=fields)
    assert isinstance(kind, GraphQLScalarType)
    return {
        "String": TEXT,
        "ID": GLOBAL_IDS,
        "Int": st.integers(-(2**40), 2**40),
        "Float": st.floats(allow_nan=False, allow_infinity=False),
        "Boolean": st.booleans(),
        "DateTime": DATETIMES,
        "Date": st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "x"]),
        "Time": st.sampled_from(["24:00", "23:59:60", "09:00", "x"]),
        "JSON": st.recursive(
            st.none() | st.booleans() | st.integers() | TEXT,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
            max_leaves=6,
        ),
        "Upload": st.none(),
    }.get(kind.name, TEXT)


MUTATIONS = sorted(GRAPHQL.mutation_type.fields)  # type: ignore[union-attr]


def _unexpected(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in result.get("errors", []) if e["message"] == "Unexpected error."]


def _fuzz(gql: Any, document: str, strategy: Any, user: Any, examples: int = 12) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(variables=strategy)
    def run(variables: dict[str, Any]) -> None:
        result = gql(document, variables, user=user)
        assert not _unexpected(result), (variables, result)

    run()


@pytest.mark.parametrize("name", MUTATIONS)
def test_generated_input_to_every_mutation_meets_no_unexpected_error(
    world: World, gql: Any, name: str
) -> None:
    field = GRAPHQL.mutation_type.fields[name]  # type: ignore[union-attr]
    arguments = {arg: _for_type(spec.type) for arg, spec in field.args.items()}
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    document = f"mutation({declared}) {{ {name}({passed}) {{ __typename }} }}"

    _fuzz(gql, document, st.fixed_dictionaries(arguments), world.admin)


LISTS = {
    "tickets": """query($first: Int, $last: Int, $after: String, $before: String,
        $filter: TicketFilter, $order: TicketOrder) {
        tickets(first: $first, last: $last, after: $after, before: $before, filter: $filter,
                order: $order) { totalCount edges { cursor node { id } } } }""",
    "replies": """query($id: ID!, $first: Int, $after: String) {
        ticket(id: $id) { id replies(first: $first, after: $after) { edges { node { id } } } } }""",
    "node": "query($id: ID!) { node(id: $id) { id } }",
}


def _list_arguments() -> dict[str, Any]:
    return {
        "first": st.none() | st.integers(-5, 150),
        "last": st.none() | st.integers(-5, 150),
        "after": st.none() | CURSORS,
        "before": st.none() | CURSORS,
        "filter": st.none() | _for_type(GRAPHQL.get_type("TicketFilter")),
        "order": st.none() | _for_type(GRAPHQL.get_type("TicketOrder")),
        "id": GLOBAL_IDS,
    }


@pytest.mark.parametrize("persona", ["agent", "customer"])
@pytest.mark.parametrize("name", sorted(LISTS))
def test_generated_list_arguments_meet_no_unexpected_error(
    world: World, gql: Any, persona: str, name: str
) -> None:
    document = LISTS[name]
    arguments = {k: v for k, v in _list_arguments().items() if f"${k}" in document}
    # One argument at a time off the beaten path, so the others do not fail coercion first.
    strategy = st.sampled_from(sorted(arguments)).flatmap(
        lambda chosen: st.fixed_dictionaries({chosen: arguments[chosen]})
    )
    if name == "replies":
        strategy = st.one_of(strategy, st.fixed_dictionaries({"after": CURSORS})).map(
            lambda given: {"id": gid(world.ticket), "first": 5, **given}
        )

    _fuzz(gql, document, strategy, getattr(world, persona), examples=40)


@pytest.mark.postgres
@pytest.mark.parametrize("name", MUTATIONS)
def test_generated_input_reaches_postgresql_without_unexpected_errors(
    world: World, gql: Any, on_postgres: None, name: str
) -> None:
    """PostgreSQL refuses what SQLite stores (NUL characters, integers past bigint): the same
    generated input, against the database that would refuse it."""
    test_generated_input_to_every_mutation_meets_no_unexpected_error(world, gql, name)
