"""Mutations are limited per caller (API token, user, guest link or client IP) per minute,
counted in the Django cache: over the limit, a typed RATE_LIMITED error and Retry-After."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.test import Client

from escalated.models import Ticket
from tests.conftest import World

CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
    ticket { id } errors { code } } }"""


def _create(client: Client, subject: str, **headers: str) -> Any:
    return client.post(
        "/support/graphql/",
        {"query": CREATE, "variables": {"input": {"subject": subject}}},
        content_type="application/json",
        headers=headers,
    )


def _limited(settings: Any, per_minute: int, cache: str = "default") -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MUTATION_RATE_LIMIT": {"PER_MINUTE": per_minute, "CACHE": cache},
    }


def test_a_caller_over_the_limit_is_told_when_to_come_back(world: World, settings: Any) -> None:
    _limited(settings, 3)
    client = Client()
    client.force_login(world.customer)
    client.get("/support/graphql/")  # the CSRF cookie
    csrf = {"X-CSRFToken": client.cookies["csrftoken"].value}
    before = Ticket.objects.count()

    answers = [_create(client, f"Try {n}", **csrf) for n in range(4)]

    assert [a.json().get("errors") for a in answers[:3]] == [None, None, None]
    refused = answers[3]
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert refused["Retry-After"] == str(error["extensions"]["retryAfter"])
    assert Ticket.objects.count() == before + 3


def test_each_caller_has_a_budget_of_their_own(world: World, gql: Any, settings: Any) -> None:
    _limited(settings, 1)

    first = gql(CREATE, {"input": {"subject": "Mine"}}, user=world.customer)
    again = gql(CREATE, {"input": {"subject": "Mine again"}}, user=world.customer)
    other = gql(CREATE, {"input": {"subject": "Theirs"}}, user=world.other_customer)

    assert "errors" not in first and "errors" not in other
    assert again["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_anonymous_callers_are_counted_by_ip(world: World, gql: Any, settings: Any) -> None:
    _limited(settings, 1)
    guest = """mutation($input: GuestTicketCreateInput!) { guestTicketCreate(input: $input) {
        errors { code } } }"""
    given = {"input": {"name": "Gail", "email": "gail@example.net", "subject": "Hi"}}

    gql(guest, given)
    again = gql(guest, given)

    assert again["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


@pytest.mark.redis
def test_the_limit_counts_in_a_shared_redis_cache(world: World, gql: Any, settings: Any) -> None:
    url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings.CACHES = {
        **settings.CACHES,
        # A prefix of its own: nothing here clears or reads anyone else's keys.
        "escalated_mutations": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"escalated-test-{uuid.uuid4().hex}",
        },
    }
    _limited(settings, 2, cache="escalated_mutations")

    answers = [gql(CREATE, {"input": {"subject": f"R{n}"}}, user=world.customer) for n in range(3)]

    assert [("errors" in a) for a in answers] == [False, False, True]
    assert answers[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
