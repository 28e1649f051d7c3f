"""Re-reading open sockets' access: batched per process, a bounded number of statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.access import Role, role_of
from escalated.models import ApiToken
from escalated.realtime.rechecks import _Credentials, reread
from escalated.services import tokens
from tests.conftest import World, make_user
from tests.realtime.conftest import session_cookie

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


def _session_connection(user: Any) -> _Credentials:
    return _Credentials(user, None, session_cookie(user))


def test_a_session_signed_with_a_fallback_secret_key_is_kept(world: World, settings: Any) -> None:
    # Rotating SECRET_KEY with SECRET_KEY_FALLBACKS must not sign anyone out: the recheck
    # verifies the session against the fallback key and leaves the session as it is.
    connection = _session_connection(world.agent)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "rotated-" + settings.SECRET_KEY

    (user,) = reread([connection])

    assert user is not None and user.pk == world.agent.pk
    assert Session.objects.filter(session_key=connection.session_key).exists()


def test_a_session_with_a_stale_password_hash_is_refused_and_left_alone(world: World) -> None:
    connection = _session_connection(world.agent)
    world.agent.set_password("changed elsewhere")
    world.agent.save()

    (user,) = reread([connection])

    assert user is None
    # Signing the browser out is the host's business (its next request does it), not ours.
    assert Session.objects.filter(session_key=connection.session_key).exists()


def test_a_connection_whose_check_fails_is_refused_and_the_rest_go_on(
    world: World, settings: Any
) -> None:
    good = _token_connections(world, 1)
    broken = _session_connection(world.customer)
    # The session names a backend that cannot be loaded: checking it raises.
    store = SessionStore(broken.session_key)
    store[BACKEND_SESSION_KEY] = "tests.no_such_module.Backend"
    store.save()
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "tests.no_such_module.Backend",
    ]

    users = reread([*good, broken])

    assert [u is not None for u in users] == [True, False]
