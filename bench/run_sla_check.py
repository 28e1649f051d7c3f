"""check_sla over many open tickets on PostgreSQL: this version beside escalated-django 0.7.8.

    .venv/bin/python bench/run_sla_check.py [--tickets 100000 10000] [--host 127.0.0.1]

Each side runs in its own process on its own database (bench_escalated, bench_escalated_078),
created before and dropped after: both versions are imported as ``escalated``, so 0.7.8 runs
from its own virtual environment (bench/.venv-0.7.8, made from PyPI on first use). Both see the
same tickets and due instants (bench/_common.py) and sweep twice at the same frozen instant: the
first sweep has 1 % of the tickets to announce as breached and 1 % as warnings; the second
should have nothing new. Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OLD_VENV = HERE / ".venv-0.7.8"
OLD_PACKAGES = ["escalated-django==0.7.8", "psycopg[binary]>=3.2", "time-machine>=2.14"]


def old_python() -> Path:
    python = OLD_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(OLD_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *OLD_PACKAGES], check=True)
    return python


def side(
    python: Path, script: str, database: str, tickets: int, options: argparse.Namespace
) -> dict:
    command = [
        str(python),
        str(HERE / script),
        "--tickets",
        str(tickets),
        "--db",
        database,
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--user",
        options.user,
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[100_000, 10_000])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    options = parser.parse_args()
    old = old_python()
    rows = []
    for tickets in options.tickets:
        current = side(
            Path(sys.executable), "sla_check_current.py", "bench_escalated", tickets, options
        )
        previous = side(old, "sla_check_078.py", "bench_escalated_078", tickets, options)
        for new_run, old_run in zip(current["runs"], previous["runs"], strict=True):
            rows.append((tickets, new_run, old_run))
    columns = "open tickets|sweep|version|statements|wall time|breaches|warnings|0.7.8 / this"
    print(f"| {' | '.join(columns.split('|'))} |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for tickets, new_run, old_run in rows:
        ratio = old_run["seconds"] / new_run["seconds"]
        for version, run in (("this", new_run), ("0.7.8", old_run)):
            print(
                f"| {tickets:,} | {run['label']} | {version} | {run['statements']:,} | "
                f"{run['seconds'] * 1000:,.0f} ms | {run['breaches']:,} | {run['warnings']:,} | "
                f"{f'{ratio:,.0f}x' if version == 'this' else ''} |"
            )


if __name__ == "__main__":
    main()
