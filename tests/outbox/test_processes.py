"""Delivery across real processes on PostgreSQL: concurrent workers, a crash after the commit,
and the Celery path with a real worker and Redis broker."""

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

from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Department, Webhook
from escalated.services import tickets as service
from tests.conftest import make_user
from tests.outbox.peers import HttpReceiver, SmtpSink, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _env(settings: Any, smtp_port: int = 25, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.outbox.process_settings",
        "ESCALATED_PROCESS_DB": connection.settings_dict["NAME"],
        "ESCALATED_PROCESS_SETTINGS": json.dumps(settings.ESCALATED),
        "ESCALATED_PROCESS_SMTP_PORT": str(smtp_port),
        **extra,
    }


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


@pytest.fixture
def billing(on_postgres: None) -> Department:
    department = Department.objects.create(name="Billing", slug="billing")
    department.agents.add(make_user("alan", first="Alan", last="Agent"))
    return department


def test_concurrent_workers_send_every_delivery_exactly_once(
    billing: Department, receiver: HttpReceiver, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    customer = make_user("cora")
    ticket = service.ticket_create(actor=customer, subject="Load", department=billing)
    hook = Webhook.objects.create(url=receiver.url, secret="s" * 20)
    Delivery.objects.bulk_create(
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event="ticket.updated",
            ticket=ticket,
            webhook=hook,
            recipient=receiver.url,
        )
        for _ in range(200)
    )
    receiver.delay = 0.02  # slow enough that the workers overlap
    env = _env(settings)

    workers = [
        _start(["-m", "django", "escalated_worker", "--once", "--batch-size", "5"], env)
        for _ in range(4)
    ]
    results = [_finish(worker) for worker in workers]

    assert [code for code, _ in results] == [0, 0, 0, 0], results
    sent = [int(output.split("delivered ")[1].split(",")[0]) for _, output in results]
    assert sum(sent) == 200
    assert sum(1 for n in sent if n) >= 2, f"the workers did not share the work: {sent}"
    keys = [call.headers["X-Escalated-Delivery"] for call in receiver.calls]
    assert len(keys) == 200 and len(set(keys)) == 200, "a delivery was sent twice"
    webhook_rows = Delivery.objects.filter(kind=DeliveryKind.WEBHOOK)
    assert set(webhook_rows.values_list("status", "attempts")) == {(DeliveryStatus.DELIVERED, 1)}


CRASH_AFTER_COMMIT = """
import os, django
django.setup()
from django.contrib.auth import get_user_model
from django.db import transaction
from escalated.models import Department
from escalated.services.tickets import ticket_create

customer = get_user_model().objects.get(username="cora")
with transaction.atomic():
    # Runs first after the commit, before the outbox's own hook: the process dies in between.
    transaction.on_commit(lambda: os._exit(17))
    ticket_create(actor=customer, subject="Lost?", department=Department.objects.get())
"""


def test_a_crash_after_the_commit_delivers_later(
    billing: Department, smtp: SmtpSink, settings: Any
) -> None:
    make_user("cora")
    env = _env(settings, smtp_port=smtp.port)

    code, output = _finish(_start(["-c", CRASH_AFTER_COMMIT], env))

    assert code == 17, output
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)
    assert smtp.messages == []

    code, output = _finish(_start(["-m", "django", "escalated_worker", "--once"], env))

    assert code == 0, output
    assert "delivered 1," in output
    [message] = smtp.wait_for(1)
    assert message["To"] == "alan@example.com"
    assert message["Subject"].endswith("New ticket: Lost?")


@pytest.fixture
def celery_worker(settings: Any, smtp: SmtpSink) -> Iterator[None]:
    """A real Celery worker process on the Redis broker, consuming a queue of its own."""
    queue = f"escalated-test-{uuid.uuid4().hex[:8]}"
    os.environ["ESCALATED_CELERY_QUEUE"] = queue
    from tests.outbox.celery_app import app

    app.conf.task_default_queue = queue
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "celery"}}
    args = ["-m", "celery", "-A", "tests.outbox.celery_app", "worker", "--pool=solo"]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue]
    worker = _start(args, _env(settings, smtp_port=smtp.port))
    try:
        yield
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
        os.environ.pop("ESCALATED_CELERY_QUEUE", None)


@pytest.mark.redis
def test_the_celery_path_delivers_through_a_real_worker(
    billing: Department, smtp: SmtpSink, celery_worker: None
) -> None:
    customer = make_user("cora")

    service.ticket_create(actor=customer, subject="Via Celery", department=billing)

    assert wait_until(lambda: len(smtp.messages) == 1, timeout=60), "the worker sent nothing"
    assert smtp.messages[0]["Subject"].endswith("New ticket: Via Celery")
    assert wait_until(lambda: Delivery.objects.get().status == DeliveryStatus.DELIVERED, timeout=10)


def test_a_running_worker_sends_new_rows_and_stops_cleanly_on_sigterm(
    billing: Department, smtp: SmtpSink, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    worker = _start(
        ["-m", "django", "escalated_worker", "--interval", "0.2"],
        _env(settings, smtp_port=smtp.port),
    )
    try:
        service.ticket_create(actor=make_user("cora"), subject="While running", department=billing)

        assert wait_until(lambda: len(smtp.messages) == 1, timeout=60), "the worker sent nothing"
    finally:
        worker.send_signal(signal.SIGTERM)
        code, output = _finish(worker, timeout=30)

    assert code == 0, output
    assert "delivered 1, retrying 0, failed 0" in output
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_paced_worker_holds_back_the_hubs_events_but_not_the_webhooks_beside_them(
    billing: Department, receiver: HttpReceiver, settings: Any
) -> None:
    """A real worker, one row a batch, working a thousandth of the time: after each hub event it
    rests (999 times that batch's work), and meanwhile it sends every due webhook."""
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MODE": "synced",
        "HOSTED_API_URL": receiver.url,
        "HOSTED_API_KEY": "esk_site_key",
        "HOSTED_SIGNING_SECRET": "hub-signing-secret-0123456789",
        "OUTBOX": {"DELIVERY": "worker"},
    }
    ticket = service.ticket_create(actor=make_user("cora"), subject="Backlog", department=billing)
    hook = Webhook.objects.create(url=receiver.url, secret="s" * 20)
    Delivery.objects.all().delete()
    Delivery.objects.bulk_create(
        Delivery(
            kind=DeliveryKind.HUB,
            event="reply.created",
            ticket=ticket,
            recipient=receiver.url,
            sequence=n,
            payload={"event_id": f"e{n}"},
        )
        for n in range(1, 4)
    )
    Delivery.objects.bulk_create(
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event="ticket.updated",
            ticket=ticket,
            webhook=hook,
            recipient=receiver.url,
        )
        for _ in range(5)
    )
    pacing = ["--batch-size", "1", "--duty-cycle", "0.001", "--nice", "0"]
    worker = _start(
        ["-m", "django", "escalated_worker", "--interval", "0.1", *pacing], _env(settings)
    )

    def sent(kind: str) -> int:
        return Delivery.objects.filter(kind=kind, status=DeliveryStatus.DELIVERED).count()

    try:
        assert wait_until(lambda: sent(DeliveryKind.WEBHOOK) == 5, timeout=60), "no webhooks"
        hub_sent = sent(DeliveryKind.HUB)
    finally:
        worker.send_signal(signal.SIGTERM)
        code, output = _finish(worker, timeout=30)

    assert code == 0, output
    assert hub_sent < 3, "the hub's events were not paced"
    assert hub_sent >= 1
