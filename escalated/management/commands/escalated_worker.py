"""Drain the outbox: send due emails and webhook calls, retrying failures with backoff; and
process stored inbound emails (in the "worker" DELIVERY mode they wait for this).

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

from escalated.mail.processing import inbound_process_pending
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
            self._inbound(inbound_process_pending(), options["verbosity"])
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if options["verbosity"] >= 1:
            self.stdout.write("escalated_worker: sending outbox deliveries (Ctrl-C stops)")
        while not stop.is_set():
            close_old_connections()
            report = outbox.deliver(limit=options["batch_size"])
            processed = inbound_process_pending()
            if report.attempted:
                self._summary(report, options["verbosity"])
            self._inbound(processed, options["verbosity"])
            if not (report.attempted or processed):
                stop.wait(options["interval"])
        close_old_connections()

    def _inbound(self, processed: int, verbosity: int) -> None:
        if processed and verbosity >= 1:
            self.stdout.write(f"processed {processed} inbound emails")

    def _summary(self, report: outbox.Report, verbosity: int) -> None:
        if verbosity >= 1:
            self.stdout.write(
                f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}"
            )
