"""Evaluate the sweep escalation rules (time based and SLA) over every open ticket.

Run it every minute or so (cron, a systemd timer, a Celery beat task). Runs may overlap: each
rule fires once per ticket per matching episode however many run at once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalated.models import Ticket
from escalated.services.escalation.evaluation import escalations_evaluate


class Command(BaseCommand):
    help = (
        "Evaluate the time-based and SLA escalation rules over open tickets and run their "
        "actions; --dry-run lists the tickets each rule would act on, acting on nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Change nothing; list the tickets each rule would act on now.",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=50,
            help="Ticket references listed per rule (default 50; 0 lists them all).",
        )

    def handle(self, *args: Any, dry_run: bool, limit: int, verbosity: int, **options: Any) -> None:
        report = escalations_evaluate(dry_run=dry_run)
        verb = "would act on" if dry_run else "fired on"
        for run in report.rules:
            self.stdout.write(f"{run.rule.name}: {verb} {len(run.ticket_ids)} ticket(s)")
            if run.ticket_ids and (dry_run or verbosity > 1):
                shown = run.ticket_ids if limit <= 0 else run.ticket_ids[:limit]
                references = dict(
                    Ticket.objects.filter(pk__in=shown).values_list("pk", "reference")
                )
                for ticket_id in shown:
                    self.stdout.write(f"  {references[ticket_id]}")
                if len(shown) < len(run.ticket_ids):
                    self.stdout.write(f"  … and {len(run.ticket_ids) - len(shown)} more")
        if not report.rules:
            self.stdout.write("No active time-based or SLA rules.")
        if dry_run:
            return
        outcome = report.outcome
        self.stdout.write(
            f"Acted on {outcome.acted}, refused {outcome.refused}, failed {outcome.failed}."
        )
        if outcome.failed:
            raise CommandError(
                f"{outcome.failed} episode(s) failed with an unexpected error (see the log); "
                "the next run retries them."
            )
