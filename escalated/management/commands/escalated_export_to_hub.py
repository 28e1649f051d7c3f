"""Send a self-hosted site's tickets to its hub, before switching the site to ``cloud`` mode.

Every ticket travels as the synced-mode events of :mod:`escalated.hosted.export`, to the hub's
events endpoint, with the site's key. Safe to run again and again: event ids come from the
site's rows, so what the hub has is answered "duplicate" and only what is missing (or new since)
applies. A run that stopped (the hub down, the command killed) is resumed by running it again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalated.conf import escalated_settings
from escalated.hosted import export, push


class Command(BaseCommand):
    help = (
        "Export this site's tickets (replies, notes, statuses, priorities, tags, requesters) to "
        "the hub at HOSTED_API_URL with HOSTED_API_KEY, through the synced mode's events. "
        "Idempotent: run it again to resume or to catch up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            help="The hub's API base, e.g. https://hub.example.com/support/hub/api/v1 "
            "(default: HOSTED_API_URL).",
        )
        parser.add_argument("--key", help="The site's key on the hub (default: HOSTED_API_KEY).")
        parser.add_argument(
            "--batch-size", type=int, default=100, help="Tickets read per query (default 100)."
        )
        parser.add_argument(
            "--limit", type=int, help="Export at most this many tickets (oldest first), then stop."
        )
        parser.add_argument(
            "--after",
            metavar="REFERENCE",
            help="Start after this ticket (a run's last 'done through'), skipping those before.",
        )
        parser.add_argument(
            "--retries",
            type=int,
            default=3,
            help="Attempts after the first for an event the hub could not take yet (default 3).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be sent; send nothing."
        )

    def handle(
        self,
        *args: Any,
        url: str | None,
        key: str | None,
        batch_size: int,
        limit: int | None,
        after: str | None,
        retries: int,
        dry_run: bool,
        **options: Any,
    ) -> None:
        if batch_size < 1 or (limit is not None and limit < 1) or retries < 0:
            raise CommandError("--batch-size and --limit must be at least 1, --retries at least 0.")
        if escalated_settings.MODE == "synced":
            raise CommandError(
                "This site is in synced mode: its tickets already reach the hub through the "
                "outbox, and exporting them again would repeat their replies there."
            )
        base = url or escalated_settings.HOSTED_API_URL
        key = key or escalated_settings.HOSTED_API_KEY
        if not dry_run and (not base or not key):
            raise CommandError(
                "Say where the hub is and with which key: set HOSTED_API_URL and HOSTED_API_KEY "
                "in ESCALATED, or give --url and --key."
            )
        hub = None
        if not dry_run:
            hub = export.Hub(url=push.events_url(str(base)), key=str(key), retries=retries)
            self.stdout.write(f"Exporting tickets to {hub.url}")
        try:
            report = export.export(
                hub,
                batch_size=batch_size,
                limit=limit,
                after=after,
                progress=self._progress(dry_run),
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self._summary(report, dry_run)

    def _progress(self, dry_run: bool) -> Any:
        def show(report: export.Report) -> None:
            if dry_run:
                self.stdout.write(f"  {report.tickets} tickets read, {report.events} events")
                return
            through = f", done through {report.done_through}" if report.done_through else ""
            self.stdout.write(
                f"  {report.tickets} tickets: {report.exported} exported, "
                f"{report.present} already present, {len(report.failed)} failed{through}"
            )

        return show

    def _summary(self, report: export.Report, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(
                f"Dry run: would send {report.events} events of {report.tickets} tickets; "
                "nothing was sent."
            )
            return
        self.stdout.write(
            f"Tickets: {report.exported} exported, {report.present} already present, "
            f"{len(report.failed)} failed, of {report.tickets} read. "
            f"Events: {report.applied} applied, {report.duplicates} already applied."
        )
        for reference, reason in report.failed.items():
            self.stderr.write(f"  {reference}: {reason}")
        if report.aborted:
            skip = (
                f" (with --after {report.done_through} to skip the tickets already done)"
                if report.done_through
                else ""
            )
            raise CommandError(
                f"Export stopped: {report.aborted} Nothing sent is lost; run the command again "
                f"to continue{skip}.",
                returncode=2,
            )
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} tickets were not fully exported (the hub refused an "
                "event, see above); the rest were. Run the command again after fixing the cause.",
                returncode=1,
            )
