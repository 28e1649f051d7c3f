"""List queries cost a constant number of SQL statements, however many rows they return."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.models import BusinessSchedule, Priority, SlaPolicy, Tag
from escalated.services import tickets
from tests.conftest import World, data_of, make_user

QUEUE = """{ tickets(first: 50) { totalCount edges { node {
    id reference subject status priority createdAt isFollowing
    requester { id name email }
    assignee { id name }
    department { id name }
    tags { id name color }
    latestReply { id body createdAt author { id name } }
    sla { policy { id name } firstResponse { dueAt metAt breached remainingSeconds isPaused }
          nextResponse { dueAt } resolution { dueAt breached remainingSeconds } }
} } } }"""


def _sla_policy() -> None:
    """Business-hours targets, so reading remainingSeconds needs each clock's schedule."""
    office = BusinessSchedule.objects.create(
        name="Office",
        intervals=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)],
    )
    hours = {p: {"seconds": 8 * 3600, "business_hours": True} for p in Priority.values}
    SlaPolicy.objects.create(
        name="Standard",
        is_default=True,
        schedule=office,
        targets={"first_response": hours, "resolution": hours},
    )


def _fill(world: World, count: int) -> None:
    _sla_policy()
    extra_tag = Tag.objects.create(name="Billing issue", slug="billing-issue")
    for n in range(count - 1):  # the world already holds one ticket
        customer = make_user(f"customer{n}")
        ticket = tickets.ticket_create(
            actor=world.agent,
            requester=customer,
            subject=f"Ticket {n}",
            department=world.billing,
            assignee=world.agent,
            tags=[world.urgent, extra_tag],
        )
        tickets.ticket_reply(ticket=ticket, author=world.agent, body=f"Reply to {n}")
        tickets.ticket_note_add(ticket=ticket, author=world.agent, body=f"Note on {n}")


def _statements(gql: Any, user: Any) -> tuple[int, dict[str, Any]]:
    gql.client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(gql.url, {"query": QUEUE}, content_type="application/json")
    return len(queries), data_of(response.json())


# Per request: the session and the user (2); the viewer's role (an agent: their departments;
# an admin: their role permissions, own and through groups, in one statement); then the page itself: tickets with their total (1),
# tags (1), requesters and assignees (2), departments (1), latest replies with authors (1) and
# the current SLA clocks with their policies and schedules (1).
EXPECTED_STATEMENTS = {"agent": 10, "admin": 10}


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize("persona", ["agent", "admin"])
def test_queue_statements_do_not_grow_with_the_page(
    world: World, gql: Any, size: int, persona: str
) -> None:
    _fill(world, size)

    count, data = _statements(gql, getattr(world, persona))

    assert data["tickets"]["totalCount"] == size
    assert len(data["tickets"]["edges"]) == size
    node = data["tickets"]["edges"][0]["node"]
    assert node["latestReply"]["author"]["name"] == "Alan Agent"
    assert {t["name"] for t in node["tags"]} == {"Urgent", "Billing issue"}
    assert node["sla"]["policy"]["name"] == "Standard"
    assert node["sla"]["firstResponse"]["metAt"] is not None
    assert node["sla"]["resolution"]["remainingSeconds"] is not None
    assert count == EXPECTED_STATEMENTS[persona]


@pytest.mark.parametrize("size", [5, 50])
def test_customer_queue_statements_are_constant(world: World, gql: Any, size: int) -> None:
    _sla_policy()
    for n in range(size - 1):
        ticket = tickets.ticket_create(
            actor=world.customer, subject=f"Mine {n}", department=world.billing
        )
        tickets.ticket_assign(ticket=ticket, actor=world.agent, assignee=world.agent)
        tickets.ticket_reply(ticket=ticket, author=world.agent, body="On it")

    count, data = _statements(gql, world.customer)

    assert data["tickets"]["totalCount"] == size
    node = data["tickets"]["edges"][0]["node"]
    assert node["assignee"]["name"] == "Alan Agent"  # customers see who works their ticket
    assert node["requester"]["email"] == "cora@example.com"  # their own address
    assert node["tags"] == []
    assert node["sla"] is None  # service levels are the helpdesk's business
    # As for agents, with the role costing the department check and the permissions (one).
    assert count == 10


THREADS = """{ tickets(first: 50) { edges { node {
    replies(first: 5) { edges { node { body ticket { id reference } } } } } } } }"""


@pytest.mark.parametrize("size", [5, 20])
def test_replies_with_their_ticket_cost_the_same_at_any_size(
    world: World, gql: Any, size: int
) -> None:
    _fill(world, size)
    gql.client.force_login(world.agent)

    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(gql.url, {"query": THREADS}, content_type="application/json")

    edges = data_of(response.json())["tickets"]["edges"]
    assert all(r["node"]["ticket"] for e in edges for r in e["node"]["replies"]["edges"])
    # Session, user, the agent's departments; tickets; replies with their tickets (one join).
    assert len(queries) == 5
