"""Re-reading open sockets' access: batched per process, a bounded number of statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.access import Role, role_of
from escalated.models import ApiToken
from escalated.realtime.rechecks import _Credentials, reread
from escalated.services import tokens
from tests.conftest import World, make_user

pytestmark = pytest.mark.django_db


def _token_connections(world: World, count: int, name: str = "agent") -> list[_Credentials]:
    people = [make_user(f"{name}{i}") for i in range(count)]
    world.billing.agents.add(*people)
    found = []
    for person in people:
        tokens.api_token_create(actor=person, name="live", scopes=("read",))
        token = ApiToken.objects.get(user=person)
        found.append(_Credentials(person, token, None))
    return found


def _statements(connections: list[_Credentials]) -> tuple[int, list[Any]]:
    with CaptureQueriesContext(connection) as queries:
        users = reread(connections)
    return len(queries), users


def test_rereading_many_token_sockets_costs_what_rereading_a_few_does(world: World) -> None:
    few, _ = _statements(_token_connections(world, 2, "few"))
    many, many_users = _statements(_token_connections(world, 12, "many"))

    assert few == many == 2  # the tokens with their users; their departments
    assert [role_of(u) for u in many_users] == [Role.AGENT] * 12


def test_a_revoked_token_in_the_batch_loses_only_its_own_socket(world: World) -> None:
    connections = _token_connections(world, 3)
    tokens.api_token_revoke(actor=connections[1].user, token=connections[1].token)

    _, users = _statements(connections)

    assert [u is not None for u in users] == [True, False, True]
