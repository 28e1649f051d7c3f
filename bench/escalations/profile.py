"""Where this branch's cold start spends its time: ours.py's run, with the first (cold)
evaluation's statements timed one by one, and optionally sampled by pyinstrument.

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE bench_esc_profile'
    BENCH_DB_NAME=bench_esc_profile PYTHONPATH=$PWD .venv/bin/python \\
        bench/escalations/profile.py 20000 [--pyinstrument cold.txt]

Prints, to stderr, the cold run's wall time, the time spent inside the database driver's
execute calls, and the statements grouped by their SQL (parameter lists folded) with their
count and time, largest first; then ours.py's JSON line. Like ours.py it needs a new, empty
database each run. The time "in execute" includes adapting the parameters; the rest of the
wall time is Python.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import ours  # configures Django

PARAMETERS = re.compile(r"(%s, )+%s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tickets", type=int)
    parser.add_argument("--pyinstrument", metavar="FILE", help="write a text profile here")
    args = parser.parse_args()
    measure = common.measure
    runs = 0

    def first_measured(run: Any) -> dict[str, Any]:
        nonlocal runs
        runs += 1
        return timed(run, args.pyinstrument) if runs == 1 else measure(run)

    common.measure = first_measured
    sys.argv = [sys.argv[0], str(args.tickets)]
    common.main(ours.VERSION)


def timed(run: Any, pyinstrument: str | None) -> dict[str, Any]:
    from django.db import connection

    by_sql: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])

    def execute(call: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(sql, params, many, context)
        finally:
            entry = by_sql[PARAMETERS.sub("%s…", sql)[:150]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    profiler = None
    if pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    with connection.execute_wrapper(execute):
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        Path(pyinstrument).write_text(profiler.output_text(unicode=True))  # type: ignore[arg-type]
    statements = sum(int(count) for count, _ in by_sql.values())
    inside = sum(spent for _, spent in by_sql.values())
    print(
        f"cold start {seconds:.3f} s, {inside:.3f} s in execute, {statements} statements",
        file=sys.stderr,
    )
    for sql, (count, spent) in sorted(by_sql.items(), key=lambda item: -item[1][1])[:25]:
        print(f"{spent:7.3f} s {int(count):4d}  {sql}", file=sys.stderr)
    return {"seconds": round(seconds, 3), "statements": statements}


if __name__ == "__main__":
    main()
