"""Signing in: session cookies with CSRF, and API tokens for headless clients."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from escalated.models import ApiToken, Ticket
from escalated.services import tokens
from tests.conftest import World

URL = "/support/graphql/"
VIEWER = {"query": "{ viewer { role user { name } } }"}
CREATE = {
    "query": 'mutation { ticketCreate(input: {subject: "Via API"}) '
    "{ ticket { reference channel } errors { code } } }"
}


def _post(body: dict[str, Any], token: str | None = None, client: Client | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (client or Client()).post(URL, body, content_type="application/json", headers=headers)


def test_a_token_signs_in_as_its_user(world: World) -> None:
    _row, raw = tokens.api_token_create(actor=world.agent, name="cli")

    response = _post(VIEWER, raw)

    assert response.json()["data"]["viewer"] == {"role": "AGENT", "user": {"name": "Alan Agent"}}


def test_tokens_are_stored_only_as_hashes(world: World) -> None:
    row, raw = tokens.api_token_create(actor=world.agent, name="cli")

    stored = ApiToken.objects.filter(pk=row.pk).values().get()
    assert raw not in [str(v) for v in stored.values()]
    assert stored["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored["prefix"])


def test_tokens_are_compared_in_constant_time(
    world: World, compare_digest_calls: list[tuple[str, str]]
) -> None:
    _row, raw = tokens.api_token_create(actor=world.agent, name="cli")

    assert tokens.api_token_authenticate(raw) is not None
    assert compare_digest_calls, "the hash must be checked with hmac.compare_digest"


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "inactive user"])
def test_bad_tokens_get_401_and_no_data(world: World, state: str) -> None:
    row, raw = tokens.api_token_create(actor=world.agent, name="cli")
    if state == "unknown":
        raw = raw[:-4] + "AAAA"
    elif state == "revoked":
        tokens.api_token_revoke(actor=world.agent, token=row)
    elif state == "expired":
        ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        world.agent.is_active = False
        world.agent.save()

    response = _post(VIEWER, raw)

    assert response.status_code == 401
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_read_only_token_cannot_mutate(world: World) -> None:
    _row, raw = tokens.api_token_create(actor=world.customer, name="ro", scopes=["read"])

    response = _post(CREATE, raw)

    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert Ticket.objects.count() == 1
    assert _post(VIEWER, raw).json()["data"]["viewer"]["role"] == "CUSTOMER"


def test_token_clients_need_no_csrf_and_get_the_api_channel(world: World) -> None:
    _row, raw = tokens.api_token_create(actor=world.customer, name="cli")

    response = _post(CREATE, raw, client=Client(enforce_csrf_checks=True))

    payload = response.json()["data"]["ticketCreate"]
    assert payload["errors"] == []
    assert payload["ticket"]["channel"] == "API"


def test_session_posts_need_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.customer)

    refused = _post(CREATE, client=client)
    assert refused.status_code == 403
    assert Ticket.objects.count() == 1

    client.get(URL)  # any GET hands out the csrftoken cookie, as GraphiQL needs
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        URL, CREATE, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.json()["data"]["ticketCreate"]["errors"] == []


def test_last_used_is_recorded_without_a_write_per_request(world: World) -> None:
    _row, raw = tokens.api_token_create(actor=world.agent, name="cli")

    first = tokens.api_token_authenticate(raw)
    second = tokens.api_token_authenticate(raw)

    assert first is not None and second is not None
    assert first.last_used_at is not None
    assert second.last_used_at == first.last_used_at


def test_a_token_cannot_issue_tokens(world: World) -> None:
    _row, raw = tokens.api_token_create(actor=world.agent, name="cli")
    mint = {"query": 'mutation { apiTokenCreate(input: {name: "heir"}) { token errors { code } } }'}

    response = _post(mint, raw)

    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert ApiToken.objects.count() == 1
