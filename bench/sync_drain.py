"""Synced mode: a backlog of events drained to the hub, and the site's request latency meanwhile.

    .venv/bin/python bench/sync_drain.py --tickets 200 --steps 49 --engine postgres

Two real instances (tests/hosted/instances.py): a site in synced mode and a hub, each its own
uvicorn server and outbox worker on its own database. With the site's worker stopped, the site's
services write ``tickets`` x (``steps`` + 1) events (200 x 50 = 10,000): the backlog. Then:

1. baseline: the site's agent queue (a GraphQL query over HTTP), ``--samples`` times, while
   nothing drains;
2. drain: the site's worker starts; the same query runs back to back until the backlog is empty
   (read from syncStatus every two seconds, outside the samples); events per second over the
   drain, and the latency samples taken during it;
3. a check that the hub applied every event exactly once.

PostgreSQL databases are named from ESCALATED_TEST_DB_NAME (default test_escalated_19_bench)
and dropped and made again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hosted.instances import Pair, site_and_hub  # noqa: E402
from tests.outbox.peers import SmtpSink  # noqa: E402

QUEUE = "{ tickets(first: 25) { edges { node { reference subject status priority } } } }"
SYNC = "{ syncStatus { backlog failed } }"


def _latency(pair: Pair) -> float:
    start = time.perf_counter()
    pair.site.graphql(pair.site_people["agent"], QUEUE)
    return (time.perf_counter() - start) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": ordered[int(len(ordered) * 0.95) - 1],
        "mean": statistics.fmean(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--steps", type=int, default=49)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    name = os.environ.get("ESCALATED_TEST_DB_NAME", "test_escalated_19_bench")
    smtp = SmtpSink()
    smtp.start()
    with (
        tempfile.TemporaryDirectory() as tmp,
        site_and_hub(Path(tmp), smtp.port, args.engine, name) as pair,
    ):
        assert pair.site.worker is not None
        pair.site.worker.terminate()
        pair.site.worker.wait()
        start = time.perf_counter()
        pair.site.run("stream", str(args.tickets), "0", str(args.steps), timeout=4 * 3600)
        written = time.perf_counter() - start
        events = args.tickets * (args.steps + 1)
        backlog = pair.site.graphql(pair.site_people["admin"], SYNC)["syncStatus"]["backlog"]
        assert backlog == events, (backlog, events)

        for _ in range(20):  # warm the server up
            _latency(pair)
        baseline = [_latency(pair) for _ in range(args.samples)]

        pair.site.start_worker()
        start = time.perf_counter()
        during: list[float] = []
        checked = start
        while True:
            during.append(_latency(pair))
            if time.perf_counter() - checked >= 2:
                checked = time.perf_counter()
                status = pair.site.graphql(pair.site_people["admin"], SYNC)["syncStatus"]
                if status["backlog"] == 0:
                    break
        drained = time.perf_counter() - start
        hub = pair.hub.run("digest")
        site = pair.site.run("digest")
    smtp.stop()
    result = {
        "engine": args.engine,
        "events": events,
        "write_seconds": round(written, 1),
        "drain_seconds": round(drained, 1),
        "events_per_second": round(events / drained, 1),
        "hub_received": hub["received"],
        "same_digest": hub["digest"] == site["digest"],
        "failed": status["failed"],
        "latency_idle_ms": {k: round(v, 1) for k, v in _summary(baseline).items()},
        "latency_draining_ms": {k: round(v, 1) for k, v in _summary(during).items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
