"""How the admin report and the agent dashboard scale: wall time and SQL statements over a large
helpdesk. Run on demand (not part of the suite), on either database:

    ESCALATED_TEST_DB=postgres ESCALATED_TEST_DB_NAME=test_escalated_bench \\
        .venv/bin/python -m pytest bench/bench_reports.py -s -p no:cacheprovider
    .venv/bin/python -m pytest bench/bench_reports.py -s -p no:cacheprovider   # SQLite

BENCH_TICKETS sets the size (default 100000). Results: bench/RESULTS.md.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.models import Department, SatisfactionRating, Status, Ticket
from escalated.services import reports

SIZE = int(os.environ.get("BENCH_TICKETS", "100000"))
START = datetime(2024, 1, 1, tzinfo=UTC)
STATUSES = [s.value for s in Status]


def _seed(size: int) -> tuple[Any, Any, list[Department]]:
    rng = random.Random(6)  # noqa: S311 (sample data, not secrets)
    User = get_user_model()
    admin = User.objects.create_user("bench-admin", is_superuser=True, is_staff=True)
    customer = User.objects.create_user("bench-customer")
    departments = [Department.objects.create(name=f"D{n}", slug=f"d{n}") for n in range(4)]
    agents = [User.objects.create_user(f"bench-agent{n}") for n in range(20)]
    for n, agent in enumerate(agents):
        departments[n % 4].agents.add(agent)
    rows, created_times = [], []
    for n in range(size):
        created = START + timedelta(seconds=rng.randrange(365 * 86400))
        created_times.append(created)
        status = rng.choice(STATUSES)
        answered = created + timedelta(seconds=rng.randrange(60, 2 * 86400))
        settled = status in ("resolved", "closed")
        resolved = answered + timedelta(seconds=rng.randrange(60, 7 * 86400)) if settled else None
        rows.append(
            Ticket(
                reference=f"BEN-{n:07d}",
                subject="Bench",
                status=status,
                priority=rng.choice(["low", "medium", "high", "urgent", "critical"]),
                requester=customer,
                assignee=rng.choice([None, *agents]),
                department=rng.choice([None, *departments]),
                first_response_at=answered if rng.random() < 0.8 else None,
                resolved_at=resolved,
                closed_at=resolved if status == "closed" else None,
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=5000)
    # auto_now_add ignores the value given on insert: set creation times afterwards, in bulk.
    for ticket, created in zip(rows, created_times, strict=True):
        ticket.created_at = created
    Ticket.objects.bulk_update(rows, ["created_at"], batch_size=5000)
    settled = [t for t in rows if t.resolved_at is not None]
    SatisfactionRating.objects.bulk_create(
        [
            SatisfactionRating(ticket=t, rating=rng.randint(1, 5))
            for t in settled[: len(settled) // 2]
        ],
        batch_size=5000,
    )
    return admin, agents[0], departments


def _timed(call: Any, repeat: int = 5) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs (ms), and the statements one run issues."""
    call()  # warm caches
    best = float("inf")
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - began)
    return best * 1000, len(queries)


@pytest.mark.django_db
def test_report_and_dashboard_at_scale() -> None:
    admin, agent, departments = _seed(SIZE)
    year = (date(2024, 1, 1), date(2024, 12, 31))
    month = (date(2024, 6, 1), date(2024, 6, 30))
    cases = {
        "report, whole year": lambda: reports.report_build(actor=admin, start=year[0], end=year[1]),
        "report, one month": lambda: reports.report_build(
            actor=admin, start=month[0], end=month[1]
        ),
        "report, year, one department": lambda: reports.report_build(
            actor=admin, start=year[0], end=year[1], department=departments[0]
        ),
        "agentDashboard (admin)": lambda: reports.agent_dashboard(actor=admin),
        "agentDashboard (agent)": lambda: reports.agent_dashboard(actor=agent),
    }
    print(f"\n{connection.vendor}, {SIZE} tickets")
    print("| case | best of 5 (ms) | SQL statements |")
    print("|---|---:|---:|")
    for name, call in cases.items():
        ms, statements = _timed(call)
        print(f"| {name} | {ms:.0f} | {statements} |")
