"""Inbound email benchmark: 1,000 messages through the Mailgun webhook, and 1,000 through one
IMAP pass (pymap on loopback), each stored, processed and threaded as in production.

    .venv/bin/python -m bench.inbound --messages 1000
    ESCALATED_TEST_DB=postgres ESCALATED_TEST_DB_NAME=bench_escalated_inbound \\
        .venv/bin/python -m bench.inbound --messages 1000

Half the messages open guest tickets (strangers, the heaviest path: a guest, a token, a magic
link email in the outbox), the other half are those guests' replies, threaded by In-Reply-To.
Everything runs as the default "immediate" DELIVERY mode runs it: each message is processed
right after its commit, and the notification emails it causes (the guest's link, the agents'
notices) are sent at once, to Django's in-memory mail backend. Prints messages per second and
SQL statements per message, and checks that every message ended processed, once. Creates and
drops its own database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402

from escalated.mail import imap  # noqa: E402
from escalated.models import InboundEmail, InboundStatus, Reply, Ticket  # noqa: E402
from tests.mail.conftest import INBOUND, mailgun_mime_post  # noqa: E402
from tests.mail.imap_servers import imap_server  # noqa: E402
from tests.mail.messages import message  # noqa: E402


def conversation(count: int, tag: str) -> list[bytes]:
    """``count`` messages: a stranger's new question, then that stranger's reply, and so on."""
    raws = []
    for n in range(count):
        asker = n - n % 2
        sender = f"Person {asker} <person{asker}.{tag}@example.net>"
        first = f"<{tag}-{asker}@mail.example.net>"
        if n % 2 == 0:
            msg = message(sender=sender, subject=f"Question {n}", message_id=first)
        else:
            msg = message(
                sender=sender,
                subject=f"Re: Question {asker}",
                text="Any news?\n\nOn Monday someone wrote:\n> earlier text\n",
                headers={"In-Reply-To": first, "References": first},
            )
        raws.append(bytes(msg))
    return raws


def check(tag: str, count: int) -> None:
    rows = InboundEmail.objects.filter(sender__endswith=f".{tag}@example.net")
    assert rows.count() == count, "lost or doubled messages"
    bad = list(rows.exclude(status=InboundStatus.PROCESSED).values_list("status", "error")[:3])
    assert not bad, f"unprocessed messages: {bad}"
    assert Reply.objects.filter(ticket__inbound_emails__in=rows).count() >= count // 2


class Statements:
    """Counts every SQL statement the connection runs (the query log keeps only 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def row(path: str, count: int, seconds: float, statements: int) -> str:
    return (
        f"| {path} | {count} | {seconds:.1f} s | {count / seconds:.0f} | {statements / count:.1f} |"
    )


def through_mailgun(count: int) -> str:
    raws = conversation(count, "mailgun")
    client = Client()
    statements = Statements()
    with connection.execute_wrapper(statements):
        start = time.perf_counter()
        for raw in raws:
            response = client.post("/support/inbound/mailgun/", mailgun_mime_post(raw))
            assert response.status_code == 200, response.status_code
        seconds = time.perf_counter() - start
    check("mailgun", count)
    return row("Mailgun webhook (body-mime)", count, seconds, statements.count)


def through_imap(count: int, base: dict[str, object]) -> str:
    servers = imap_server()
    server = next(servers)
    try:
        server.append(*conversation(count, "imap"))
        settings = override_settings(ESCALATED={**base, **server.settings()})
        statements = Statements()
        with settings, connection.execute_wrapper(statements):
            start = time.perf_counter()
            report = imap.imap_poll_once()
            seconds = time.perf_counter() - start
        assert (report.seen, report.stored) == (count, count)
        check("imap", count)
    finally:
        servers.close()
    return row("IMAP, one pass (pymap on loopback)", count, seconds, statements.count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    options = parser.parse_args()
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    files = tempfile.TemporaryDirectory()
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "bench": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": files.name},
        },
    }
    base = {**INBOUND, "ATTACHMENT_STORAGE": "bench"}
    try:
        with override_settings(STORAGES=storages, ESCALATED=base):
            print(f"database: {connection.vendor}")
            print("| path | messages | wall time | messages/s | SQL statements per message |")
            print("|---|---:|---:|---:|---:|")
            print(through_mailgun(options.messages))
            print(through_imap(options.messages, base))
            print(f"tickets: {Ticket.objects.count()}")
    finally:
        files.cleanup()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
