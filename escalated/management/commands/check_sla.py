"""``python manage.py check_sla``: announce SLA breaches and warnings. Run it every minute (cron,
a systemd timer, Celery beat); it is cheap when nothing is due and safe to run on several
machines at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalated.conf import escalated_settings
from escalated.services.sla_check import sla_check


class Command(BaseCommand):
    help = "Announce SLA clocks that have run out or are about to (each once per clock cycle)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--warning-threshold",
            type=int,
            metavar="MINUTES",
            default=None,
            help="Warn this many minutes before a clock runs out (default: the setting "
            "SLA['WARNING_THRESHOLD_MINUTES']; 0: no warnings).",
        )

    def handle(self, *args: Any, verbosity: int, **options: Any) -> None:
        minutes = options["warning_threshold"]
        if minutes is not None and minutes < 0:
            raise CommandError("--warning-threshold must be 0 or more minutes.")
        if not escalated_settings.SLA["ENABLED"]:
            self.stdout.write(
                "SLA clocks are disabled (ESCALATED['SLA']['ENABLED']); nothing to do."
            )
            return
        result = sla_check(
            warning_threshold=None if minutes is None else timedelta(minutes=minutes)
        )
        summary = f"{result.breaches} breach(es) and {result.warnings} warning(s) announced"
        self.stdout.write(self.style.SUCCESS(f"SLA check: {summary}."))
        if verbosity > 1:  # -v 2: which tickets, as evaluate_escalations --dry-run lists them
            for announced in result.announced:
                self.stdout.write(f"  {announced.reference} {announced.kind} {announced.metric}")
