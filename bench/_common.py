"""What both sides of the SLA benchmark share: the database's life, the data's shape and the
measuring. Imports nothing from either version of ``escalated``, so each side's process can
load it before its own Django starts."""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

# The instant the sweeps run at. Fixed, so both sides see identical data.
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

# Each ticket's first-response clock falls in one group, by ticket number:
#   1 in 100 ran out ten minutes ago and has not been announced: a breach to announce;
#   1 in 100 runs out in ten minutes: a warning to announce (threshold: 30 minutes);
#   20 in 100 ran out earlier and were announced by an earlier sweep;
#   the rest run out between one hour and a week from now.
# Every resolution clock runs out between two and ten days from now.
GROUPS_SQL = """
    CASE WHEN n %% 100 = 0 THEN 'breach'
         WHEN n %% 100 = 1 THEN 'warning'
         WHEN n %% 100 < 22 THEN 'announced'
         ELSE 'future' END
"""
FIRST_DUE_SQL = """
    CASE WHEN n %% 100 = 0 THEN %(now)s - interval '10 minutes'
         WHEN n %% 100 = 1 THEN %(now)s + interval '10 minutes'
         WHEN n %% 100 < 22 THEN %(now)s - interval '1 hour' - (n %% 97) * interval '1 hour'
         ELSE %(now)s + interval '1 hour' + (n %% 167) * interval '1 hour' END
"""
RESOLUTION_DUE_SQL = "%(now)s + interval '2 days' + (n %% 193) * interval '1 hour'"
CREATED_SQL = "%(now)s - interval '1 hour' - (n %% 113) * interval '1 hour'"


def arguments() -> argparse.Namespace:
    """A side's command line: how many tickets, which database, which server."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    return parser.parse_args()


def database(args: argparse.Namespace) -> dict[str, Any]:
    """Django's DATABASES entry for the side's database."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": args.host,
        "PORT": args.port,
        "USER": args.user,
        "NAME": args.db,
    }


def configure_django(args: argparse.Namespace, apps: list[str], **extra: Any) -> None:
    """Settings for a side: its apps on its database; Django starts after the database exists."""
    from django.conf import settings

    settings.configure(
        SECRET_KEY="bench",
        USE_TZ=True,
        TIME_ZONE="UTC",
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", *apps],
        DATABASES={"default": database(args)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        **extra,
    )


def admin_dsn(args: argparse.Namespace) -> str:
    return f"host={args.host} port={args.port} user={args.user} dbname=postgres"


def recreate_database(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Run:
    label: str
    seconds: float
    statements: int
    breaches: int
    warnings: int


class StatementCounter:
    """Counts every statement Django sends, without DEBUG's query log."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def measured(connection: Any) -> Iterator[dict[str, float]]:
    counter = StatementCounter()
    result: dict[str, float] = {}
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - start
    result["statements"] = counter.count


def check_sla() -> tuple[int, int]:
    """``manage.py check_sla`` as a cron job would run it; the breaches and warnings it reports
    (both versions end with a line naming the two counts in that order)."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("check_sla", "--warning-threshold", "30", stdout=out)
    breaches, warnings = (int(n) for n in re.findall(r"\d+", out.getvalue().splitlines()[-1]))
    return breaches, warnings


def sweep_twice(connection: Any) -> list[Run]:
    """Run check_sla twice at :data:`NOW`, measuring each run."""
    import time_machine

    runs = []
    with time_machine.travel(NOW, tick=True):
        for label in ("first sweep", "second sweep"):
            with measured(connection) as result:
                breaches, warnings = check_sla()
            runs.append(
                Run(label, result["seconds"], int(result["statements"]), breaches, warnings)
            )
    return runs


def report(side: str, tickets: int, seeding_seconds: float, runs: list[Run]) -> None:
    """Print one JSON line the runner reads."""
    print(
        json.dumps(
            {
                "side": side,
                "tickets": tickets,
                "seeding_seconds": seeding_seconds,
                "runs": [asdict(r) for r in runs],
            }
        )
    )
