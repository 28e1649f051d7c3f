"""Where one page request's time goes: the agent queue (50 rows with requester, assignee,
department, tags and latest reply; also filtered by status, department and search words, and
searched alone), a ticket's detail with its twenty replies, and a customer's
ticket list, each posted to /support/graphql/ through Django's test client (the real view,
session and middleware), on a seeded PostgreSQL database.

    .venv/bin/python -m bench.queue.profile --tickets 10000 [--rounds 30] [--profile 20]

Prints, per page: SQL statements, p50/p10/p90 wall time over interleaved rounds (the pages take
turns, so a burst of load on the shared machine hits all of them), the time spent inside SQL
(timed around each statement), then a profile of ``--profile`` requests: self time grouped by
package, and the functions with the most self time.

The default profiler is pyinstrument (a sampling profiler, ``pip install pyinstrument``): cProfile
charges its own per-call overhead to functions that make many cheap calls, which misleads here
(it put 34 ms per queue request in strawberry's ``get_arguments``; timed directly, 2.4 ms).
``--profiler cprofile`` gives exact call counts instead; ``--dump DIR`` keeps the raw output
(.prof for pstats/snakeviz, .html for pyinstrument).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.queue.seed import prepare

QUEUE = """{ tickets(first: 50) { totalCount edges { node {
    id reference subject status priority createdAt
    requester { id name email }
    assignee { id name }
    department { id name }
    tags { id name color }
    latestReply { id body createdAt author { id name } }
} } } }"""

DETAIL = """query ($id: ID!) { ticket(id: $id) {
    id reference subject description status priority createdAt
    requester { id name email } assignee { id name } department { id name }
    tags { id name color }
    replies(first: 50) { totalCount edges { node {
        id body isInternalNote createdAt author { id name } } } }
} }"""

# The same page through the queue's filter: status, department and a search term. Two words, so
# a ticket must have both (about 1% of tickets and replies hold both of these).
FILTERED = QUEUE.replace("tickets(first: 50)", "tickets(first: 50, filter: $filter)").replace(
    "{ tickets", "query ($filter: TicketFilter) { tickets", 1
)
SEARCH_WORDS = "printer timeout"

CUSTOMER = """{ tickets(first: 50) { totalCount edges { node {
    id reference subject status priority createdAt
    assignee { id name }
    department { id name }
    latestReply { id body createdAt author { id name } }
} } } }"""


class SqlClock:
    """Counts statements and adds up the time spent in them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any
    ) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            self.seconds += time.perf_counter() - started


def pages() -> dict[str, tuple[Any, str, dict[str, Any]]]:
    """Each page: who asks, the operation and its variables."""
    from django.contrib.auth import get_user_model
    from strawberry import relay

    from escalated.models import Department, Ticket

    detail = Ticket.objects.order_by("id").first()
    assert detail is not None
    agent = get_user_model().objects.get(pk=detail.assignee_id)  # works the ticket's department
    queue_agent = Department.objects.order_by("id").first().agents.order_by("id").first()  # type: ignore[union-attr]
    customer = get_user_model().objects.get(pk=detail.requester_id)
    department = relay.to_base64("Department", queue_agent.escalated_departments.get().pk)  # type: ignore[attr-defined]
    filtered = {
        "status": ["OPEN", "IN_PROGRESS", "WAITING_ON_AGENT"],
        "department": department,
        "search": SEARCH_WORDS,
    }
    return {
        "agent queue": (queue_agent, QUEUE, {}),
        "filtered queue": (queue_agent, FILTERED, {"filter": filtered}),
        "search queue": (queue_agent, FILTERED, {"filter": {"search": SEARCH_WORDS}}),
        "ticket detail": (agent, DETAIL, {"id": relay.to_base64("Ticket", detail.pk)}),
        "customer list": (customer, CUSTOMER, {}),
    }


def request(client: Any, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = {"query": query, "variables": variables}
    response = client.post("/support/graphql/", body, content_type="application/json")
    result: dict[str, Any] = response.json()
    assert "errors" not in result, result
    return result


def clients() -> dict[str, tuple[Any, str, dict[str, Any]]]:
    from django.test import Client

    made = {}
    for name, (user, query, variables) in pages().items():
        client = Client()
        client.force_login(user)
        made[name] = (client, query, variables)
    return made


def rows(result: dict[str, Any]) -> int:
    data = result["data"]
    if "ticket" in data:
        return len(data["ticket"]["replies"]["edges"])
    return len(data["tickets"]["edges"])


def timed_rounds(
    each: dict[str, tuple[Any, str, dict[str, Any]]], rounds: int
) -> dict[str, dict[str, Any]]:
    from django.db import connection

    walls: dict[str, list[float]] = defaultdict(list)
    sql: dict[str, list[float]] = defaultdict(list)
    found: dict[str, dict[str, Any]] = {}
    for name, (client, query, variables) in each.items():  # warm: parser cache, first connection
        result = request(client, query, variables)
        clock = SqlClock()
        with connection.execute_wrapper(clock):
            request(client, query, variables)
        found[name] = {"rows": rows(result), "statements": clock.count}
    for _ in range(rounds):
        for name, (client, query, variables) in each.items():
            clock = SqlClock()
            with connection.execute_wrapper(clock):
                started = time.perf_counter()
                request(client, query, variables)
                walls[name].append(time.perf_counter() - started)
            sql[name].append(clock.seconds)
    for name, times in walls.items():
        deciles = statistics.quantiles(times, n=10)
        found[name].update(
            p50_ms=round(statistics.median(times) * 1000, 1),
            p10_ms=round(deciles[0] * 1000, 1),
            p90_ms=round(deciles[-1] * 1000, 1),
            sql_p50_ms=round(statistics.median(sql[name]) * 1000, 1),
        )
    return found


PACKAGES = (
    "strawberry_django",
    "strawberry",
    "graphql",
    "django/db",
    "django",
    "psycopg",
    "escalated",
    "json",
)


def package_of(filename: str) -> str:
    for name in PACKAGES:
        if f"/{name}/" in filename:
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "other"


def profiled(client: Any, query: str, variables: dict[str, Any], count: int) -> pstats.Stats:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(count):
        request(client, query, variables)
    profile.disable()
    return pstats.Stats(profile)


def by_package(stats: pstats.Stats) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, self_time, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[package_of(filename)] += self_time
    whole = sum(totals.values()) or 1.0
    return {k: round(100 * v / whole, 1) for k, v in sorted(totals.items(), key=lambda i: -i[1])}


def top(stats: pstats.Stats, count: int, per: int) -> list[str]:
    """The functions with the most self time, per request."""
    items = sorted(stats.stats.items(), key=lambda i: -i[1][2])[:count]  # type: ignore[attr-defined]
    lines = []
    for (filename, line, name), (calls, _, self_time, cumulative, _) in items:
        where = filename.split("site-packages/")[-1].split("/wt-15/")[-1]
        lines.append(
            f"{self_time / per * 1000:7.2f} ms self {cumulative / per * 1000:8.2f} ms cum "
            f"{calls // per:6d} calls/req  {where}:{line} {name}"
        )
    return lines


def sampled(client: Any, query: str, variables: dict[str, Any], count: int) -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(count):
        request(client, query, variables)
    profiler.stop()
    return profiler


def sampled_self_times(profiler: Any) -> list[tuple[Any, float]]:
    """Each real frame with its own time: its time less its real children's (a frame's
    synthetic "[self]" child is time spent in the frame itself)."""
    found, todo = [], [profiler.last_session.root_frame()]
    while todo:
        frame = todo.pop()
        if frame is None or frame.is_synthetic:
            continue
        real = [child for child in frame.children if not child.is_synthetic]
        found.append((frame, frame.time - sum(child.time for child in real)))
        todo.extend(real)
    return found


def sampled_by_package(profiler: Any) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for frame, own in sampled_self_times(profiler):
        totals[package_of(frame.file_path or "<builtin>")] += own
    whole = sum(totals.values()) or 1.0
    return {k: round(100 * v / whole, 1) for k, v in sorted(totals.items(), key=lambda i: -i[1])}


def sampled_top(profiler: Any, count: int, per: int) -> list[str]:
    """Self time per function (summed over every place it was called from), per request."""
    totals: dict[tuple[str, int, str], float] = defaultdict(float)
    for frame, own in sampled_self_times(profiler):
        where = (frame.file_path or "<builtin>").split("site-packages/")[-1]
        totals[(where.split("/wt-15/")[-1], frame.line_no or 0, frame.function)] += own
    items = sorted(totals.items(), key=lambda i: -i[1])[:count]
    return [f"{t / per * 1000:7.2f} ms self  {w}:{line} {name}" for (w, line, name), t in items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", type=int, default=20, help="requests per page profiled")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--profiler", choices=["pyinstrument", "cprofile"], default="pyinstrument")
    parser.add_argument("--dump", type=Path, help="directory for the raw profiles")
    parser.add_argument("--json", action="store_true", help="one JSON line, no profile")
    args = parser.parse_args()
    database = prepare(args.tickets)
    each = clients()
    found = timed_rounds(each, args.rounds)
    if args.json:
        print(json.dumps({"tickets": args.tickets, "database": database, "pages": found}))
        return
    print(f"database {database}, {args.tickets} tickets, load {os.getloadavg()}")
    for name, numbers in found.items():
        print(f"{name}: {numbers}")
    if not args.profile:
        return
    for name, (client, query, variables) in each.items():
        if args.profiler == "pyinstrument":
            profiler = sampled(client, query, variables, args.profile)
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                (args.dump / f"{name.replace(' ', '_')}.html").write_text(profiler.output_html())
            print(f"\n== {name}: self time by package (% of sampled time)")
            print(sampled_by_package(profiler))
            print(f"-- top {args.top} functions by self time, per request")
            print("\n".join(sampled_top(profiler, args.top, args.profile)))
            continue
        stats = profiled(client, query, variables, args.profile)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            stats.dump_stats(args.dump / f"{name.replace(' ', '_')}.prof")
        print(f"\n== {name}: self time by package (% of profiled time)")
        print(by_package(stats))
        print(f"-- top {args.top} functions by self time, per request")
        print("\n".join(top(stats, args.top, args.profile)))


if __name__ == "__main__":
    main()
