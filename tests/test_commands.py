"""Management commands: tokens, the schema export (see test_schema) and the demo seed."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

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


def _printed_tokens(output: str) -> list[str]:
    return [line.split("token ")[-1] for line in output.splitlines() if "token esc_" in line]


def test_seed_demo_is_repeatable_and_its_tokens_keep_working(
    db: None, settings: Any, tmp_path: Path
) -> None:
    settings.DEMO_TOKENS_FILE = tmp_path / "tokens.json"
    first = _run("seed_demo")
    second = _run("seed_demo")

    assert Ticket.objects.count() == 6
    assert Department.objects.count() == 2
    assert ApiToken.objects.count() == 3
    for role in ("admin", "agent", "customer"):
        assert f"username {role}" in second
    assert "These API tokens are new" in first
    assert "the ones printed before; they still work" in second
    assert _printed_tokens(first) == _printed_tokens(second)
    assert [api_token_authenticate(t) is not None for t in _printed_tokens(second)] == [True] * 3


def test_seed_demo_says_when_it_rotated_the_tokens(db: None, settings: Any, tmp_path: Path) -> None:
    settings.DEMO_TOKENS_FILE = tmp_path / "tokens.json"
    first = _printed_tokens(_run("seed_demo"))
    ApiToken.objects.filter(user__username="agent").delete()  # say, revoked in the admin

    again = _run("seed_demo")

    assert "These API tokens are new" in again
    assert [api_token_authenticate(t) is not None for t in _printed_tokens(again)] == [True] * 3
    assert [api_token_authenticate(t) is not None for t in first] == [False] * 3
    assert ApiToken.objects.count() == 3


def test_seed_demo_prints_the_served_port(db: None, settings: Any) -> None:
    settings.DEMO_PORT = 8155

    output = _run("seed_demo")

    assert "GraphiQL: http://127.0.0.1:8155/support/graphql/" in output
    assert "http://127.0.0.1:8155/admin/login/" in output
    assert ":8000" not in output


@pytest.mark.urls("demo.urls")
def test_graphiql_follows_the_setting(db: None, settings: object) -> None:
    settings.ESCALATED = {"GRAPHIQL": True}  # type: ignore[attr-defined]
    page = Client().get("/support/graphql/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"graphiql" in page.content.lower()

    settings.ESCALATED = {"GRAPHIQL": False}  # type: ignore[attr-defined]
    assert Client().get("/support/graphql/", headers={"Accept": "text/html"}).status_code == 404
