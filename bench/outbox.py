"""Outbox benchmark on PostgreSQL: what notifications add to a change, and how fast workers drain.

    ESCALATED_TEST_DB=postgres ESCALATED_TEST_DB_NAME=bench_escalated_outbox \\
        .venv/bin/python bench/outbox.py --deliveries 1000 --workers 1 2 4

1. Write path: SQL statements and time of an agent's reply (one email, two webhook endpoints)
   with notifications on, against the same reply with no channel and no endpoint.
2. Drain: N webhook deliveries to an HTTP receiver on loopback, sent by W `escalated_worker
   --once` processes side by side; wall time (with the processes' start-up, measured apart on an
   empty outbox) and a check that every delivery arrived exactly once.

Creates and drops its own database (named by ESCALATED_TEST_DB_NAME).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
)

from escalated.access import SystemActor  # noqa: E402
from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Department, Webhook  # noqa: E402
from escalated.services import tickets, webhooks  # noqa: E402
from tests.conftest import make_user  # noqa: E402
from tests.outbox.peers import HttpReceiver  # noqa: E402

OPEN = {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True, "WEBHOOK_REQUIRE_HTTPS": False}
WORKER = {"DELIVERY": "worker"}  # the write path alone: nothing is sent in-process


def write_path(rounds: int) -> list[str]:
    agent = make_user("bench-agent", first="Bench", last="Agent")
    customer = make_user("bench-customer")
    billing = Department.objects.create(name="Bench", slug="bench")
    billing.agents.add(agent)
    rows = []
    for label, escalated, endpoints in (
        (
            "no channel, no endpoint",
            {"NOTIFICATION_CHANNELS": [], "OUTBOX": {"DELIVERY": "worker"}},
            0,
        ),
        ("1 email + 2 webhook endpoints", {**OPEN, "OUTBOX": {"DELIVERY": "worker"}}, 2),
    ):
        Webhook.objects.all().delete()
        for n in range(endpoints):
            webhooks.webhook_create(
                actor=SystemActor("bench"), url=f"https://h{n}.example.com/in", secret="s" * 20
            )
        with override_settings(ESCALATED=escalated):
            ticket = tickets.ticket_create(actor=customer, subject="Bench", department=billing)
            times, counts = [], []
            for _ in range(rounds):
                start = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    tickets.ticket_reply(ticket=ticket, author=agent, body="Hello")
                times.append(time.perf_counter() - start)
                counts.append(len(queries))
        rows.append(
            f"| ticket_reply, {label} | {statistics.median(counts)} | "
            f"{statistics.median(times) * 1000:.1f} ms |"
        )
    Webhook.objects.all().delete()
    Delivery.objects.all().delete()
    return rows


def drain(receiver: HttpReceiver, deliveries: int, workers: int) -> tuple[float, float]:
    ticket = tickets.ticket_create(
        actor=make_user(f"bench-{workers}-{deliveries}"), subject="Drain", department=None
    )
    hook = Webhook.objects.create(url=receiver.url, secret="s" * 20)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.outbox.process_settings",
        "ESCALATED_PROCESS_DB": connection.settings_dict["NAME"],
        "ESCALATED_PROCESS_SETTINGS": '{"WEBHOOK_ALLOW_PRIVATE_NETWORKS": true, '
        '"WEBHOOK_REQUIRE_HTTPS": false}',
    }
    command = [sys.executable, "-m", "django", "escalated_worker", "--once", "-v", "0"]

    def run() -> float:
        start = time.perf_counter()
        processes = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(workers)]
        assert all(p.wait(timeout=600) == 0 for p in processes)
        return time.perf_counter() - start

    Delivery.objects.all().delete()
    idle = run()
    Delivery.objects.bulk_create(
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event="ticket.updated",
            ticket=ticket,
            webhook=hook,
            recipient=receiver.url,
        )
        for _ in range(deliveries)
    )
    receiver.calls.clear()
    busy = run()
    keys = [call.headers["X-Escalated-Delivery"] for call in receiver.calls]
    assert len(keys) == deliveries == len(set(keys)), "lost or doubled deliveries"
    assert Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).count() == 0
    hook.delete()
    return busy, idle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args()
    assert connection.vendor == "postgresql", "run with ESCALATED_TEST_DB=postgres"
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    receiver = HttpReceiver()
    receiver.start()
    try:
        print("| write path | SQL statements | median time |\n|---|---|---|")
        print("\n".join(write_path(options.rounds)))
        print("\n| workers | deliveries | wall time | of which start-up | deliveries/s, net |")
        print("|---|---|---|---|---|")
        for workers in options.workers:
            busy, idle = drain(receiver, options.deliveries, workers)
            rate = options.deliveries / max(busy - idle, 1e-9)
            print(
                f"| {workers} | {options.deliveries} | {busy:.2f} s | {idle:.2f} s | {rate:.0f} |"
            )
    finally:
        receiver.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
