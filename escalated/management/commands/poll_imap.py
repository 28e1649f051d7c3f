"""Read the IMAP mailbox into tickets: one pass, or ``--continuous`` until SIGTERM.

A message is flagged seen only once it is stored, so killing a pass at any point loses nothing,
and the next pass (which finds what it stored by Message-ID) doubles nothing. ``--continuous``
waits with IDLE where the server offers it (else every ``--interval`` seconds), reconnects with
a doubling delay after a lost connection, and on SIGTERM or Ctrl-C stops between messages.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from escalated.conf import escalated_settings
from escalated.mail import imap


class Command(BaseCommand):
    help = "Poll the IMAP mailbox once (or --continuously) and turn new mail into tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--continuous", action="store_true", help="Keep polling until SIGTERM or Ctrl-C."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=60.0,
            help="Seconds between passes, or the longest IDLE wait (default 60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not escalated_settings.INBOUND_EMAIL_ENABLED:
            raise CommandError("Inbound email is off (INBOUND_EMAIL_ENABLED).")
        if escalated_settings.INBOUND_EMAIL_ADAPTER != "imap":
            raise CommandError("INBOUND_EMAIL_ADAPTER is not 'imap'.")
        if not options["continuous"]:
            try:
                report = imap.imap_poll_once()
            except imap.CONNECTION_ERRORS as error:
                raise CommandError(f"IMAP pass failed: {error}") from error
            self._summary(report, options["verbosity"])
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if options["verbosity"] >= 1:
            self.stdout.write("poll_imap: polling (SIGTERM or Ctrl-C stops)")
            self.stdout.flush()

        def on_pass(report: imap.PassReport) -> None:
            close_old_connections()
            if report.seen:
                self._summary(report, options["verbosity"])

        imap.imap_run(stop, interval=options["interval"], on_pass=on_pass)
        close_old_connections()
        if options["verbosity"] >= 1:
            self.stdout.write("poll_imap: stopped")

    def _summary(self, report: imap.PassReport, verbosity: int) -> None:
        if verbosity >= 1:
            self.stdout.write(f"read {report.seen} messages, {report.stored} new")
            self.stdout.flush()
