"""Synced mode: a backlog of events drained to the hub, and the site's request latency meanwhile.

    .venv/bin/python bench/sync_drain.py --tickets 200 --steps 49 --db-prefix bench_19 --save

Two real instances (tests/hosted/instances.py): a site in synced mode and a hub, each its own
uvicorn server and outbox worker on its own database (PostgreSQL ``<prefix>_site`` and
``<prefix>_hub``, dropped and made again; or SQLite files with ``--engine sqlite``). With the
site's worker stopped, the site's services write ``tickets`` x (``steps`` + 1) events (200 x 50
= 10,000): the backlog. ``--save`` keeps a copy of both databases at that point and
``--from-saved`` starts a later run from it, so one backlog serves several runs.

Then, for each target (the real hub; with ``--target acknowledger`` or ``both``, the same backlog
to a stand-in on the hub's port that only answers 200, i.e. the site's own cost): the site's
worker starts, and the site's agent queue (a GraphQL query over HTTP) is timed back to back
while the worker is alternately paused (SIGSTOP, ``--idle-window`` seconds) and running
(``--drain-window`` seconds), until the backlog is empty or ``--max-seconds`` of running time
have passed. Samples taken while paused are the idle baseline, those while running the draining
latency: both come from the same minutes, so the load of whatever else runs on the machine
weighs on both alike. The first ``--settle`` seconds of a window are not sampled (the hub may
still be answering the last event sent before a pause). Events per second count running time
only. The CPU seconds each process spent meanwhile (from /proc) say who used the machine.

The worker runs with ``--worker-args`` (e.g. ``"--duty-cycle 1 --nice 0"``: no pacing).
Both instances keep a small pool of PostgreSQL connections (Django's ``"pool"`` option, with
psycopg_pool), as a production server would; ``--no-pool`` is Django's default, a new
connection and a cold backend for every request, which makes the hub's apply several times
slower (bench/hub_apply.py --http).
``--hub-nice 10`` starts the hub's server and worker at niceness 10: the site's processes get the
CPU first, and the hub applies in what they leave.

Two machines on one: ``--site-pg-port``/``--hub-pg-port`` put each database on its own PostgreSQL
server (a cluster of its own, e.g. ``pg_createcluster 15 benchhub --port 5434``), and
``--site-cpus``/``--hub-cpus`` pin each side to its own CPUs: the site's server, worker,
PostgreSQL server and this script (the sampler, standing in for the site's users) on one set,
the hub's server, worker and PostgreSQL server on the other. That is the deployment the target
is about, a hub on a machine of its own, short of a second machine.

``--rate 10`` times ten requests a second instead of back to back. Back to back keeps the site's
server busy all the time, and the worker, a lower priority than the server by design, then
drains only in what the machine has left: on one CPU, almost nothing. A site serving its users
at a steady rate leaves it room.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on the path, and its queue/ would hide the stdlib's.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != Path(__file__).parent)]

from tests.hosted.instances import Instance, Pair, Placement, site_and_hub  # noqa: E402
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
            protocol_version = "HTTP/1.1"

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


def _latency(pair: Pair) -> float | None:
    """Milliseconds for the agent queue; None when the site answers with an error (on a shared
    machine, e.g. when other programs take every PostgreSQL connection)."""
    start = time.perf_counter()
    try:
        pair.site.graphql(pair.site_people["agent"], QUEUE)
    except (OSError, AssertionError):  # urllib's HTTPError and URLError are OSErrors
        return None
    return (time.perf_counter() - start) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}

    def rank(share: float) -> float:
        return ordered[min(int(len(ordered) * share), len(ordered) - 1)]

    summary = {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "mean": statistics.fmean(ordered),
    }
    return {key: round(value, 1) for key, value in summary.items()}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes(pair: Pair) -> dict[str, int]:
    found = {}
    for instance in (pair.site, pair.hub):
        for what in ("server", "worker"):
            process = getattr(instance, what)
            if process is not None:
                found[f"{instance.name}_{what}"] = process.pid
    return found


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _backlog(site: Instance, pair: Pair) -> dict[str, int]:
    status: dict[str, int] = site.graphql(pair.site_people["admin"], SYNC)["syncStatus"]
    return status


def _interleaved(
    pair: Pair,
    events: int,
    windows: tuple[float, float],
    settle: float,
    worker_args: list[str],
    max_seconds: float,
    rate: float | None,
) -> dict[str, Any]:
    """Drain with the worker alternately paused and running; latency samples of each, taken
    back to back, or ``rate`` requests a second."""
    for _ in range(20):  # warm the server up
        _latency(pair)
    pair.site.start_worker(*worker_args)
    worker = pair.site.worker
    assert worker is not None
    pids = _processes(pair)
    cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    idle: list[float] = []
    draining: list[float] = []
    errors = {"idle": 0, "draining": 0}
    running_seconds = 0.0
    loads = [_load()]
    start = time.perf_counter()
    running = False
    worker.send_signal(signal.SIGSTOP)
    next_request = time.perf_counter()
    while True:
        running = not running
        worker.send_signal(signal.SIGCONT if running else signal.SIGSTOP)
        began = time.perf_counter()
        window = windows[1] if running else windows[0]
        while (now := time.perf_counter()) - began < window:
            if rate:  # the next request at its slot; one that falls behind starts a new schedule
                if next_request > now:
                    time.sleep(next_request - now)
                    now = time.perf_counter()
                next_request = max(next_request, now - 1 / rate) + 1 / rate
            sample = _latency(pair)
            if sample is None:
                errors["draining" if running else "idle"] += 1
            elif now - began >= settle:
                (draining if running else idle).append(sample)
        if running:
            running_seconds += time.perf_counter() - began
            status = _backlog(pair.site, pair)
            loads.append(_load())
            if status["backlog"] == 0 or running_seconds >= max_seconds:
                break
    wall = time.perf_counter() - start
    cpu = {name: round(_cpu_seconds(pid) - cpu_before[name], 1) for name, pid in pids.items()}
    worker.terminate()
    worker.wait()
    pair.site.worker = None
    idle_summary, draining_summary = _summary(idle), _summary(draining)
    sent = events - status["backlog"]
    return {
        "sampling": f"{rate} requests/s" if rate else "back to back",
        "events_sent": sent,
        "running_seconds": round(running_seconds, 1),
        "wall_seconds": round(wall, 1),
        "events_per_second": round(sent / running_seconds, 1),
        "failed": status["failed"],
        "latency_idle_ms": idle_summary,
        "latency_draining_ms": draining_summary,
        "p50_worse_by_percent": round(100 * (draining_summary["p50"] / idle_summary["p50"] - 1), 1),
        "request_errors": errors,
        "cpu_seconds": cpu,
        "load_average_1min": {"min": min(loads), "max": max(loads)},
    }


def _psql(sql: str, port: int | None = None) -> Any:
    import psycopg

    with psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=port or int(os.environ.get("PGPORT", "5432")),
        user=os.environ.get("PGUSER", "postgres"),
        dbname="postgres",
        autocommit=True,
    ) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else None


def _pin_postgres(port: int, cpus: frozenset[int]) -> None:
    """Pin a local PostgreSQL server (its postmaster and running processes) to ``cpus``; the
    backends it forks later inherit the postmaster's affinity."""
    data = Path(_psql("SHOW data_directory", port)[0][0])
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    os.sched_setaffinity(postmaster, cpus)
    for pid in (int(name) for name in os.listdir("/proc") if name.isdigit()):
        try:  # a process may end while this looks
            if (
                int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                == postmaster
            ):
                os.sched_setaffinity(pid, cpus)
        except (OSError, ValueError, IndexError):
            continue


def _cpus(text: str | None) -> frozenset[int] | None:
    return frozenset(int(cpu) for cpu in text.split(",")) if text else None


def _saved_file(prefix: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{prefix}-saved.json"


def _save(pair: Pair, prefix: str, about: dict[str, Any]) -> None:
    """Copy both databases as they are now (the backlog written, nothing sent) to
    ``<prefix>_{site,hub}_saved``, so later runs can start from them with --from-saved."""
    assert pair.hub.worker is not None
    pair.hub.worker.terminate()
    pair.hub.worker.wait()
    pair.site.stop_server()
    pair.hub.stop_server()
    for instance in (pair.site, pair.hub):
        role, port = instance.name, instance.placement.pg_port
        _psql(f'DROP DATABASE IF EXISTS "{prefix}_{role}_saved"', port)
        _psql(f'CREATE DATABASE "{prefix}_{role}_saved" TEMPLATE "{prefix}_{role}"', port)
    people = {"hub": pair.hub_people, "site": pair.site_people, **about}
    _saved_file(prefix).write_text(json.dumps(people))
    pair.site.start_server()
    pair.hub.start_server()
    pair.hub.start_worker()


def _restore(prefix: str, ports: dict[str, int | None]) -> dict[str, Any]:
    for role, port in ports.items():
        _psql(f'DROP DATABASE IF EXISTS "{prefix}_{role}" WITH (FORCE)', port)
        _psql(f'CREATE DATABASE "{prefix}_{role}" TEMPLATE "{prefix}_{role}_saved"', port)
    saved: dict[str, Any] = json.loads(_saved_file(prefix).read_text())
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--steps", type=int, default=49)
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--db-prefix", default="bench_19", help="PostgreSQL database names")
    parser.add_argument("--idle-window", type=float, default=2.0, help="Seconds paused")
    parser.add_argument("--drain-window", type=float, default=4.0, help="Seconds running")
    parser.add_argument("--settle", type=float, default=0.5, help="Unsampled start of a window")
    parser.add_argument("--max-seconds", type=float, default=4 * 3600, help="Running time cap")
    parser.add_argument("--worker-args", default="", help="Extra escalated_worker arguments")
    parser.add_argument(
        "--rate",
        type=float,
        help="Requests per second of the latency sampler (default: back to back)",
    )
    parser.add_argument(
        "--no-pool",
        action="store_true",
        help="Django's default: a new PostgreSQL connection for every request",
    )
    parser.add_argument("--hub-nice", type=int, default=0, help="Niceness of the hub's processes")
    for role in ("site", "hub"):
        parser.add_argument(
            f"--{role}-pg-port", type=int, help=f"The PostgreSQL server of the {role}'s database"
        )
        parser.add_argument(f"--{role}-cpus", help=f"CPUs the {role} may use, e.g. 0 or 0,1")
    parser.add_argument(
        "--target",
        choices=("hub", "acknowledger", "both", "none"),
        default="hub",
        help="Where to drain",
    )
    parser.add_argument(
        "--save",
        action="store_true",
        help="PostgreSQL: keep a copy of both databases once the backlog is written",
    )
    parser.add_argument(
        "--from-saved",
        action="store_true",
        help="PostgreSQL: start from the copy --save kept instead of writing the backlog again",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM, still stop the servers and workers this started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    worker_args = args.worker_args.split()
    site = Placement(args.site_pg_port, _cpus(args.site_cpus))
    hub = Placement(args.hub_pg_port, _cpus(args.hub_cpus), args.hub_nice)
    for placement in (site, hub):
        if placement.pg_port and placement.cpus:
            _pin_postgres(placement.pg_port, placement.cpus)
    if site.cpus:  # the sampler and the mail sink are the site's users and its mail server
        os.sched_setaffinity(0, site.cpus)
    os.environ["ESCALATED_INSTANCE_DB_POOL"] = "0" if args.no_pool else "1"
    smtp = SmtpSink()
    smtp.start()
    result: dict[str, Any] = {
        "engine": args.engine,
        "worker_args": worker_args,
        "hub_nice": args.hub_nice,
        "connection_pool": not args.no_pool,
        "site": {"pg_port": site.pg_port, "cpus": args.site_cpus},
        "hub": {"pg_port": hub.pg_port, "cpus": args.hub_cpus},
    }
    ports = {"site": site.pg_port, "hub": hub.pg_port}
    saved = _restore(args.db_prefix, ports) if args.from_saved else None
    prepared = (saved["hub"], saved["site"]) if saved else None
    with (
        tempfile.TemporaryDirectory() as tmp,
        site_and_hub(
            Path(tmp),
            smtp.port,
            args.engine,
            args.db_prefix,
            prepared=prepared,
            hub_placement=hub,
            site_placement=site,
        ) as pair,
    ):
        assert pair.site.worker is not None
        pair.site.worker.terminate()
        pair.site.worker.wait()
        pair.site.worker = None
        if saved is None:
            start = time.perf_counter()
            load = _load()
            pair.site.run("stream", str(args.tickets), "0", str(args.steps), timeout=4 * 3600)
            events = args.tickets * (args.steps + 1)
            result.update(
                events=events,
                write_seconds=round(time.perf_counter() - start, 1),
                write_load=[load, _load()],
            )
            if args.save:
                _save(pair, args.db_prefix, {"events": events})
        else:
            events = saved["events"]
            result.update(events=events, from_saved=True)
        backlog = _backlog(pair.site, pair)["backlog"]
        assert backlog == events, (backlog, events)

        windows = (args.idle_window, args.drain_window)
        if args.target in ("hub", "both"):
            to_hub = _interleaved(
                pair, events, windows, args.settle, worker_args, args.max_seconds, args.rate
            )
            hub, site = pair.hub.run("digest"), pair.site.run("digest")
            to_hub.update(hub_received=hub["received"], same_digest=hub["digest"] == site["digest"])
            result["to_the_hub"] = to_hub
            pair.site.run("requeue")

        if args.target in ("acknowledger", "both"):
            pair.hub.stop_server()
            acknowledger = Acknowledger(pair.hub.port)
            try:
                to_acknowledger = _interleaved(
                    pair, events, windows, args.settle, worker_args, args.max_seconds, args.rate
                )
            finally:
                acknowledger.stop()
            to_acknowledger.update(acknowledged=len(acknowledger.ids))
            result["to_an_acknowledger"] = to_acknowledger
    smtp.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
