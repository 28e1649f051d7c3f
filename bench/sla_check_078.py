"""The SLA sweep of escalated-django 0.7.8 (from PyPI) over generated open tickets.

Run by bench/run_sla_check.py with the interpreter of a virtual environment holding 0.7.8, never
alongside the current code (both are imported as ``escalated``). Prints one JSON line.

0.7.8 keeps the due instants on the ticket row (first_response_due_at, resolution_due_at) with a
breached flag per metric, and its check_sla walks every open ticket that has a policy in Python
(SlaService.check_all_tickets), saving each newly breached ticket and sending its signals; its
own sla_breached receiver writes an activity row, as the current version does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

args = _common.arguments()

import django  # noqa: E402

_common.configure_django(
    args,
    ["django.contrib.sessions", "escalated"],
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    ESCALATED={"MODE": "self_hosted", "TABLE_PREFIX": "escalated_"},
    LOGGING={"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}},
)

admin = _common.admin_dsn(args)
_common.recreate_database(admin, args.db)
try:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from escalated.models import SlaPolicy, Ticket

    call_command("migrate", verbosity=0)
    policy = SlaPolicy.objects.create(
        name="Standard",
        is_default=True,
        first_response_hours={"low": 24, "medium": 8, "high": 4, "urgent": 1, "critical": 0.5},
        resolution_hours={"low": 72, "medium": 48, "high": 24, "urgent": 8, "critical": 4},
    )

    seeding = time.perf_counter()
    tickets = Ticket._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {tickets} (reference, subject, description, status, priority, channel,
                ticket_type, sla_policy_id, first_response_due_at, resolution_due_at,
                sla_first_response_breached, sla_resolution_breached, created_at, updated_at)
            SELECT 'ESC-' || lpad(n::text, 6, '0'), 'Ticket ' || n, 'Generated', 'open',
                'medium', 'web', 'question', %(policy)s, {_common.FIRST_DUE_SQL},
                {_common.RESOLUTION_DUE_SQL},
                ({_common.GROUPS_SQL}) = 'announced', false,
                {_common.CREATED_SQL}, {_common.CREATED_SQL}
            FROM generate_series(0, %(count)s - 1) AS n
            """,
            {"now": _common.NOW, "count": args.tickets, "policy": policy.pk},
        )
        cursor.execute(f"ANALYZE {tickets}")
    seeding_seconds = time.perf_counter() - seeding

    runs = _common.sweep_twice(connection)
    _common.report("0.7.8", args.tickets, seeding_seconds, runs)
finally:
    from django.db import connections

    connections.close_all()
    _common.drop_database(admin, args.db)
