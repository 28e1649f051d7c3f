"""Drain the outbox: send due emails and webhook calls, retrying failures with backoff; and
process stored inbound emails (in the "worker" DELIVERY mode they wait for this).

Run any number side by side (on PostgreSQL they claim rows with SKIP LOCKED and never send a row
twice). ``--once`` sends what is due and exits, for cron; without it the worker keeps polling
until SIGTERM or Ctrl-C, finishing the batch in hand first.

While a backlog lasts the polling worker paces itself: after a batch in which it worked ``t``
seconds (claiming, building, recording: the batch's time less the time it waited on the peers'
answers, when it used no CPU) it rests ``t x (1 - d) / d`` for a duty cycle ``d``
(``OUTBOX["WORKER_DUTY_CYCLE"]``, ``--duty-cycle``), and it runs at a lower CPU priority
(``OUTBOX["WORKER_NICE"]``, ``--nice``). Both keep a long backlog (a hub that comes back after
an outage, a bulk action's mail) from taking the CPU the site's requests need on the same
machine; not counting the waits keeps a slow peer (a hub applying each event through its
services) from halving the drain for no CPU saved. The rest holds back only the kinds of
``OUTBOX["WORKER_PACED_KINDS"]`` (by default the sync pushes, ``hub`` and ``site``), in
proportion to their share of the batch: emails and webhooks keep going meanwhile.
``--once`` (cron) does not rest between batches.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from escalated.conf import escalated_settings
from escalated.mail.processing import inbound_process_pending
from escalated.services import outbox


def rest_after(busy: float, duty: float) -> float:
    """Seconds to rest after ``busy`` seconds of work, so work is ``duty`` of the time."""
    return max(busy, 0.0) * (1 - duty) / duty


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
        parser.add_argument(
            "--duty-cycle",
            type=float,
            help="Share of the time spent sending while a backlog lasts, above 0 and at most 1 "
            "(default: OUTBOX WORKER_DUTY_CYCLE).",
        )
        parser.add_argument(
            "--nice",
            type=int,
            help="Niceness to add to this process, 0 to 19 (default: OUTBOX WORKER_NICE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = escalated_settings.OUTBOX
        duty = options["duty_cycle"]
        duty = settings["WORKER_DUTY_CYCLE"] if duty is None else duty
        nice = settings["WORKER_NICE"] if options["nice"] is None else options["nice"]
        if not 0 < duty <= 1:
            raise CommandError("--duty-cycle must be above 0 and at most 1.")
        if not 0 <= nice <= 19:
            raise CommandError("--nice must be from 0 to 19.")
        if nice:
            os.nice(nice)
        if options["once"]:
            self._summary(outbox.drain(limit=options["batch_size"]), options["verbosity"])
            self._inbound(inbound_process_pending(), options["verbosity"])
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if options["verbosity"] >= 1:
            self.stdout.write("escalated_worker: sending outbox deliveries (Ctrl-C stops)")
        paced = tuple(settings["WORKER_PACED_KINDS"]) if duty < 1 else ()
        resting_until = 0.0  # the paced kinds wait until then; the others go on
        while not stop.is_set():
            began = time.monotonic()
            close_old_connections()
            resting = paced if began < resting_until else ()
            report = outbox.deliver(limit=options["batch_size"], skip_kinds=resting)
            processed = inbound_process_pending()
            if report.attempted:
                self._summary(report, options["verbosity"])
            self._inbound(processed, options["verbosity"])
            share = report.share_of(paced)
            if share:
                # The paced kinds' part of the batch's work: the peers' answers not counted.
                worked = (time.monotonic() - began - report.waited) * share
                resting_until = time.monotonic() + rest_after(worked, duty)
            if not (report.attempted or processed):
                left = resting_until - time.monotonic()
                stop.wait(min(options["interval"], left) if left > 0 else options["interval"])
        close_old_connections()

    def _inbound(self, processed: int, verbosity: int) -> None:
        if processed and verbosity >= 1:
            self.stdout.write(f"processed {processed} inbound emails")

    def _summary(self, report: outbox.Report, verbosity: int) -> None:
        if verbosity >= 1:
            self.stdout.write(
                f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}"
            )
