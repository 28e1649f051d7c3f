"""Inbound email through Celery: the webhook stores the message and queues its processing on a
Redis broker; a real Celery worker process processes it and sends the mail it causes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from escalated.models import GuestAccess, InboundEmail, InboundStatus, Ticket
from tests.conftest import World
from tests.mail.conftest import mailgun_mime_post
from tests.mail.messages import message
from tests.outbox.peers import SmtpSink, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def celery_worker(
    on_postgres: None, helpdesk: World, settings: Any, smtp: SmtpSink
) -> Iterator[subprocess.Popen[str]]:
    """Inbound email in "celery" mode, and a real worker consuming a queue of its own, with
    the test's database, settings and file storage (where the raw message is kept)."""
    queue = f"escalated-inbound-{uuid.uuid4().hex[:8]}"
    os.environ["ESCALATED_CELERY_QUEUE"] = queue
    from tests.outbox.celery_app import app

    app.conf.task_default_queue = queue
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "celery"}}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.outbox.process_settings",
        "ESCALATED_PROCESS_DB": connection.settings_dict["NAME"],
        "ESCALATED_PROCESS_SETTINGS": json.dumps(settings.ESCALATED),
        "ESCALATED_PROCESS_STORAGES": json.dumps(
            {"escalated_test": settings.STORAGES["escalated_test"]}
        ),
        "ESCALATED_PROCESS_SMTP_PORT": str(smtp.port),
    }
    args = ["-m", "celery", "-A", "tests.outbox.celery_app", "worker", "--pool=solo"]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue]
    worker = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
        os.environ.pop("ESCALATED_CELERY_QUEUE", None)
        app.conf.task_default_queue = "escalated"


def _status(message_id: str) -> str | None:
    row = InboundEmail.objects.filter(message_id=message_id).first()
    return None if row is None else row.status


def test_a_webhook_message_is_processed_by_a_celery_worker(
    celery_worker: subprocess.Popen[str], smtp: SmtpSink
) -> None:
    raw = bytes(
        message(sender="Gina <gina@example.net>", subject="Via Celery", message_id="<c1@x.net>")
    )
    client = Client()

    response = client.post("/support/inbound/mailgun/", mailgun_mime_post(raw))

    assert response.status_code == 200
    # Stored and committed by the webhook; processing is the worker's.
    assert wait_until(lambda: _status("<c1@x.net>") == InboundStatus.PROCESSED, timeout=60), (
        f"the worker did not process it: {_status('<c1@x.net>')}"
    )
    inbound = InboundEmail.objects.get(message_id="<c1@x.net>")
    assert (inbound.attempts, inbound.error) == (1, "")
    assert inbound.ticket is not None and inbound.ticket.subject == "Via Celery"
    assert GuestAccess.objects.get(ticket=inbound.ticket).email == "gina@example.net"
    # The guest's magic link went out through the same worker (the outbox's Celery task).
    assert wait_until(lambda: bool(smtp.to("gina@example.net")), timeout=60), "no guest link"

    again = client.post("/support/inbound/mailgun/", mailgun_mime_post(raw))

    assert again.status_code == 200
    assert InboundEmail.objects.filter(message_id="<c1@x.net>").count() == 1
    assert Ticket.objects.filter(subject="Via Celery").count() == 1
    assert celery_worker.poll() is None, "the worker died"
