"""What both runners share: the database run.py made, loading the dataset, timing, counting
statements, and the report.

Standard library and Django only: each runner imports it inside its own virtual environment,
after configuring Django, and hands it what differs between the versions (see :class:`Version`).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dataset


def database() -> dict[str, Any]:
    """The Django DATABASES entry for the database run.py created for this runner."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["BENCH_DB_NAME"],
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
    }


@dataclass
class Version:
    """What differs between the two versions' models, and how each saves the rules."""

    name: str
    department_model: Any
    ticket_model: Any
    assignee_field: str  # the ticket's foreign key to its agent
    save_rules: Callable[[list[Any], list[Any]], None]  # (departments, agents) in dataset order
    ticket_defaults: dict[str, Any] = field(default_factory=dict)


def load(version: Version, count: int) -> tuple[list[Any], list[Any]]:
    """The dataset's departments, agents (working in every department) and tickets."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from django.utils.text import slugify

    Department, Ticket = version.department_model, version.ticket_model
    departments = [Department.objects.create(name=n, slug=slugify(n)) for n in dataset.DEPARTMENTS]
    agents = [get_user_model().objects.create_user(f"agent{n}") for n in range(dataset.AGENTS)]
    for department in departments:
        department.agents.add(*agents)
    now = timezone.now()
    stamps = [Ticket._meta.get_field(f) for f in ("created_at", "updated_at")]
    for stamp in stamps:  # keep the dataset's timestamps
        stamp.auto_now = stamp.auto_now_add = False
    rows = []
    for row in dataset.tickets(count):
        opened = now - timedelta(hours=row.age_hours)
        rows.append(
            Ticket(
                reference=f"B-{row.number:06d}",
                subject=f"Ticket {row.number}",
                status=row.status,
                priority=row.priority,
                ticket_type=row.ticket_type,
                department=None if row.department is None else departments[row.department],
                created_at=opened,
                updated_at=opened,
                first_response_at=opened + timedelta(minutes=30) if row.answered else None,
                **{version.assignee_field: None if row.assignee is None else agents[row.assignee]},
                **version.ticket_defaults,
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=5000)
    for stamp in stamps:
        stamp.auto_now = stamp.name == "updated_at"
        stamp.auto_now_add = stamp.name == "created_at"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return departments, agents


def summary(
    version: Version, count: int, departments: list[Any], agents: list[Any]
) -> dict[str, Any]:
    department_index = {d.pk: i for i, d in enumerate(departments)}
    agent_index = {a.pk: i for i, a in enumerate(agents)}
    rows = version.ticket_model.objects.values_list(
        "reference", "status", "priority", "department_id", f"{version.assignee_field}_id"
    )
    return dataset.summary(
        count,
        (
            (
                int(reference[2:]),
                status,
                priority,
                department_index.get(department_id, -1),
                agent_index.get(assignee_id, -1),
            )
            for reference, status, priority, department_id, assignee_id in rows.iterator(10_000)
        ),
    )


def measure(run: Callable[[], Any]) -> dict[str, Any]:
    """Wall time and SQL statements of one call."""
    from django.db import connection

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "statements": statements}


def an_hour_passes() -> None:
    """Move every ticket an hour into the past, as if an hour went by."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE escalated_tickets SET created_at = created_at - interval '1 hour', "
            "updated_at = updated_at - interval '1 hour', "
            "first_response_at = first_response_at - interval '1 hour'"
        )


def main(version: Version) -> None:
    """Load, save the rules, and time evaluate_escalations: on the fresh data (a cold start),
    three times with nothing new to do (the median is reported), and after an hour passes.
    The answer to run.py is one JSON line, last on stdout."""
    from django.core.management import call_command

    count = int(sys.argv[1])
    call_command("migrate", verbosity=0)
    departments, agents = load(version, count)
    version.save_rules(departments, agents)

    def evaluate() -> None:
        call_command("evaluate_escalations", stdout=io.StringIO())

    def state() -> dict[str, Any]:
        return summary(version, count, departments, agents)

    first = {**measure(evaluate), **state()}
    runs = [measure(evaluate) for _ in range(3)]
    steady = {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "statements": runs[-1]["statements"],
        "runs": runs,
    }
    an_hour_passes()
    later = {**measure(evaluate), **state()}
    result = {"version": version.name, "tickets": count, "first": first, "steady": steady}
    print(json.dumps({**result, "hour_later": later}))
