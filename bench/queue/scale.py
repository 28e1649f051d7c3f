"""The queue pages at several helpdesk sizes: is the latency flat in the table size?

    .venv/bin/python -m bench.queue.scale [--sizes 1000 10000 100000] [--cycles 3] [--rounds 15]

Each size has its own seeded database (``--db``, default bench_escalated_queue_<size>, made
once by bench.queue.seed). A cycle runs bench.queue.profile once per size, one after the
other, each in its own process; cycles repeat, so a burst of load on the shared machine falls
on every size alike. Prints a Markdown table: per page and size, the p50 of each cycle, and the
ratio of the median p50 to the smallest size's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict


def one_run(size: int, rounds: int, template: str) -> dict[str, dict[str, float]]:
    env = {**os.environ, "BENCH_DB": template.format(size=size)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.queue.profile", "--tickets", str(size)),
            *("--rounds", str(rounds), "--profile", "0", "--json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    pages: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])["pages"]
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--db", default="bench_escalated_queue_{size}", help="database names")
    args = parser.parse_args()
    p50s: dict[tuple[str, int], list[float]] = defaultdict(list)
    statements: dict[tuple[str, int], int] = {}
    for _ in range(args.cycles):
        for size in args.sizes:
            for page, numbers in one_run(size, args.rounds, args.db).items():
                p50s[(page, size)].append(numbers["p50_ms"])
                statements[(page, size)] = int(numbers["statements"])
    print(f"load average at the end: {os.getloadavg()}\n")
    print("| page | tickets | statements | p50 per cycle (ms) | median p50 | vs smallest |")
    print("|---|---:|---:|---|---:|---:|")
    for page in sorted({page for page, _ in p50s}):
        base = statistics.median(p50s[(page, args.sizes[0])])
        for size in args.sizes:
            runs = p50s[(page, size)]
            mid = statistics.median(runs)
            print(
                f"| {page} | {size:,} | {statements[(page, size)]} | "
                f"{' / '.join(f'{r:.0f}' for r in runs)} | {mid:.0f} | {mid / base:.2f}x |"
            )


if __name__ == "__main__":
    main()
