"""Management commands: tokens, the schema export (see test_schema) and the demo seed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from escalated.models import ApiToken, Department, Ticket
from escalated.services.tokens import api_token_authenticate
from tests.conftest import World


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_token_create_list_revoke(world: World) -> None:
    output = _run(
        "escalated_token", "create", "alan", "--name", "ci", "--scope", "read", "--days", "30"
    )
    raw = output.strip().splitlines()[-1]
    token = api_token_authenticate(raw)
    assert token is not None and token.user == world.agent and token.scopes == ["read"]
    assert token.expires_at is not None

    listing = _run("escalated_token", "list", "--user", "alan")
    assert token.prefix in listing and "live" in listing and raw not in listing

    _run("escalated_token", "revoke", str(token.pk))
    assert api_token_authenticate(raw) is None
    assert "revoked" in _run("escalated_token", "list")


def test_token_create_for_an_unknown_user_fails_clearly(db: None) -> None:
    with pytest.raises(CommandError, match="No user 'nobody'"):
        _run("escalated_token", "create", "nobody")


def test_seed_demo_is_repeatable_and_prints_working_tokens(db: None) -> None:
    first = _run("seed_demo")
    second = _run("seed_demo")

    assert Ticket.objects.count() == 6
    assert Department.objects.count() == 2
    assert ApiToken.objects.count() == 3, "each run replaces the demo tokens"
    for role in ("admin", "agent", "customer"):
        assert f"username {role}" in second
    tokens = [line.split("token ")[-1] for line in second.splitlines() if "token esc_" in line]
    assert [api_token_authenticate(t) is not None for t in tokens] == [True] * 3
    assert first != second


@pytest.mark.urls("demo.urls")
def test_graphiql_follows_the_setting(db: None, settings: object) -> None:
    settings.ESCALATED = {"GRAPHIQL": True}  # type: ignore[attr-defined]
    page = Client().get("/support/graphql/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"graphiql" in page.content.lower()

    settings.ESCALATED = {"GRAPHIQL": False}  # type: ignore[attr-defined]
    assert Client().get("/support/graphql/", headers={"Accept": "text/html"}).status_code == 404
