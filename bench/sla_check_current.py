"""The SLA sweep of this version (``check_sla``'s service) over generated open tickets.

Run by bench/run_sla_check.py with the project's interpreter. Prints one JSON line. The data has
the shape bench/_common.py describes, so the 0.7.8 side sees the same tickets and due instants.
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
    ["strawberry_django", "django_filters", "channels", "escalated"],
    ESCALATED={"SLA": {"WARNING_THRESHOLD_MINUTES": 30}},
)

admin = _common.admin_dsn(args)
_common.recreate_database(admin, args.db)
try:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from escalated.models import Priority, SlaClock, SlaPolicy, Ticket

    call_command("migrate", verbosity=0)
    policy = SlaPolicy.objects.create(
        name="Standard",
        is_default=True,
        targets={
            "first_response": {p: {"seconds": 8 * 3600, "business_hours": False} for p in Priority},
            "resolution": {p: {"seconds": 48 * 3600, "business_hours": False} for p in Priority},
        },
    )

    seeding = time.perf_counter()
    tickets, clocks = Ticket._meta.db_table, SlaClock._meta.db_table
    params = {"now": _common.NOW, "count": args.tickets, "policy": policy.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {tickets} (reference, subject, description, status, priority,
                ticket_type, channel, created_at, updated_at)
            SELECT 'ESC-' || lpad(n::text, 6, '0'), 'Ticket ' || n, 'Generated', 'open',
                'medium', 'question', 'web', {_common.CREATED_SQL}, {_common.CREATED_SQL}
            FROM generate_series(0, %(count)s - 1) AS n
            """,
            params,
        )
        for metric, target, due in (
            ("first_response", 8 * 3600, _common.FIRST_DUE_SQL),
            ("resolution", 48 * 3600, _common.RESOLUTION_DUE_SQL),
        ):
            announced = (
                f"({_common.GROUPS_SQL}) = 'announced'" if metric == "first_response" else "false"
            )
            cursor.execute(
                f"""
                INSERT INTO {clocks} (ticket_id, policy_id, metric, cycle, is_current,
                    target_seconds, business_hours, started_at, due_at, breached_at, is_paused,
                    active_seconds, business_seconds, paused_seconds, updated_at)
                SELECT t.id, %(policy)s, '{metric}', 1, true, {target}, false,
                    t.created_at, {due}, CASE WHEN {announced} THEN {due} END, false, 0, 0, 0,
                    %(now)s
                FROM generate_series(0, %(count)s - 1) AS n
                JOIN {tickets} t ON t.reference = 'ESC-' || lpad(n::text, 6, '0')
                """,
                params,
            )
        cursor.execute(f"ANALYZE {tickets}")
        cursor.execute(f"ANALYZE {clocks}")
    seeding_seconds = time.perf_counter() - seeding

    runs = _common.sweep_twice(connection)
    _common.report("current", args.tickets, seeding_seconds, runs)
finally:
    from django.db import connections

    connections.close_all()
    _common.drop_database(admin, args.db)
