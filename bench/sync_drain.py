"""Synced mode: a backlog of events drained to the hub, and the site's request latency meanwhile.

    .venv/bin/python bench/sync_drain.py --tickets 200 --steps 49 --engine postgres

Two real instances (tests/hosted/instances.py): a site in synced mode and a hub, each its own
uvicorn server and outbox worker on its own database. With the site's worker stopped, the site's
services write ``tickets`` x (``steps`` + 1) events (200 x 50 = 10,000): the backlog. Then:

1. baseline: the site's agent queue (a GraphQL query over HTTP), ``--samples`` times, while
   nothing drains;
2. drain to the hub: the site's worker starts; the same query runs back to back until the
   backlog is empty (read from syncStatus every two seconds, outside the samples); events per
   second over the drain, the latency samples taken during it, and a check that the hub applied
   every event exactly once (digests equal);
3. the same backlog again (requeued), to a stand-in on the hub's port that only acknowledges:
   the drain as fast as the site can send, so the latency left is the site's own cost of
   draining (on this one machine the real hub's work competes with the site for the CPU).

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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hosted.instances import Pair, site_and_hub  # noqa: E402
from tests.outbox.peers import SmtpSink  # noqa: E402

QUEUE = "{ tickets(first: 25) { edges { node { reference subject status priority } } } }"
SYNC = "{ syncStatus { backlog failed } }"


class Acknowledger:
    """Stands in for the hub on its port: answers every event 200 at once, so the drain runs as
    fast as the site can send, and only the site's own cost of draining is left."""

    def __init__(self, port: int) -> None:
        self.ids: set[str] = set()
        acknowledger = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                acknowledger.ids.add(json.loads(body)["event_id"])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _latency(pair: Pair) -> float:
    start = time.perf_counter()
    pair.site.graphql(pair.site_people["agent"], QUEUE)
    return (time.perf_counter() - start) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    summary = {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": ordered[max(int(len(ordered) * 0.95) - 1, 0)],
        "mean": statistics.fmean(ordered),
    }
    return {key: round(value, 1) for key, value in summary.items()}


def _idle(pair: Pair, samples: int) -> dict[str, float]:
    for _ in range(20):  # warm the server up
        _latency(pair)
    return _summary([_latency(pair) for _ in range(samples)])


def _drain(pair: Pair, events: int) -> dict[str, object]:
    """Start the site's worker, sample latency until the backlog is empty, stop the worker."""
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
    assert pair.site.worker is not None
    pair.site.worker.terminate()
    pair.site.worker.wait()
    return {
        "drain_seconds": round(drained, 1),
        "events_per_second": round(events / drained, 1),
        "failed": status["failed"],
        "latency_draining_ms": _summary(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--steps", type=int, default=49)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--acknowledger-only", action="store_true", help="Skip the drain to the real hub."
    )
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

        idle = _idle(pair, args.samples)
        to_hub: dict[str, object] = {}
        if not args.acknowledger_only:
            to_hub = _drain(pair, events)
            hub, site = pair.hub.run("digest"), pair.site.run("digest")
            to_hub.update(hub_received=hub["received"], same_digest=hub["digest"] == site["digest"])
            pair.site.run("requeue")

        # The same backlog (again), to a stand-in that only acknowledges: the site's own cost.
        pair.hub.stop_server()
        acknowledger = Acknowledger(pair.hub.port)
        try:
            idle_again = _idle(pair, args.samples)
            to_acknowledger = _drain(pair, events)
        finally:
            acknowledger.stop()
        to_acknowledger.update(acknowledged=len(acknowledger.ids))
    smtp.stop()
    result = {
        "engine": args.engine,
        "events": events,
        "write_seconds": round(written, 1),
        "latency_idle_ms": idle,
        "to_the_hub": to_hub,
        "latency_idle_again_ms": idle_again,
        "to_an_acknowledger": to_acknowledger,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
