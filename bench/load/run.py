"""Load test: agents and customers working tickets over HTTP while agents hold ``queueEvents``
subscriptions, with one server and the outbox workers killed half way (the workers restarted);
then proofs that nothing was lost or doubled (see bench/load/verify.py).

    .venv/bin/python -m bench.load.run --clients 200 --subscribers 200 --seconds 300

Everything is on loopback: two uvicorn processes serving asgi.py (bench/load/settings.py:
PostgreSQL database LOAD_DB, Redis LOAD_REDIS for the channel layer and the cache),
``escalated_worker`` processes (--outbox-workers), an HTTP receiver for webhooks and an SMTP
sink for email (both in this process). The run is bounded in time (--seconds) and in count
(--max-actions). The database is dropped and made again at the start, and kept afterwards for
inspection.

Prints one JSON document: per-operation latencies, throughput, errors, and each proof's verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.load.client import Lost, Refused, Subscriber, graphql_post  # noqa: E402

DEPARTMENTS = 3

CREATE = """mutation($input: TicketCreateInput!) {
  ticketCreate(input: $input) { ticket { id } errors { code message } } }"""
REPLY = """mutation($input: TicketReplyInput!) {
  ticketReply(input: $input) { reply { id } errors { code message } } }"""
NOTE = """mutation($input: TicketNoteAddInput!) {
  ticketNoteAdd(input: $input) { reply { id } errors { code message } } }"""
ASSIGN = """mutation($input: TicketAssignInput!) {
  ticketAssign(input: $input) { ticket { id } errors { code message } } }"""
RESOLVE = """mutation($input: TicketResolveInput!) {
  ticketResolve(input: $input) { ticket { id } errors { code message } } }"""
PRIORITY = """mutation($input: TicketPriorityChangeInput!) {
  ticketPriorityChange(input: $input) { ticket { id } errors { code message } } }"""


@dataclass
class Action:
    """One write the load sent, and what became of it: "ack" (answered, no errors), "error"
    (answered with errors: nothing may have been written), "lost" (sent to a server that died
    before answering: all or nothing may have been written), "refused" (never reached one)."""

    op: str
    actor: int
    ticket: int | None
    marker: str = ""  # the text a create or reply carries, to find it in the database
    target: int | None = None  # assign: the new assignee; priority: 1 HIGH, 0 LOW
    outcome: str = ""
    detail: str = ""
    server: str = ""
    started: float = 0.0
    seconds: float = 0.0  # from sending to the answer
    waited: float = 0.0  # before sending, for a free slot (--in-flight)
    result_id: int | None = None  # the created ticket's or reply's pk, from the answer


@dataclass
class Ticket:
    pk: int
    gid: str
    department: int
    requester: int
    assignee: int | None = None
    retired: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Servers:
    """The uvicorn processes, and which of them are believed up."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.down: set[str] = set()

    def pick(self, n: int) -> str:
        up = [a for a in self.addresses if a not in self.down]
        return up[n % len(up)]


@dataclass
class World:
    agents: list[dict[str, Any]]  # {"id", "token", "departments": [dept pk]}
    customers: list[dict[str, Any]]
    admin: dict[str, Any]
    departments: list[dict[str, Any]]  # {"id", "gid", "agents": [agent ids], "marker": Ticket}


# --- the database and the people ----------------------------------------------------------


def prepare_database(db: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')


def forget_redis_keys(redis_url: str, prefix: str) -> None:
    """Delete this run's keys (its channel layer's and its cache's, all under ``prefix``)."""
    import redis

    store = redis.Redis.from_url(redis_url)
    for key in store.scan_iter(match=f"*{prefix}*", count=1000):
        store.delete(key)


def seed(agent_count: int, customer_count: int) -> dict[str, Any]:
    """Migrate, then make departments, agents (each in one department, every seventh in two),
    customers, an admin, API tokens, and one marker ticket per department."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from strawberry import relay

    from escalated.access import SystemActor
    from escalated.services import organisation
    from escalated.services import tickets as ticket_service
    from escalated.services.tokens import api_token_create

    call_command("migrate", verbosity=0)
    User = get_user_model()
    system = SystemActor("load")
    agents = [
        User.objects.create_user(username=f"agent{i}", email=f"agent{i}@example.com")
        for i in range(agent_count)
    ]
    members: dict[int, list[Any]] = {d: [] for d in range(DEPARTMENTS)}
    for i, agent in enumerate(agents):
        members[i % DEPARTMENTS].append(agent)
        if i % 7 == 0:
            members[(i + 1) % DEPARTMENTS].append(agent)
    admin = User.objects.create_superuser(username="admin", email="admin@example.com")
    customers = [
        User.objects.create_user(username=f"customer{i}", email=f"customer{i}@example.com")
        for i in range(customer_count)
    ]
    departments = []
    for d in range(DEPARTMENTS):
        department = organisation.department_create(
            actor=system, name=f"Department {d}", agents=members[d]
        )
        marker = ticket_service.ticket_create(
            actor=admin, subject=f"Marker {d}", department=department
        )
        departments.append(
            {
                "id": department.pk,
                "gid": relay.to_base64("Department", department.pk),
                "agents": [a.pk for a in members[d]],
                "marker": {"pk": marker.pk, "gid": relay.to_base64("Ticket", marker.pk)},
            }
        )
    by_agent: dict[int, list[int]] = {}
    for d in departments:
        for pk in d["agents"]:
            by_agent.setdefault(pk, []).append(d["id"])

    def token(user: Any) -> str:
        return str(api_token_create(actor=user, name="load")[1])

    return {
        "agents": [{"id": a.pk, "token": token(a), "departments": by_agent[a.pk]} for a in agents],
        "customers": [{"id": c.pk, "token": token(c)} for c in customers],
        "admin": {"id": admin.pk, "token": token(admin)},
        "departments": departments,
    }


# --- the load ------------------------------------------------------------------------------


class Load:
    def __init__(self, args: argparse.Namespace, world: dict[str, Any], servers: Servers) -> None:
        self.args = args
        self.world = world
        self.servers = servers
        self.actions: list[Action] = []
        self.pools: dict[int, list[Ticket]] = {d["id"]: [] for d in world["departments"]}
        self.mine: dict[int, list[Ticket]] = {}
        self.deadline = 0.0
        self.random = random.Random(args.seed)  # noqa: S311  (a workload, not a secret)
        self.agent_ids = {d["id"]: d["agents"] for d in world["departments"]}
        self.priorities: dict[int, int] = {}  # marker ticket pk -> 1 HIGH / 0 LOW
        # Requests open at once, over all clients: each one holds a database connection in the
        # server for as long as it runs, and the machine's PostgreSQL (100 connections) serves
        # eight developers. The rest of the 200 clients wait their turn here (``waited``).
        self.in_flight = asyncio.Semaphore(args.in_flight)

    def more(self) -> bool:
        return time.time() < self.deadline and len(self.actions) < self.args.max_actions

    async def send(self, action: Action, token: str, query: str, variables: Any) -> Any:
        """Run ``action`` on a live server (another if one refuses); its outcome recorded."""
        self.actions.append(action)
        queued = time.time()
        async with self.in_flight:
            action.started = time.time()
            action.waited = action.started - queued
            return await self._send(action, token, query, variables)

    async def _send(self, action: Action, token: str, query: str, variables: Any) -> Any:
        for attempt in range(4):
            action.server = self.servers.pick(action.actor + attempt)
            try:
                status, body = await graphql_post(action.server, token, query, variables)
            except Refused as error:
                action.outcome, action.detail = "refused", str(error)
                self.servers.down.add(action.server)
                continue
            except Lost as error:
                action.outcome, action.detail = "lost", str(error)
                break
            action.seconds = time.time() - action.started
            payload = next(iter((body.get("data") or {}).values()), None)
            errors = body.get("errors") or (payload or {}).get("errors")
            if status != 200 or errors or payload is None:
                action.outcome, action.detail = "error", json.dumps(errors or body)[:300]
                return None
            action.outcome = "ack"
            return payload
        action.seconds = time.time() - action.started
        return None

    async def think(self) -> None:
        await asyncio.sleep(self.random.uniform(0, 2 * self.args.think))

    # customers: open tickets, answer on their own
    async def customer(self, person: dict[str, Any]) -> None:
        mine = self.mine.setdefault(person["id"], [])
        while self.more():
            live = [t for t in mine if not t.retired]
            if not live or (len(live) < 3 and self.random.random() < 0.4):
                await self.create(person)
            else:
                ticket = self.random.choice(live)
                await self.reply(person, ticket, "reply", REPLY)
            await self.think()

    async def create(self, person: dict[str, Any]) -> None:
        department = self.random.choice(self.world["departments"])
        marker = uuid.uuid4().hex
        action = Action("create", person["id"], None, marker=marker)
        variables = {
            "input": {
                "subject": f"Load {marker}",
                "description": "<p>Help</p>",
                "departmentId": department["gid"],
            }
        }
        payload = await self.send(action, person["token"], CREATE, variables)
        if payload is not None:
            gid = payload["ticket"]["id"]
            pk = _pk(gid)
            action.ticket = action.result_id = pk
            ticket = Ticket(pk, gid, department["id"], person["id"])
            self.mine.setdefault(person["id"], []).append(ticket)
            self.pools[department["id"]].append(ticket)

    async def reply(self, person: dict[str, Any], ticket: Ticket, op: str, query: str) -> None:
        marker = uuid.uuid4().hex
        action = Action(op, person["id"], ticket.pk, marker=marker)
        variables = {"input": {"ticketId": ticket.gid, "body": f"<p>{op} {marker}</p>"}}
        payload = await self.send(action, person["token"], query, variables)
        if payload is not None:
            action.result_id = _pk(payload["reply"]["id"])

    # agents: reply, note, assign, resolve within their departments
    async def agent(self, person: dict[str, Any]) -> None:
        while self.more():
            pool = [t for d in person["departments"] for t in self.pools[d] if not t.retired]
            if not pool:
                await asyncio.sleep(0.5)
                continue
            ticket = self.random.choice(pool)
            roll = self.random.random()
            if roll < 0.35:
                await self.reply(person, ticket, "reply", REPLY)
            elif roll < 0.65:
                await self.reply(person, ticket, "note", NOTE)
            elif roll < 0.88:
                await self.assign(person, ticket)
            else:
                await self.resolve(person, ticket)
            await self.think()

    async def assign(self, person: dict[str, Any], ticket: Ticket) -> None:
        # One assignment of a ticket at a time, to someone else than it has: each one a change.
        async with ticket.lock:
            if ticket.retired:
                return
            choices = [a for a in self.agent_ids[ticket.department] if a != ticket.assignee]
            target = self.random.choice(choices)
            action = Action("assign", person["id"], ticket.pk, target=target)
            variables = {"input": {"ticketId": ticket.gid, "assigneeId": _user_gid(target)}}
            payload = await self.send(action, person["token"], ASSIGN, variables)
            if payload is not None:
                ticket.assignee = target
            elif action.outcome == "lost":
                ticket.retired = True  # its assignee is unknown now: leave it alone

    async def resolve(self, person: dict[str, Any], ticket: Ticket) -> None:
        # A ticket is resolved once, and left alone after (so each resolve is a change).
        async with ticket.lock:
            if ticket.retired:
                return
            ticket.retired = True
            action = Action("resolve", person["id"], ticket.pk)
            variables = {"input": {"ticketId": ticket.gid}}
            await self.send(action, person["token"], RESOLVE, variables)

    async def nudge(self) -> None:
        """One priority change on each department's marker ticket (by the admin)."""
        for department in self.world["departments"]:
            marker = department["marker"]
            high = 1 - self.priorities.get(marker["pk"], 0)
            action = Action("priority", self.world["admin"]["id"], marker["pk"], target=high)
            variables = {"input": {"ticketId": marker["gid"], "priority": ("LOW", "HIGH")[high]}}
            if await self.send(action, self.world["admin"]["token"], PRIORITY, variables):
                self.priorities[marker["pk"]] = high
            elif action.outcome == "lost":
                raise RuntimeError(f"a marker change was lost: {action}")


def _pk(gid: str) -> int:
    from strawberry import relay

    return int(relay.GlobalID.from_id(gid).node_id)


def _user_gid(pk: int) -> str:
    from strawberry import relay

    return relay.to_base64("User", pk)


async def until_all_hear(
    load: Load, subscribers: list[Subscriber], since: float, timeout: float
) -> bool:
    """Nudge the markers until every subscriber's open session has heard an event that
    committed after ``since`` (so it is live, and everything before has reached it)."""
    deadline = time.time() + timeout
    tick = 0
    while time.time() < deadline:
        if tick % 5 == 0:  # again every 5 s: a subscription may have joined since
            await load.nudge()
        tick += 1
        await asyncio.sleep(1)
        if all(
            s.current is not None
            and not s.current.ended
            and any(event[2] > since for event in s.current.events)
            for s in subscribers
        ):
            return True
    # Not fatal: the proofs then show what each subscriber missed.
    behind = [s.user_id for s in subscribers if not (s.current and s.current.events)]
    print(f"{len(behind)} subscribers had not caught up: {behind[:10]}", file=sys.stderr)
    return False


# --- processes -------------------------------------------------------------------------------


def _env(args: argparse.Namespace, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.load.settings",
        "PYTHONPATH": str(ROOT),
        "LOAD_DB": args.db,
        "LOAD_REDIS": args.redis,
        **extra,
    }


def start_worker(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "escalated_worker", "--interval", "0.2", "-v", "0"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )


def outbox_settled() -> dict[str, int]:
    from django.db.models import Count

    from escalated.models import Delivery

    return dict(Delivery.objects.values_list("status").annotate(n=Count("id")))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.outbox.peers import HttpReceiver, SmtpSink
    from tests.realtime.servers import server

    prepare_database(args.db)
    timeline: dict[str, float] = {"began": time.time()}
    hooks, smtp = HttpReceiver(), SmtpSink()
    hooks.start()
    smtp.start()
    log_path = Path(args.log)
    env_extra = {
        "LOAD_SMTP_PORT": str(smtp.port),
        "LOAD_WEBHOOK_URL": hooks.url,
        "LOAD_PREFIX": os.environ["LOAD_PREFIX"],
    }
    with ExitStack() as stack, log_path.open("ab") as log:
        stack.callback(forget_redis_keys, args.redis, os.environ["LOAD_PREFIX"])
        stack.callback(hooks.stop)
        stack.callback(smtp.stop)
        running = [
            stack.enter_context(
                server(
                    Path("unused"),
                    settings="bench.load.settings",
                    LOAD_DB=args.db,
                    LOAD_REDIS=args.redis,
                    **env_extra,
                )
            )
            for _ in range(2)
        ]
        # The servers start while the database is migrated and seeded (they touch it only
        # once asked something); the workers poll it at once, so they start after.
        world = await asyncio.to_thread(
            seed, max(args.subscribers, args.clients - args.clients // 2), args.clients // 2
        )
        timeline["seeded"] = time.time()
        workers = [start_worker(_env(args, **env_extra), log) for _ in range(args.outbox_workers)]
        servers = Servers([s.address for s in running])
        load = Load(args, world, servers)
        subscribers = [Subscriber(a["id"], a["token"]) for a in world["agents"][: args.subscribers]]
        listening = []
        for start in range(0, len(subscribers), 50):
            batch = subscribers[start : start + 50]
            listening += [asyncio.create_task(s.run(servers)) for s in batch]
            await asyncio.sleep(1)
        timeline["subscribed"] = time.time()
        settled = {
            "at_start": await until_all_hear(
                load, subscribers, timeline["subscribed"], args.settle_timeout
            )
        }
        timeline["start"] = time.time()
        load.deadline = timeline["start"] + args.seconds
        agents = world["agents"][: args.clients - args.clients // 2]
        actors = [asyncio.create_task(load.customer(c)) for c in world["customers"]]
        actors += [asyncio.create_task(load.agent(a)) for a in agents]
        if args.kill:
            await asyncio.sleep(args.seconds / 2)
            timeline["kill"] = time.time()
            victim = running[1]
            os.kill(victim.pid, signal.SIGKILL)
            servers.down.add(victim.address)
            for worker in workers:
                worker.kill()
                worker.wait()
            await asyncio.sleep(2)
            workers = [start_worker(_env(args, **env_extra), log) for _ in workers]
            timeline["workers_restarted"] = time.time()
        await asyncio.gather(*actors)
        timeline["end"] = time.time()
        settled["at_end"] = await until_all_hear(
            load, subscribers, timeline["end"], args.settle_timeout
        )
        timeline["heard_end"] = time.time()
        await asyncio.sleep(1)
        for s in subscribers:
            await s.stop()
        await asyncio.gather(*listening)
        # The outbox: every row delivered (a row the killed worker held waits for its lease).
        deadline = time.time() + args.drain_timeout
        outbox: dict[str, int] = {}
        while time.time() < deadline:
            outbox = await asyncio.to_thread(outbox_settled)
            if set(outbox) <= {"delivered", "failed"}:
                break
            await asyncio.sleep(1)
        timeline["drained"] = time.time()
        await asyncio.sleep(1)  # anything still arriving at the receivers
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)

    from bench.load import verify

    killed = running[1].address if args.kill else ""

    proofs = await asyncio.to_thread(
        verify.everything,
        actions=load.actions,
        subscribers=subscribers,
        world=world,
        webhook_calls=[c.headers for c in hooks.calls],
        emails=[dict(m.items()) for m in smtp.messages],
        kill_at=timeline.get("kill"),
    )
    return {
        "command": " ".join(sys.argv),
        "config": dict(vars(args)),
        "timeline": {k: round(v - timeline["start"], 2) for k, v in timeline.items()},
        "subscribers_caught_up": settled,
        "outbox": outbox,
        "latency": latencies(load.actions),
        "throughput_per_s": round(
            sum(1 for a in load.actions if a.outcome == "ack")
            / max(timeline["end"] - timeline["start"], 1e-9),
            1,
        ),
        "outcomes": dict(Counter(f"{a.op}:{a.outcome}" for a in load.actions)),
        "errors": Counter(a.detail for a in load.actions if a.outcome == "error").most_common(5),
        "lost": Counter(
            f"{a.detail} ({'killed server' if a.server == killed else 'server up'})"
            for a in load.actions
            if a.outcome == "lost"
        ).most_common(5),
        "event_delay": event_delays(subscribers, timeline["start"], timeline["end"]),
        "subscriber_sessions": sum(len(s.sessions) for s in subscribers),
        "events_received": sum(len(x.events) for s in subscribers for x in s.sessions),
        "proofs": proofs,
        "ok": all(p["ok"] for p in proofs.values()) and all(settled.values()),
        "actions": load.actions,
    }


def event_delays(subscribers: list[Subscriber], start: float, end: float) -> dict[str, float]:
    """From an event's commit (occurredAt) to its arrival at a subscriber, during the load."""
    delays = sorted(
        arrived - at
        for s in subscribers
        for session in s.sessions
        for _kind, _ticket, at, arrived in session.events
        if start <= at <= end
    )
    if len(delays) < 2:
        return {}
    q = statistics.quantiles(delays, n=100)
    return {
        "count": len(delays),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(delays[-1] * 1000, 1),
    }


def latencies(actions: list[Action]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for op in sorted({a.op for a in actions}):
        times = sorted(a.seconds for a in actions if a.op == op and a.outcome == "ack")
        if not times:
            continue
        q = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
        waits = sorted(a.waited for a in actions if a.op == op and a.outcome == "ack")
        w = statistics.quantiles(waits, n=100) if len(waits) > 1 else waits * 99
        out[op] = {
            "count": len(times),
            "p50_ms": round(q[49] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(times[-1] * 1000, 1),
            "wait_p50_ms": round(w[49] * 1000, 1),
            "wait_p99_ms": round(w[98] * 1000, 1),
        }
    return out


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="half customers, half agents")
    parser.add_argument("--subscribers", type=int, default=200, help="agents on queueEvents")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--max-actions", type=int, default=200_000)
    parser.add_argument(
        "--think", type=float, default=5.0, help="mean pause between one client's actions"
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=900, help="for every subscriber to catch up"
    )
    parser.add_argument("--no-kill", dest="kill", action="store_false")
    parser.add_argument("--db", default=os.environ.get("LOAD_DB", "bench_16load"))
    parser.add_argument("--redis", default=os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379/3"))
    parser.add_argument(
        "--in-flight", type=int, default=16, help="requests open at once, over all clients"
    )
    parser.add_argument("--outbox-workers", type=int, default=2, help="all killed half way")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--log", default=str(Path(tempfile.gettempdir()) / "escalated-load-worker.log")
    )
    parser.add_argument("--actions-out", default="", help="write every action as JSON lines")
    return parser.parse_args(argv)


def main() -> None:
    args = arguments()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.load.settings"
    os.environ["LOAD_DB"] = args.db
    os.environ["LOAD_REDIS"] = args.redis
    # This run's keys in Redis (channel layer, cache) share a prefix, deleted at the end: runs
    # never see each other's, and nothing else in the database number is touched.
    os.environ["LOAD_PREFIX"] = f"load{uuid.uuid4().hex[:12]}"
    import django

    django.setup()
    result = asyncio.run(run(args))
    if args.actions_out:
        with open(args.actions_out, "w") as out:
            for action in result.pop("actions"):
                out.write(json.dumps(asdict(action)) + "\n")
    else:
        result.pop("actions")
    print(json.dumps(result, indent=2, default=str))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
