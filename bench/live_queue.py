"""Live queue benchmark: many real websocket subscribers to queueEvents, and the time from a
mutation's commit to each subscriber receiving the event.

    .venv/bin/python -m bench.live_queue --subscribers 1000 --events 30
    .venv/bin/python -m bench.live_queue --subscribers 1000 --events 30 --processes 2 \\
        --redis-url redis://127.0.0.1:6379/5

Servers are uvicorn processes serving the project's asgi.py on loopback (SQLite file database;
with --processes 2, one channels-redis layer shared by both). Subscribers are agents, each on
their own connection, spread evenly over the servers; mutations go round-robin to the servers
over HTTP. Latency is receive time minus the event's `occurredAt`, which the server stamps right
after the commit (one machine, one clock). The servers' long garbage-collector passes while
measuring are reported too (`server_long_gc_passes`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUEUE = """
subscription {
  queueEvents(filter: {status: [OPEN, IN_PROGRESS, WAITING_ON_AGENT]}) {
    change kind ticketId occurredAt ticket { reference status priority }
  }
}
"""
PRIORITY = """
mutation($input: TicketPriorityChangeInput!) {
  ticketPriorityChange(input: $input) { errors { code } }
}
"""


def build_world(db: Path, agents: int, tickets: int) -> dict[str, Any]:
    """A helpdesk with one department, ``agents`` agents with API tokens, ``tickets`` tickets."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.server_settings"
    os.environ["ESCALATED_SERVER_DB"] = str(db)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from escalated.access import SystemActor
    from escalated.services import organisation
    from escalated.services import tickets as ticket_service
    from escalated.services.tokens import api_token_create
    from tests.conftest import gid

    call_command("migrate", verbosity=0)
    system = SystemActor("bench")
    User = get_user_model()
    with transaction.atomic():
        people = [
            User.objects.create_user(username=f"agent{i}", password="x") for i in range(agents)
        ]
        customer = User.objects.create_user(username="customer", password="x")
        department = organisation.department_create(actor=system, name="Support", agents=people)
        admin = User.objects.create_superuser(username="admin", password="x")
        opened = [
            ticket_service.ticket_create(
                actor=customer, subject=f"Ticket {i}", department=department
            )
            for i in range(tickets)
        ]
        return {
            "tokens": [api_token_create(actor=p, name="bench")[1] for p in people],
            "admin": api_token_create(actor=admin, name="bench")[1],
            "tickets": [gid(t) for t in opened],
        }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Subscriber:
    """One client connection. While measuring it only notes each frame and its arrival time;
    frames are parsed afterwards, so that 1,000 clients in one process add as little as possible
    to the latency they measure."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.received: list[tuple[float, str | bytes]] = []
        self.latencies: list[float] = []
        # occurredAt -> latency, to tell one slow event from a slow path.
        self.by_event: dict[str, float] = {}

    async def listen(self) -> None:
        async for raw in self.connection:
            self.received.append((time.time(), raw))

    def settle(self) -> None:
        """Parse what arrived into latencies (each event's ``occurredAt`` to its arrival)."""
        for arrived, raw in self.received:
            message = json.loads(raw)
            if message.get("type") != "next":
                continue
            event = message["payload"]["data"]["queueEvents"]
            latency = arrived - datetime.fromisoformat(event["occurredAt"]).timestamp()
            self.latencies.append(latency)
            self.by_event[event["occurredAt"]] = latency


async def open_subscriber(address: str, token: str) -> Subscriber:
    from websockets.asyncio.client import connect

    connection = await connect(
        f"ws://{address}/support/graphql/",
        subprotocols=["graphql-transport-ws"],
        open_timeout=60,
        ping_interval=None,
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await connection.send(json.dumps(init))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    await connection.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": QUEUE}}))
    return Subscriber(connection)


def post(address: str, token: str, query: str, variables: dict[str, Any]) -> None:
    from tests.realtime.servers import graphql_post

    graphql_post(address, token, query, variables)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.realtime.servers import server

    db = Path(tempfile.mkdtemp(prefix="escalated-bench-")) / "bench.sqlite3"
    world = await asyncio.to_thread(build_world, db, args.subscribers, args.tickets)
    # The servers log their garbage collector's long passes here (tests.realtime.collector_log).
    # Set after this process has loaded its own settings, so that only the servers log.
    gc_log = db.parent / "collections"
    os.environ["ESCALATED_GC_LOG"] = str(gc_log)
    redis_url = args.redis_url if args.processes > 1 else None
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    with _servers(server, db, args.processes, redis_url) as servers:
        addresses = [s.address for s in servers]
        pids = [s.pid for s in servers]
        print("server pids:", *pids, file=sys.stderr, flush=True)
        await asyncio.to_thread(_warm, addresses, world)
        base = [rss_kib(s.pid) for s in servers]
        subscribers = []
        for start in range(0, args.subscribers, 100):
            batch = range(start, min(start + 100, args.subscribers))
            subscribers += await asyncio.gather(
                *(open_subscriber(addresses[i % len(addresses)], world["tokens"][i]) for i in batch)
            )
        listeners = [asyncio.create_task(s.listen()) for s in subscribers]
        await _until_all_hear(addresses, world, subscribers)
        loaded = [rss_kib(s.pid) for s in servers]
        for s in subscribers:
            s.received.clear()
        # The clients' own garbage collections would show up as latency: none while measuring.
        gc.collect()
        gc.disable()

        print("measuring", file=sys.stderr, flush=True)
        measuring = time.time()
        for n in range(args.events):
            ticket = world["tickets"][n % len(world["tickets"])]
            priority = ("HIGH", "LOW")[(n // len(world["tickets"])) % 2]
            variables = {"input": {"ticketId": ticket, "priority": priority}}
            await asyncio.to_thread(
                post, addresses[n % len(addresses)], world["admin"], PRIORITY, variables
            )
            await asyncio.sleep(args.interval)
        await asyncio.sleep(2)
        measured = time.time()
        gc.enable()
        for task in listeners:
            task.cancel()
        for s in subscribers:
            await s.connection.close()

    from tests.realtime.collector_log import read_collections

    passes = [
        {"generation": entry["generation"], "ms": entry["ms"]}
        for entry in read_collections(str(gc_log), pids)
        if measuring <= entry["at"] <= measured
    ]
    for s in subscribers:
        s.settle()
    latencies = sorted(x for s in subscribers for x in s.latencies)
    expected = args.subscribers * args.events
    quantiles = statistics.quantiles(latencies, n=100)
    slowest: dict[str, float] = {}
    for s in subscribers:
        for at, latency in s.by_event.items():
            slowest[at] = max(slowest.get(at, 0.0), latency)
    return {
        "subscribers": args.subscribers,
        "processes": args.processes,
        "events": args.events,
        "deliveries": len(latencies),
        "expected": expected,
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "rss_per_connection_kib": round((sum(loaded) - sum(base)) / args.subscribers, 1),
        "client_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # The servers' full garbage collections, and other passes of 20 ms or more, while
        # measuring: each holds every delivery of its process up for as long as it runs.
        "server_long_gc_passes": passes,
        # The last subscriber's latency for each event, in the order the events were sent.
        "per_event_max_ms": [round(slowest[at] * 1000) for at in sorted(slowest)],
    }


def _warm(addresses: list[str], world: dict[str, Any]) -> None:
    """One mutation through each server, so imports and first queries are out of the way."""
    for address in addresses:
        post(
            address,
            world["admin"],
            PRIORITY,
            {"input": {"ticketId": world["tickets"][0], "priority": "LOW"}},
        )


async def _until_all_hear(
    addresses: list[str], world: dict[str, Any], subscribers: list[Subscriber]
) -> None:
    """Nudge until every subscriber has heard an event (a subscription joins its group a moment
    after the subscribe message)."""
    for attempt in range(60):
        variables = {
            "input": {"ticketId": world["tickets"][0], "priority": ("MEDIUM", "LOW")[attempt % 2]}
        }
        await asyncio.to_thread(
            post, addresses[attempt % len(addresses)], world["admin"], PRIORITY, variables
        )
        await asyncio.sleep(1)
        if all(s.received for s in subscribers):
            await asyncio.sleep(1)
            return
    missing = sum(1 for s in subscribers if not s.received)
    raise RuntimeError(f"{missing} subscribers never heard anything")


class _servers:
    def __init__(self, server: Any, db: Path, count: int, redis_url: str | None) -> None:
        self.contexts = [server(db, redis_url=redis_url) for _ in range(count)]

    def __enter__(self) -> list[Any]:
        return [context.__enter__() for context in self.contexts]

    def __exit__(self, *exc: Any) -> None:
        for context in self.contexts:
            context.__exit__(*exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between mutations")
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--redis-url", default=os.environ.get("ESCALATED_REDIS_URL"))
    args = parser.parse_args()
    if args.processes > 1 and not args.redis_url:
        parser.error("--processes 2 needs --redis-url (or ESCALATED_REDIS_URL)")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
