"""Delete old outbox rows: delivered ones after ``--days``, failed ones after ``--failed-days``.

Rows still to send are never touched. Deletes in batches, so a large backlog does not hold one
long transaction; safe to re-run, and to run from cron.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from escalated.models import Delivery, DeliveryStatus

BATCH = 1000


class Command(BaseCommand):
    help = "Delete delivered (and, later, failed) outbox rows older than a number of days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Keep delivered rows this long.")
        parser.add_argument(
            "--failed-days", type=int, default=90, help="Keep failed rows this long."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1 or options["failed_days"] < 1:
            raise CommandError("--days and --failed-days must be at least 1.")
        now = timezone.now()
        for status, days in (
            (DeliveryStatus.DELIVERED, options["days"]),
            (DeliveryStatus.FAILED, options["failed_days"]),
        ):
            old = Delivery.objects.filter(status=status, updated_at__lt=now - timedelta(days=days))
            if options["dry_run"]:
                self.stdout.write(f"would delete {old.count()} {status} deliveries")
                continue
            deleted = 0
            while batch := list(old.values_list("pk", flat=True)[:BATCH]):
                deleted += Delivery.objects.filter(pk__in=batch).delete()[0]
            self.stdout.write(f"deleted {deleted} {status} deliveries")
