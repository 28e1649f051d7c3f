"""Validation keeps what a document's text alone decides (escalated.graphql.validation): the same
text asked again must still be judged by the settings and variables of its own request."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from tests.conftest import World, data_of

PAGE = "query($n: Int) { tickets(first: $n) { edges { node { subject } } } }"
NESTED = """query($outer: Int, $inner: Int) { tickets(first: $outer) { edges { node {
    subject replies(first: $inner) { edges { node { body } } } } } } }"""
DEEP = "{ tickets(first: 1) { edges { node { replies(first: 1) { edges { node { body } } } } } } }"
BY_ID = "query($id: ID!) { ticket(id: $id) { subject } }"


def test_the_cost_follows_each_requests_variables(world: World, gql: Any) -> None:
    assert data_of(gql(NESTED, {"outer": 5, "inner": 5}, user=world.agent))["tickets"]

    costly = gql(NESTED, {"outer": 100, "inner": 100}, user=world.agent)

    assert costly["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert data_of(gql(NESTED, {"outer": 5, "inner": 5}, user=world.agent))["tickets"]


def test_input_values_are_checked_on_every_request(world: World, gql: Any) -> None:
    assert "errors" not in gql(BY_ID, {"id": "VGlja2V0OjE="}, user=world.agent)  # Ticket:1

    bad = gql(BY_ID, {"id": "VGlja2V0OmFiYw=="}, user=world.agent)  # Ticket:abc

    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "errors" not in gql(BY_ID, {"id": "VGlja2V0OjE="}, user=world.agent)


def test_a_changed_depth_limit_applies_to_a_document_seen_before(world: World, gql: Any) -> None:
    assert "errors" not in gql(DEEP, user=world.agent)

    with override_settings(ESCALATED={"MAX_QUERY_DEPTH": 3}):
        refused = gql(DEEP, user=world.agent)

    assert "depth" in refused["errors"][0]["message"]
    assert "errors" not in gql(DEEP, user=world.agent)


def test_introspection_is_decided_per_request(world: World, gql: Any) -> None:
    query = "{ __schema { queryType { name } } }"
    with override_settings(ESCALATED={"INTROSPECTION": True}):
        assert data_of(gql(query, user=world.agent))["__schema"]
    with override_settings(ESCALATED={"INTROSPECTION": False}):
        assert gql(query, user=world.agent)["errors"]
    with override_settings(ESCALATED={"INTROSPECTION": True}):
        assert data_of(gql(query, user=world.agent))["__schema"]


def test_an_invalid_document_is_refused_each_time(world: World, gql: Any) -> None:
    for _ in range(2):
        result = gql(PAGE.replace("subject", "subjekt"), {"n": 5}, user=world.agent)
        assert "subjekt" in result["errors"][0]["message"]
