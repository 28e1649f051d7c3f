"""Benchmark: evaluate_escalations with 20 active rules over open tickets on PostgreSQL, this
branch side by side with escalated-django 0.7.8 on the same data.

    .venv/bin/python bench/escalations/run.py [--tickets 100000]

Creates bench/escalations/.venv with escalated-django 0.7.8 from PyPI (first run only), creates
one PostgreSQL database per version, runs each version in its own process (both are imported as
``escalated``, so they never share one), drops the databases, and prints a Markdown table for
bench/RESULTS.md. Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD (default:
127.0.0.1:5432, user postgres).

Three runs per version, each timed and its SQL statements counted:
* first: fresh data; every ticket a rule matches is acted on (a cold start);
* steady: the median of three further runs with nothing new to do (most cron minutes);
* an hour later: every ticket moved an hour into the past, so the tickets that crossed a
  threshold in that hour are acted on.
Each run also reports a fingerprint of every ticket's final state: equal fingerprints show both
versions did the same work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED_VENV = HERE / ".venv"
SEED_REQUIREMENTS = ["escalated-django==0.7.8", "psycopg[binary]>=3.2"]


def seed_python() -> Path:
    python = SEED_VENV / "bin" / "python"
    if not python.exists():
        print("Creating bench/escalations/.venv with escalated-django 0.7.8 …", file=sys.stderr)
        venv.create(SEED_VENV, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", *SEED_REQUIREMENTS], check=True)
    return python


def admin_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    )


def run(python: Path, script: str, database: str, tickets: int) -> dict[str, Any]:
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        finished = subprocess.run(
            [python, HERE / script, str(tickets)],
            cwd=HERE,
            env={**os.environ, "BENCH_DB_NAME": database},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    if finished.returncode != 0:
        sys.stderr.write(finished.stdout[-4000:] + finished.stderr[-4000:])
        raise SystemExit(f"{script} failed")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def table(ours: dict[str, Any], seed: dict[str, Any]) -> str:
    lines = [
        "| run | this branch: s | statements | 0.7.8: s | statements | 0.7.8 / this | "
        "tickets changed | same end state |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in (
        ("first", "first (cold start)"),
        ("steady", "steady (nothing new)"),
        ("hour_later", "an hour later"),
    ):
        a, b = ours[key], seed[key]
        ratio = b["seconds"] / a["seconds"] if a["seconds"] else float("inf")
        changed = a.get("changed_tickets", "")
        same = (
            ""
            if "fingerprint" not in a
            else "yes"
            if a["fingerprint"] == b["fingerprint"]
            else "NO"
        )
        lines.append(
            f"| {label} | {a['seconds']:.2f} | {a['statements']} | {b['seconds']:.2f} | "
            f"{b['statements']} | {ratio:.1f}x | {changed} | {same} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    options = parser.parse_args()
    prefix = f"bench_escalations_{os.getpid()}"
    ours = run(ROOT / ".venv" / "bin" / "python", "ours.py", f"{prefix}_ours", options.tickets)
    seed = run(seed_python(), "seed.py", f"{prefix}_seed", options.tickets)
    print(f"{options.tickets} open tickets, 20 active rules, PostgreSQL\n")
    print(table(ours, seed))
    print("\n```json\n" + json.dumps({"this branch": ours, "0.7.8": seed}, indent=1) + "\n```")


if __name__ == "__main__":
    main()
