"""The tickets query: filters (the FilterSet), ordering and pagination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from strawberry.utils.str_converters import to_camel_case

from escalated.filters import TicketFilter
from escalated.graphql.filters import TicketFilterInput
from escalated.models import Ticket
from escalated.services import tickets
from tests.conftest import World, data_of, gid

QUERY = """query($filter: TicketFilter, $order: TicketOrder, $first: Int) {
    tickets(filter: $filter, order: $order, first: $first) {
        totalCount edges { node { reference } } } }"""


@pytest.fixture
def queue(world: World) -> dict[str, Ticket]:
    """Five tickets besides the world's: a spread of statuses, priorities and owners."""
    made = {"invoice": world.ticket}
    made["urgent"] = tickets.ticket_create(
        actor=world.agent,
        requester=world.customer,
        subject="Site down",
        priority="urgent",
        ticket_type="incident",
        department=world.billing,
        assignee=world.agent,
        tags=[world.urgent],
    )
    made["low"] = tickets.ticket_create(
        actor=world.customer, subject="Typo on the pricing page", priority="low"
    )
    made["sales"] = tickets.ticket_create(
        actor=world.other_customer, subject="Volume discount?", department=world.sales
    )
    made["resolved"] = tickets.ticket_create(
        actor=world.customer,
        subject="Password reset",
        department=world.billing,
        priority="high",
    )
    tickets.ticket_resolve(ticket=made["resolved"], actor=world.agent)
    tickets.ticket_follow(ticket=made["low"], actor=world.admin)
    return made


def _refs(gql: Any, user: Any, **variables: Any) -> list[str]:
    result = data_of(gql(QUERY, {"first": 50, **variables}, user=user))["tickets"]
    return [edge["node"]["reference"] for edge in result["edges"]]


def _names(queue: dict[str, Ticket], *keys: str) -> list[str]:
    return [queue[k].reference for k in keys]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"status": ["RESOLVED"]}, ["resolved"]),
        ({"status": ["OPEN", "RESOLVED"]}, ["resolved", "sales", "low", "urgent"]),
        ({"priority": ["URGENT", "LOW"]}, ["low", "urgent"]),
        ({"ticketType": ["INCIDENT"]}, ["urgent"]),
        ({"unassigned": False}, ["urgent"]),
        ({"search": "pricing"}, ["low"]),
        ({"search": "charged twice"}, ["invoice"]),
        ({"search": "ESC-00004"}, ["sales"]),
    ],
)
def test_filters(
    world: World, gql: Any, queue: dict[str, Ticket], filter: dict[str, Any], expected: list[str]
) -> None:
    assert _refs(gql, world.admin, filter=filter) == _names(queue, *expected)


def test_id_filters_take_global_ids(world: World, gql: Any, queue: dict[str, Ticket]) -> None:
    admin = world.admin
    assert _refs(gql, admin, filter={"assignee": gid(world.agent)}) == _names(queue, "urgent")
    assert _refs(gql, admin, filter={"department": gid(world.sales)}) == _names(queue, "sales")
    assert _refs(gql, admin, filter={"tag": gid(world.urgent)}) == _names(queue, "urgent")
    assert _refs(gql, admin, filter={"requester": gid(world.other_customer)}) == _names(
        queue, "sales"
    )


def test_a_wrong_kind_of_id_is_a_clear_error(world: World, gql: Any) -> None:
    result = gql(QUERY, {"filter": {"department": gid(world.agent)}}, user=world.admin)

    assert "filter.department must be a Department id" in result["errors"][0]["message"]


def test_following_is_relative_to_the_viewer(
    world: World, gql: Any, queue: dict[str, Ticket]
) -> None:
    assert _refs(gql, world.admin, filter={"following": True}) == _names(queue, "low")
    assert _refs(gql, world.agent, filter={"following": True}) == []


def test_created_range(world: World, gql: Any, queue: dict[str, Ticket]) -> None:
    Ticket.objects.filter(pk=queue["sales"].pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    since = (timezone.now() - timedelta(days=1)).isoformat()

    refs = _refs(gql, world.admin, filter={"createdAfter": since})
    old = _refs(gql, world.admin, filter={"createdBefore": since})

    assert queue["sales"].reference not in refs
    assert old == _names(queue, "sales")


def test_filters_never_widen_the_viewer_scope(
    world: World, gql: Any, queue: dict[str, Ticket]
) -> None:
    refs = _refs(gql, world.customer, filter={"requester": gid(world.other_customer)})

    assert refs == []


def test_order_by_priority_is_by_severity(world: World, gql: Any, queue: dict[str, Ticket]) -> None:
    refs = _refs(gql, world.admin, order={"field": "PRIORITY", "direction": "DESC"})

    assert refs[:2] == _names(queue, "urgent", "resolved")
    assert refs[-1] == queue["low"].reference


def test_default_order_is_newest_first(world: World, gql: Any, queue: dict[str, Ticket]) -> None:
    assert _refs(gql, world.admin) == _names(queue, "resolved", "sales", "low", "urgent", "invoice")


def test_pagination_is_capped(world: World, gql: Any) -> None:
    result = gql(QUERY, {"first": 101}, user=world.admin)

    assert "cannot be higher than 100" in result["errors"][0]["message"]


def test_cursor_pagination_walks_the_queue(
    world: World, gql: Any, queue: dict[str, Ticket]
) -> None:
    page = """query($after: String) { tickets(first: 2, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { reference } } } }"""
    seen: list[str] = []
    after = None
    while True:
        data = data_of(gql(page, {"after": after}, user=world.admin))["tickets"]
        seen += [e["node"]["reference"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]

    assert seen == _refs(gql, world.admin)


def test_ticket_by_reference_ignores_case(world: World, gql: Any) -> None:
    result = data_of(gql('{ ticket(reference: "esc-00001") { subject } }', user=world.customer))

    assert result["ticket"] == {"subject": "Invoice is wrong"}


def test_filter_input_and_filterset_stay_in_step() -> None:
    graphql_fields = {f.python_name for f in TicketFilterInput.__strawberry_definition__.fields}

    assert graphql_fields == set(TicketFilter.base_filters)
    assert all(to_camel_case(name) for name in graphql_fields)


def test_the_filterset_works_from_query_parameters(world: World, queue: dict[str, Ticket]) -> None:
    # The same keys a page sends as query parameters.
    filterset = TicketFilter(
        {"status": ["open"], "priority": ["urgent"]}, queryset=Ticket.objects.all()
    )

    assert list(filterset.qs) == [queue["urgent"]]


@pytest.mark.parametrize(
    "filter",
    [{"tag": "TAG"}, {"slaBreached": False}, {"slaDueBefore": "2030-01-01T00:00:00+00:00"}],
    ids=["tag", "slaBreached", "slaDueBefore"],
)
def test_customers_cannot_filter_on_what_only_staff_see(
    world: World, gql: Any, filter: dict[str, Any]
) -> None:
    if "tag" in filter:
        tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[world.urgent])
        filter = {"tag": gid(world.urgent)}

    refused = gql(QUERY, {"filter": filter}, user=world.customer)
    allowed = gql(QUERY, {"filter": filter}, user=world.agent)

    assert "Only agents can filter by this." in refused["errors"][0]["message"]
    assert refused["data"] is None
    assert "errors" not in allowed


def test_the_filterset_drops_staff_only_filters_for_others_even_unchecked(
    world: World, queue: dict[str, Ticket]
) -> None:
    class Request:
        user = world.customer

    # A door that forgets is_valid() still learns nothing from a staff-only filter.
    filterset = TicketFilter(
        {"tag": world.urgent.pk}, queryset=Ticket.objects.all(), request=Request()
    )

    assert filterset.qs.count() == Ticket.objects.count()
