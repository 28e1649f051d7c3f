"""Delete inbound email records older than ``--days``, and their stored raw messages.

Tickets and replies the messages made stay. Deletes in batches; safe to re-run from cron.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from escalated.models import InboundEmail

BATCH = 1000
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Delete inbound email records (and their raw messages) older than --days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="Keep records this long.")
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        old = InboundEmail.objects.filter(
            created_at__lt=timezone.now() - timedelta(days=options["days"])
        )
        if options["dry_run"]:
            self.stdout.write(f"would delete {old.count()} inbound emails")
            return
        deleted = 0
        while batch := list(old.values_list("pk", "raw_storage", "raw_name")[:BATCH]):
            deleted += InboundEmail.objects.filter(pk__in=[pk for pk, *_ in batch]).delete()[0]
            for _pk, alias, name in batch:
                try:
                    storages[alias].delete(name)
                except Exception:
                    logger.exception("Could not delete the raw inbound message %s", name)
        self.stdout.write(f"deleted {deleted} inbound emails")
