"""Close tickets that have stayed resolved for a while, through the services (so each close
writes its activity row and sends its signals). Safe to run again: closed tickets are no longer
candidates."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalated.access import SystemActor
from escalated.conf import escalated_settings
from escalated.errors import DomainError
from escalated.services.housekeeping import (
    batches,
    cutoff_for,
    resolved_before,
    resolved_ticket_close,
)

ACTOR = SystemActor("command:close_resolved")


class Command(BaseCommand):
    help = (
        "Close tickets resolved more than N days ago (default: the AUTO_CLOSE_RESOLVED_AFTER_DAYS "
        "setting)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Override AUTO_CLOSE_RESOLVED_AFTER_DAYS.")
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be closed; change nothing."
        )

    def handle(self, *args: Any, days: int | None, dry_run: bool, **options: Any) -> None:
        if days is None:
            days = escalated_settings.AUTO_CLOSE_RESOLVED_AFTER_DAYS
            if days is None:
                self.stdout.write(
                    "Auto-close is off (AUTO_CLOSE_RESOLVED_AFTER_DAYS is None); "
                    "give --days to close resolved tickets anyway."
                )
                return
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff, ago = cutoff_for(days)
        verb = "Would close" if dry_run else "Closed"
        done, failed = 0, []
        for rows in batches(resolved_before(cutoff), "reference"):
            for pk, reference in rows:
                if not dry_run:
                    try:
                        if resolved_ticket_close(ticket_id=pk, actor=ACTOR, cutoff=cutoff) is None:
                            continue  # reopened or closed since it was chosen
                    except DomainError as error:
                        failed.append(reference)
                        self.stderr.write(f"Could not close {reference}: {error}")
                        continue
                done += 1
                if options["verbosity"] >= 1:
                    self.stdout.write(f"{verb} {reference}")
        self.stdout.write(f"{verb} {done} ticket{'' if done == 1 else 's'} resolved {ago}.")
        if failed:
            raise CommandError(f"{len(failed)} tickets could not be closed: {', '.join(failed)}")
