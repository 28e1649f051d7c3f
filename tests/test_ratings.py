"""Satisfaction ratings: the requester, and only the requester, rates a resolved or closed ticket
once, 1 to 5 with a comment."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated import signals
from escalated.access import SystemActor, is_requester
from escalated.errors import DomainError, ErrorCode, NotAllowed
from escalated.models import SatisfactionRating, TicketActivity
from escalated.services import ratings, tickets
from tests.conftest import World, data_of, gid

RATE = """mutation($input: TicketRateInput!) { ticketRate(input: $input) {
    rating { rating comment ratedBy { name } } ticket { satisfactionRating { rating } }
    errors { field code message } } }"""


def _rate(gql: Any, user: Any, ticket: Any, rating: int = 5, comment: str = "") -> Any:
    variables = {"input": {"ticketId": gid(ticket), "rating": rating, "comment": comment}}
    return gql(RATE, variables, user=user)


@pytest.fixture
def resolved(world: World) -> Any:
    tickets.ticket_resolve(ticket=world.ticket, actor=world.agent)
    return world.ticket


def test_the_requester_rates_a_resolved_ticket(
    world: World, gql: Any, resolved: Any, django_capture_on_commit_callbacks: Any
) -> None:
    heard: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        heard.append((kwargs["rating"].rating, kwargs["user"]))

    signals.ticket_rated.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = data_of(_rate(gql, world.customer, resolved, 4, "  Quick and kind.  "))
    finally:
        signals.ticket_rated.disconnect(receiver)

    assert result["ticketRate"] == {
        "rating": {"rating": 4, "comment": "Quick and kind.", "ratedBy": {"name": "Cora Customer"}},
        "ticket": {"satisfactionRating": {"rating": 4}},
        "errors": [],
    }
    row = TicketActivity.objects.filter(ticket=resolved).latest("id")
    assert (row.verb, row.after) == ("rated", {"rating": 4, "commented": True})
    assert heard == [(4, world.customer)]


def test_a_closed_ticket_can_be_rated_but_an_open_one_cannot(world: World, gql: Any) -> None:
    early = data_of(_rate(gql, world.customer, world.ticket))
    tickets.ticket_close(ticket=world.ticket, actor=world.customer)
    closed = data_of(_rate(gql, world.customer, world.ticket, 2))

    assert early["ticketRate"]["errors"][0]["code"] == "TICKET_NOT_RESOLVED"
    assert closed["ticketRate"]["rating"]["rating"] == 2


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_run_from_one_to_five(world: World, gql: Any, resolved: Any, rating: int) -> None:
    result = data_of(_rate(gql, world.customer, resolved, rating))

    assert result["ticketRate"]["errors"] == [
        {"field": "rating", "code": "INVALID", "message": "Rate from 1 to 5."}
    ]
    assert not SatisfactionRating.objects.exists()


def test_a_ticket_is_rated_once_and_a_retry_is_harmless(
    world: World, gql: Any, resolved: Any
) -> None:
    first = data_of(_rate(gql, world.customer, resolved, 5, "Great"))
    retry = data_of(_rate(gql, world.customer, resolved, 5, "Great"))
    change = data_of(_rate(gql, world.customer, resolved, 1, "Actually bad"))

    assert first["ticketRate"]["rating"] == retry["ticketRate"]["rating"]
    assert change["ticketRate"]["errors"][0]["code"] == "DUPLICATE"
    assert list(SatisfactionRating.objects.values_list("rating", "comment")) == [(5, "Great")]
    assert TicketActivity.objects.filter(verb="rated").count() == 1


def test_a_reopened_ticket_keeps_its_rating_and_cannot_be_rated_again(
    world: World, resolved: Any
) -> None:
    ratings.ticket_rate(ticket=resolved, actor=world.customer, rating=3)
    tickets.ticket_reopen(ticket=resolved, actor=world.customer)
    tickets.ticket_resolve(ticket=resolved, actor=world.agent)

    with pytest.raises(DomainError) as refused:
        ratings.ticket_rate(ticket=resolved, actor=world.customer, rating=5)

    assert refused.value.problems[0].code is ErrorCode.DUPLICATE


@pytest.mark.parametrize("who", ["agent", "admin"])
def test_staff_cannot_rate_for_the_requester(
    world: World, gql: Any, resolved: Any, who: str
) -> None:
    result = _rate(gql, getattr(world, who), resolved)

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not SatisfactionRating.objects.exists()


def test_another_customer_does_not_find_the_ticket(world: World, gql: Any, resolved: Any) -> None:
    result = data_of(_rate(gql, world.other_customer, resolved))

    assert result["ticketRate"]["errors"][0]["code"] == "NOT_FOUND"


def test_a_rule_or_command_is_never_the_requester(world: World, resolved: Any) -> None:
    robot = SystemActor("command:survey")

    assert is_requester(world.customer, resolved)
    assert not is_requester(robot, resolved)
    with pytest.raises(NotAllowed):
        ratings.ticket_rate(ticket=resolved, actor=robot, rating=5)


def test_a_long_comment_is_refused(world: World, gql: Any, resolved: Any) -> None:
    result = data_of(_rate(gql, world.customer, resolved, 5, "x" * (ratings.MAX_COMMENT + 1)))

    assert result["ticketRate"]["errors"][0]["code"] == "TOO_LONG"


def test_ratings_are_seen_by_staff_and_the_requester_only(
    world: World, gql: Any, resolved: Any
) -> None:
    rating = ratings.ticket_rate(ticket=resolved, actor=world.customer, rating=5)
    query = "query($id: ID!) { node(id: $id) { ... on SatisfactionRating { rating } } }"

    seen = {
        who: data_of(gql(query, {"id": gid(rating)}, user=getattr(world, who)))["node"]
        for who in ("customer", "agent", "admin", "other_customer", "outsider")
    }

    assert seen == {
        "customer": {"rating": 5},
        "agent": {"rating": 5},
        "admin": {"rating": 5},
        "other_customer": None,
        "outsider": None,
    }


QUEUE = (
    "{ tickets(first: 50) { edges { node { satisfactionRating { rating ratedBy { name } } } } } }"
)


@pytest.mark.parametrize("size", [3, 30])
def test_ratings_in_a_list_cost_the_same_at_any_size(world: World, gql: Any, size: int) -> None:
    for n in range(size):
        ticket = tickets.ticket_create(actor=world.customer, subject=f"T{n}")
        tickets.ticket_resolve(ticket=ticket, actor=world.admin)
        ratings.ticket_rate(ticket=ticket, actor=world.customer, rating=1 + n % 5)
    gql.client.force_login(world.customer)

    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(gql.url, {"query": QUEUE}, content_type="application/json")

    edges = data_of(response.json())["tickets"]["edges"]
    assert sum(1 for e in edges if e["node"]["satisfactionRating"]) == size
    # Session, user, the customer's role (departments, then both role permissions at once); the
    # page; its ratings; the raters.
    assert len(queries) == 7
