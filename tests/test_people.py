"""Who may look whom up (User nodes): nobody reads the address of a stranger."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import World, data_of, gid

PERSON = "query($id: ID!) { node(id: $id) { ... on User { name email } } }"


def _look_up(gql: Any, viewer: Any, person: Any) -> Any:
    return data_of(gql(PERSON, {"id": gid(person)}, user=viewer))["node"]


@pytest.mark.parametrize(
    ("viewer", "person", "seen"),
    [
        ("agent", "customer", True),  # the requester of a ticket in the agent's department
        ("agent", "outsider", True),  # a colleague (member of a department)
        ("agent", "other_customer", False),  # never on a ticket the agent can see
        ("outsider", "customer", False),  # their ticket is in billing, not sales
        ("admin", "other_customer", True),
        ("customer", "agent", True),  # answered the customer's ticket
        ("customer", "outsider", False),
        ("customer", "other_customer", False),
    ],
)
def test_people_are_visible_through_the_tickets_one_can_see(
    world: World, gql: Any, viewer: str, person: str, seen: bool
) -> None:
    found = _look_up(gql, getattr(world, viewer), getattr(world, person))

    assert (found is not None) == seen


def test_customers_see_staff_names_but_not_their_addresses(world: World, gql: Any) -> None:
    assert _look_up(gql, world.customer, world.agent) == {"name": "Alan Agent", "email": None}


@override_settings(ESCALATED={"AGENT_SCOPE": "all"})
def test_agents_who_see_every_ticket_see_everyone(world: World, gql: Any) -> None:
    found = _look_up(gql, world.outsider, world.other_customer)

    assert found == {"name": "Otto Other", "email": "otto@example.com"}
