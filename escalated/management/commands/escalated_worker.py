"""Drain the outbox: send due emails and webhook calls, retrying failures with backoff.

Run any number side by side (on PostgreSQL they claim rows with SKIP LOCKED and never send a row
twice). ``--once`` sends what is due and exits, for cron; without it the worker keeps polling
until SIGTERM or Ctrl-C, finishing the batch in hand first.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from escalated.services import outbox


class Command(BaseCommand):
    help = "Send due outbox deliveries (emails, webhook calls); run several for more throughput."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Send what is due now, then exit (for cron)."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="Seconds to wait when nothing is due (default 2).",
        )
        parser.add_argument(
            "--batch-size", type=int, help="Rows claimed at once (default: OUTBOX BATCH_SIZE)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self._summary(outbox.drain(limit=options["batch_size"]), options["verbosity"])
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if options["verbosity"] >= 1:
            self.stdout.write("escalated_worker: sending outbox deliveries (Ctrl-C stops)")
        while not stop.is_set():
            close_old_connections()
            report = outbox.deliver(limit=options["batch_size"])
            if report.attempted:
                self._summary(report, options["verbosity"])
            else:
                stop.wait(options["interval"])
        close_old_connections()

    def _summary(self, report: outbox.Report, verbosity: int) -> None:
        if verbosity >= 1:
            self.stdout.write(
                f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}"
            )
