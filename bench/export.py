"""Moving a self-hosted site to the hub: ``escalated_export_to_hub`` over 1,000 tickets.

    .venv/bin/python bench/export.py --tickets 1000 --engine sqlite

Two real instances (tests/hosted/instances.py): a self-hosted site (a database, no processes)
whose ``history`` command opens ``tickets`` tickets with varied histories (about five events
each), and a hub running its own uvicorn server and outbox worker on its own database. Then:

1. the export, timed as a process (``python -m django escalated_export_to_hub``): tickets and
   events per second, and a check that the hub's tickets equal the site's (digests equal, every
   event received once);
2. the same command again: everything is already on the hub (all duplicates), which is what a
   resumed or repeated run costs per ticket.

PostgreSQL databases are named from ESCALATED_TEST_DB_NAME (default bench_20x_export) and
dropped and made again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hosted.instances import Instance, site_and_hub  # noqa: E402
from tests.outbox.peers import SmtpSink  # noqa: E402

SUMMARY = re.compile(r"Events: (\d+) applied, (\d+) already applied")


@dataclass
class Run:
    seconds: float
    applied: int
    duplicates: int
    load_before: str
    load_after: str


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _timed_export(site: Instance, batch_size: int) -> Run:
    load = _load()
    start = time.perf_counter()
    done = site.command("escalated_export_to_hub", "--batch-size", str(batch_size), timeout=7200)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"export failed ({done.returncode}): {done.stderr}")
    found = SUMMARY.search(done.stdout)
    assert found is not None, done.stdout
    return Run(round(seconds, 1), int(found[1]), int(found[2]), load, _load())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    name = os.environ.get("ESCALATED_TEST_DB_NAME", "bench_20x_export")
    sink = SmtpSink()
    sink.start()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            site_and_hub(Path(tmp), sink.port, args.engine, name, site_mode="self_hosted") as pair,
        ):
            start = time.perf_counter()
            tickets = len(pair.site.run("history", str(args.tickets), timeout=7200)["tickets"])
            seeded = time.perf_counter() - start
            first = _timed_export(pair.site, args.batch_size)
            site, hub = pair.site.run("digest"), pair.hub.run("digest")
            same = site["digest"] == hub["digest"] and hub["received"] == first.applied
            again = _timed_export(pair.site, args.batch_size)
    finally:
        sink.stop()
    events = first.applied
    result = {
        "engine": args.engine,
        "tickets": tickets,
        "events": events,
        "seed_seconds": round(seeded, 1),
        "export": asdict(first),
        "export_tickets_per_second": round(tickets / first.seconds, 2),
        "export_events_per_second": round(events / first.seconds, 2),
        "hub_equals_site": same,
        "rerun": asdict(again),
        "rerun_tickets_per_second": round(tickets / again.seconds, 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
