"""Fixtures for delivery tests: the SMTP sink and HTTP receiver, and Django pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.outbox.peers import HttpReceiver, SmtpSink


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, with Django's SMTP email backend sending to it."""
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Help Desk <help@support.example.com>"
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def receiver(settings: Any) -> Iterator[HttpReceiver]:
    """A real HTTP server on loopback; webhooks may call loopback and plain http for it."""
    server = HttpReceiver()
    server.start()
    settings.ESCALATED = {
        **settings.ESCALATED,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def helpdesk(world: Any) -> Any:
    """The shared world with an empty outbox (building it queued a few emails nobody sent)."""
    from escalated.models import Delivery

    Delivery.objects.all().delete()
    return world


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """``with commit(): …`` runs the block, then its after-commit work, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
