"""The background sender of "immediate" delivery: in a process of its own, a command that ends
right after its commit still sends what it committed before the process exits; and a batch
waits for its process to be between requests, for a bounded time."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from escalated.services import outbox
from tests.realtime.servers import ROOT, python_json

SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from escalated.services import outbox
from escalated.services import tickets
from escalated.models import Department
from tests.conftest import make_user
billing = Department.objects.create(name="Billing", slug="billing")
billing.agents.add(make_user("alan"))
tickets.ticket_create(actor=make_user("cora"), subject="Help", department=billing)
print(json.dumps({"queued": outbox.background._busy}))
"""


def test_a_process_that_ends_after_its_commit_sends_first(tmp_path: Path) -> None:
    db, mail = tmp_path / "db.sqlite3", tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "ESCALATED_SERVER_DB": str(db),
        "ESCALATED_SERVER_MAIL_DIR": str(mail),
        "PYTHONPATH": str(ROOT),
    }

    printed = python_json(["-c", SCRIPT], env)

    assert printed["queued"] >= 1  # handed to the thread, not sent in the request's path
    with sqlite3.connect(db) as connection:
        statuses = connection.execute("SELECT status FROM escalated_deliveries").fetchall()
    assert statuses and {status for (status,) in statuses} == {"delivered"}
    assert len(list(mail.iterdir())) == len(statuses)


def test_a_batch_waits_while_its_process_serves_a_request() -> None:
    sender = outbox.BackgroundSender()
    sender.request_started()  # the request whose commit handed the batch over
    waited = threading.Thread(target=sender._wait_for_idle, args=(time.monotonic() + 30,))

    waited.start()
    waited.join(0.3)
    assert waited.is_alive()  # the request is still being answered
    sender.request_finished()
    waited.join(5)

    assert not waited.is_alive()


def test_a_process_that_is_never_idle_still_sends_after_the_longest_wait() -> None:
    sender = outbox.BackgroundSender()
    sender.request_started()
    sender.request_started()
    sender.request_finished()  # one of two requests ends: still busy
    started = time.monotonic()

    sender._wait_for_idle(started + 0.5)

    assert 0.45 <= time.monotonic() - started < 5
    sender.request_finished()
    sender.request_finished()  # a finish without its start (connected mid-request) is ignored
    assert sender._requests == 0
