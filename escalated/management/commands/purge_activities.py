"""Delete old rows of the ticket activity timeline, in batches. Safe to run again: what is gone
is gone, and the next run finds only newer rows."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalated.conf import escalated_settings
from escalated.services.housekeeping import (
    BATCH_SIZE,
    activities_before,
    activities_purge,
    cutoff_for,
)


class Command(BaseCommand):
    help = (
        "Delete ticket activity rows older than N days (default: the ACTIVITY_RETENTION_DAYS "
        "setting), in batches. Rows recording a status are kept: SLA clocks replay them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Override ACTIVITY_RETENTION_DAYS.")
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help="Rows deleted per statement."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; change nothing."
        )

    def handle(
        self, *args: Any, days: int | None, batch_size: int, dry_run: bool, **options: Any
    ) -> None:
        if days is None:
            days = escalated_settings.ACTIVITY_RETENTION_DAYS
            if days is None:
                raise CommandError(
                    "Give --days, or set ESCALATED['ACTIVITY_RETENTION_DAYS'] to purge by default."
                )
        if days < 1 or batch_size < 1:
            raise CommandError("--days and --batch-size must be at least 1.")
        cutoff, ago = cutoff_for(days)
        if dry_run:
            count = activities_before(cutoff).count()
            self.stdout.write(f"Would delete {count} activity rows written {ago}.")
            return
        total = batch_count = 0
        for deleted in activities_purge(cutoff=cutoff, batch_size=batch_size):
            total += deleted
            batch_count += 1
            if options["verbosity"] >= 2:
                self.stdout.write(f"Batch {batch_count}: deleted {deleted} rows.")
        self.stdout.write(
            f"Deleted {total} activity rows written {ago}, in {batch_count} "
            f"batch{'es' if batch_count != 1 else ''}."
        )
