"""Production limits on GraphQL requests: depth, aliases, and cost."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import World, data_of

NESTED = """query($outer: Int, $inner: Int) { tickets(first: $outer) { edges { node {
    subject replies(first: $inner) { edges { node { body author { name } } } } } } } }"""


def test_a_cheap_queue_query_runs(world: World, gql: Any) -> None:
    result = gql(NESTED, {"outer": 50, "inner": 10}, user=world.agent)

    assert data_of(result)["tickets"]["edges"]


def test_multiplying_pages_is_refused_before_anything_runs(world: World, gql: Any) -> None:
    result = gql(NESTED, {"outer": 100, "inner": 100}, user=world.agent)

    error = result["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    # 100 tickets x (node, subject, replies: 100 x (edges, node, body, author, name) + ...)
    assert error["extensions"]["cost"] > 20_000
    assert "data" not in result or result["data"] is None


def test_a_missing_page_size_counts_as_the_largest_page(world: World, gql: Any) -> None:
    unbounded = """{ tickets { edges { node {
        subject replies { edges { node { body author { name } } } } } } } }"""

    result = gql(unbounded, user=world.agent)

    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_fragments_are_counted(world: World, gql: Any) -> None:
    query = """query { tickets(first: 100) { edges { node { ...T } } } }
        fragment T on Ticket { replies(first: 100) { edges { node { body author { name } } } } }"""

    result = gql(query, user=world.agent)

    assert result["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


@override_settings(ESCALATED={"MAX_QUERY_COST": 10})
def test_the_limit_is_a_setting(world: World, gql: Any) -> None:
    result = gql("{ tickets(first: 5) { edges { node { subject } } } }", user=world.agent)

    assert result["errors"][0]["extensions"]["limit"] == 10


def test_deep_queries_are_refused(world: World, gql: Any) -> None:
    deep = "{ tickets(first: 1) { edges { node { replies(first: 1) { edges { node { ticket {"
    deep += " replies(first: 1) { edges { node { ticket { replies(first: 1) { edges { node {"
    deep += " ticket { subject } } } } } } } } } } } } } } } }"

    result = gql(deep, user=world.agent)

    assert "exceeds maximum operation depth" in result["errors"][0]["message"]


def test_alias_floods_are_refused(world: World, gql: Any) -> None:
    aliases = " ".join(f"a{n}: viewer {{ role }}" for n in range(31))

    result = gql(f"{{ {aliases} }}", user=world.agent)

    assert "aliases" in result["errors"][0]["message"]


DEEP_SCHEMA = "__schema { types { name fields { name args { name type { name ofType { name } } } "
DEEP_SCHEMA += "type { name ofType { name ofType { name } } } } } }"


@override_settings(ESCALATED={"INTROSPECTION": True})
def test_introspection_is_costed_like_any_field(gql: Any) -> None:
    flood = " ".join(f"a{n}: {DEEP_SCHEMA}" for n in range(29))

    result = gql(f"{{ {flood} }}")

    error = result["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "data" not in result or result["data"] is None


@override_settings(ESCALATED={"INTROSPECTION": True})
def test_one_full_introspection_fits_the_limit(gql: Any) -> None:
    from graphql import get_introspection_query

    result = gql(get_introspection_query(descriptions=True))

    assert data_of(result)["__schema"]["types"]


@pytest.mark.parametrize(("debug", "allowed"), [(True, True), (False, False)])
def test_introspection_follows_debug_by_default(
    gql: Any, settings: Any, debug: bool, allowed: bool
) -> None:
    settings.DEBUG = debug

    result = gql("{ __schema { queryType { name } } }")

    assert ("errors" not in result) is allowed


@pytest.mark.parametrize("introspection", [True, False])
def test_suggestions_are_given_only_while_introspection_is_on(
    world: World, gql: Any, introspection: bool
) -> None:
    with override_settings(ESCALATED={"INTROSPECTION": introspection}):
        result = gql("{ tickets(first: 1) { edges { node { subjekt } } } }", user=world.agent)

    message = result["errors"][0]["message"]
    assert "subjekt" in message
    assert ("Did you mean" in message) is introspection


@pytest.mark.parametrize(
    "query",
    [
        '{ report(input: {from: "2026-01-01", to: "2026-01-31"}) { from } }',  # a refusal
        "{ tickets(first: 500) { edges { node { id } } } }",  # over the page cap
        "{ tickets(first: 1) { edges { node { subjekt } } } }",  # a validation error
    ],
)
def test_expected_errors_log_one_line_at_info(
    world: World, gql: Any, caplog: Any, query: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        result = gql(query, user=world.customer)

    assert result["errors"]
    logged = [r for r in caplog.records if r.name.startswith(("strawberry", "escalated.graphql"))]
    assert [(r.levelno, r.exc_info) for r in logged] == [(logging.INFO, None)]
    assert "\\n" not in logged[0].getMessage()


def test_an_unexpected_error_logs_its_traceback(
    world: World, gql: Any, caplog: Any, monkeypatch: Any
) -> None:
    def broken(user: Any) -> str:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr("escalated.graphql.types.display_name", broken)

    with caplog.at_level(logging.DEBUG):
        result = gql("{ viewer { user { name } } }", user=world.customer)

    assert result["errors"][0]["message"] == "Unexpected error."
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None and "disk is on fire" in str(record.exc_info[1])
