"""Where a hub's time goes when it applies a site's events: statements and milliseconds per event.

    .venv/bin/python bench/hub_apply.py --tickets 20 --steps 9 --db-prefix bench_h19_prof

A real site and a real hub (the databases and settings of tests/hosted/instances.py; no
servers): the site's services write ``tickets`` x (``steps`` + 1) events (the stream of
bench/sync_drain.py: tickets opened by a customer, then agent replies, customer replies and
priority changes in turn), its hub deliveries are read in the order its worker would send them,
and a process with the hub's settings POSTs each body to ``/support/hub/api/v1/events`` through
Django's test client (the whole request: middleware, the key check, the apply, the commit), one
at a time as the hub's server takes them. Printed: per event name, the statements and the
milliseconds of each request, the outbox rows the hub wrote, and with ``--profile`` the
functions the time went to (cProfile, cumulative). ``--sql`` lists the statements of one event
of each name.

PostgreSQL: the hub's database as it was before the events is kept as ``<prefix>_hub_saved``
(and the bodies in a file beside it), so ``--again`` applies the same events to a fresh copy
without writing them on the site again (e.g. after a change to the hub's code).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != Path(__file__).parent)]


def _child(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.splitlines()[-1])


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        user=os.environ.get("PGUSER", "postgres"),
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql)


def dump(path: str) -> dict[str, Any]:
    """Site side: the hub deliveries' bodies, in the order the worker claims them."""
    from escalated.models import Delivery, DeliveryKind

    rows = Delivery.objects.filter(kind=DeliveryKind.HUB).order_by("next_attempt_at", "id")
    bodies = [row.payload for row in rows]
    Path(path).write_text(json.dumps(bodies))
    return {"events": len(bodies)}


def _statement_kind(sql: str) -> str:
    """A statement's verb and first table: what the time is summed under."""
    words = sql.split()
    verb = words[0] if words else ""
    tables = (word for word in words if word.startswith(('"escalated_', '"auth_')))
    table = next(tables, "")
    return f"{verb} {table.split('.')[0]}".strip()


def apply(path: str, *, profile: bool, sql: bool) -> dict[str, Any]:
    """Hub side: POST each body, counting its statements and timing it."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from escalated.models import Delivery, Site, TicketActivity

    bodies = json.loads(Path(path).read_text())["events"]
    site = Site.objects.get()
    key = os.environ["HUB_SITE_KEY"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    deliveries_before = Delivery.objects.count()
    activities_before = TicketActivity.objects.count()
    statements: dict[str, list[int]] = defaultdict(list)
    millis: dict[str, list[float]] = defaultdict(list)
    shown: dict[str, list[str]] = {}
    profiler = cProfile.Profile() if profile else None
    outcomes: dict[str, int] = defaultdict(int)
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # count, milliseconds
    # Not counted: the first request of a process loads the URLconf and with it the schema.
    client.post("/support/hub/api/v1/events", "{}", content_type="application/json")
    started = time.perf_counter()
    for body in bodies:
        raw = json.dumps(body, sort_keys=True)
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            response = client.post(
                "/support/hub/api/v1/events", raw, content_type="application/json"
            )
            if profiler is not None:
                profiler.disable()
            elapsed = (time.perf_counter() - began) * 1000
        outcomes[f"{response.status_code} {response.json().get('status')}"] += 1
        name = body["event"]
        for query in queries.captured_queries:
            kind = _statement_kind(query["sql"])
            spent[kind][0] += 1
            spent[kind][1] += float(query["time"]) * 1000
        statements[name].append(len(queries.captured_queries))
        millis[name].append(elapsed)
        if sql and name not in shown:
            shown[name] = [query["sql"][:160] for query in queries.captured_queries]
    total = time.perf_counter() - started
    by_kind: dict[str, int] = defaultdict(int)
    for delivery in Delivery.objects.all()[deliveries_before:]:
        by_kind[f"{delivery.kind}:{delivery.event}"] += 1
    result: dict[str, Any] = {
        "site": site.slug,
        "events": len(bodies),
        "outcomes": outcomes,
        "seconds": round(total, 2),
        "events_per_second": round(len(bodies) / total, 1),
        "per_event": {
            name: {
                "n": len(counts),
                "statements_mean": round(statistics.fmean(counts), 1),
                "statements_max": max(counts),
                "ms_median": round(statistics.median(millis[name]), 1),
                "ms_mean": round(statistics.fmean(millis[name]), 1),
            }
            for name, counts in statements.items()
        },
        "statements_per_event": round(sum(map(sum, statements.values())) / max(len(bodies), 1), 1),
        "hub_outbox_rows": dict(by_kind),
        "statement_ms": {
            kind: {"n": int(n), "ms_each": round(ms / n, 2), "ms_total": round(ms)}
            for kind, (n, ms) in sorted(spent.items(), key=lambda item: -item[1][1])[:25]
        },
        "hub_activity_rows": TicketActivity.objects.count() - activities_before,
    }
    if sql:
        result["sql"] = shown
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        sys.stderr.write(out.getvalue())
    return result


def _post(url: str, body: bytes, key: str) -> int:
    request = urllib.request.Request(  # noqa: S310  (the hub's loopback address)
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _over_http(hub: Any, key: str, saved: Path) -> dict[str, Any]:
    """POST each body to the hub's own uvicorn server, one at a time, as the site's worker does
    (a new connection each)."""
    bodies = json.loads(saved.read_text())["events"]
    hub.start_server()
    url = hub.url("/support/hub/api/v1/events")
    for _ in range(300):  # until it listens and has loaded
        try:
            if _post(url, b"{}", key) == 400:
                break
        except OSError:
            time.sleep(0.2)
    millis: list[float] = []
    began = time.perf_counter()
    for body in bodies:
        start = time.perf_counter()
        status = _post(url, json.dumps(body, sort_keys=True).encode(), key)
        assert status == 200, status
        millis.append((time.perf_counter() - start) * 1000)
    total = time.perf_counter() - began
    return {
        "events": len(bodies),
        "over": "http",
        "seconds": round(total, 2),
        "events_per_second": round(len(bodies) / total, 1),
        "ms_median": round(statistics.median(millis), 1),
        "ms_mean": round(statistics.fmean(millis), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--db-prefix", default="bench_19_prof")
    parser.add_argument("--profile", action="store_true", help="cProfile the hub's requests")
    parser.add_argument("--sql", action="store_true", help="List one event's statements per name")
    parser.add_argument(
        "--again", action="store_true", help="PostgreSQL: the saved events on a fresh hub copy"
    )
    parser.add_argument(
        "--http", action="store_true", help="POST to the hub's real server instead (no counts)"
    )
    parser.add_argument(
        "--pool",
        action="store_true",
        help="With --http: the hub server keeps a pool of connections (Django's default: a new "
        "connection for every request)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import django

        django.setup()
        if args.child[0] == "dump":
            result = dump(args.child[1])
        else:
            result = apply(args.child[1], profile=args.profile, sql=args.sql)
        print(json.dumps(result))
        return

    from tests.hosted.instances import LOOPBACK, OUTBOX, Instance

    os.environ["ESCALATED_INSTANCE_DB_POOL"] = "1" if args.pool else "0"

    saved = Path(tempfile.gettempdir()) / f"{args.db_prefix}-events.json"
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)

        def database(role: str) -> str:
            prefix = args.db_prefix
            return f"{prefix}_{role}" if args.engine == "postgres" else str(logs / f"{role}.db")

        hub = Instance("hub", database("hub"), args.engine, 25, logs)
        site = Instance("site", database("site"), args.engine, 25, logs)
        try:
            hub.settings = {"HUB": {"ENABLED": True}, "OUTBOX": OUTBOX, **LOOPBACK}
            if args.again:
                for sql in (
                    f'DROP DATABASE IF EXISTS "{hub.database}" WITH (FORCE)',
                    f'CREATE DATABASE "{hub.database}" TEMPLATE "{hub.database}_saved"',
                ):
                    _psql(sql)
                keys = json.loads(saved.read_text())["keys"]
            else:
                keys = hub.run("hub", site.url("/support/cloud/webhook/"))
                site.settings = {
                    "MODE": "synced",
                    "HOSTED_API_URL": hub.url("/support/hub/api/v1"),
                    "HOSTED_API_KEY": keys["key"],
                    "HOSTED_SIGNING_SECRET": keys["secret"],
                    "OUTBOX": OUTBOX,
                    **LOOPBACK,
                }
                site.run("site")
                site.run("stream", str(args.tickets), "0", str(args.steps), timeout=3600)
                bodies = str(logs / "events.json")
                _child(site.env(), "--child", "dump", bodies)
                events = json.loads(Path(bodies).read_text())
                saved.write_text(json.dumps({"keys": keys, "events": events}))
                if args.engine == "postgres":
                    _psql(f'DROP DATABASE IF EXISTS "{hub.database}_saved"')
                    _psql(f'CREATE DATABASE "{hub.database}_saved" TEMPLATE "{hub.database}"')
            if args.http:
                result = _over_http(hub, keys["key"], saved)
            else:
                flags = [f for f, on in (("--profile", args.profile), ("--sql", args.sql)) if on]
                env = {**hub.env(), "HUB_SITE_KEY": keys["key"]}
                result = _child(env, *flags, "--child", "apply", str(saved))
        finally:
            site.stop()
            hub.stop()
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
