"""Inbound email on, with Mailgun as the adapter, files in a temporary storage, guests allowed."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import pytest
from django.test import Client

from tests.conftest import World

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
INBOUND = {
    "INBOUND_EMAIL_ENABLED": True,
    "INBOUND_EMAIL_ADAPTER": "mailgun",
    "INBOUND_EMAIL_ADDRESS": "support@help.example.com",
    "MAILGUN_SIGNING_KEY": MAILGUN_KEY,
    "GUEST_TICKETS_ENABLED": True,
    "GUEST_RATE_LIMIT": {"PER_EMAIL": 10**6, "PER_IP": 10**6},
}


@pytest.fixture
def inbound_on(settings: Any, file_store: Any) -> Any:
    settings.ESCALATED = {**settings.ESCALATED, **INBOUND}
    return file_store


@pytest.fixture
def helpdesk(world: World, inbound_on: Any) -> World:
    return world


def mailgun_signature(key: str = MAILGUN_KEY, timestamp: int | None = None) -> dict[str, str]:
    """The three signing fields Mailgun adds to every webhook post."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": signature}


def mailgun_mime_post(raw: bytes, **signing: Any) -> dict[str, Any]:
    """The form a Mailgun route posts when it forwards to a URL ending in ``mime``."""
    return {
        "recipient": "support@help.example.com",
        "sender": "cora@example.com",
        "from": "Cora Customer <cora@example.com>",
        "subject": "whatever the message says",
        "body-mime": raw.decode("utf-8", "surrogateescape"),
        **(signing or mailgun_signature()),
    }


def post_mailgun(client: Client, data: dict[str, Any], commit: Any) -> Any:
    with commit():
        return client.post("/support/inbound/mailgun/", data)


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """``with commit(): …`` runs the block, then its after-commit work, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def deliver(helpdesk: World, commit: Any) -> Any:
    """Deliver a raw message through the Mailgun webhook (body-mime) and return the response."""
    client = Client()

    def send(raw: bytes | Any) -> Any:
        data = raw if isinstance(raw, bytes) else bytes(raw)
        return post_mailgun(client, mailgun_mime_post(data), commit)

    return send
