"""The two writes of bench/peers/run.py in-process: each statement, then CPU and wall time.

    BENCH_PEER_DB=bench_15w_peer_ours DJANGO_SETTINGS_MODULE=bench.peers.settings_ours \\
        .venv/bin/python -m bench.peers.writes [--requests 40] [--profile create|reply]

Runs on a database run.py prepared (our side's, seeded, with its all-departments agent), with
the host project run.py serves (bench/peers/settings_ours.py: default settings, so delivery is
"immediate": the background sender thread). Each request goes through Django's test client
(the real view, session and middleware) as ``ticketCreate`` by a customer and ``ticketReply``
by the agent, each reply to another ticket, as run.py sends them.

Prints every statement of one request of each (with the line of our code that sent it), then
the p50 wall time and mean CPU time (``time.process_time``: the process's own work, all
threads) over ``--requests``. ``--profile`` adds a pyinstrument profile of that write.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import traceback
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.settings_ours")


def origin() -> str:
    """The innermost frame of our package that led to a statement."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        if "/escalated/" in frame.filename and "/site-packages/" not in frame.filename:
            return f"{frame.filename.split('/escalated/', 1)[1]}:{frame.lineno} {frame.name}"
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", choices=("create", "reply"))
    parser.add_argument(
        "--reconnect",
        action="store_true",
        help="a new database connection for every request, as the server's CONN_MAX_AGE 0 does",
    )
    options = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.peers.run import CREATE, PEER_AGENT, REPLY, node_id
    from escalated.models import Ticket
    from escalated.services.outbox import background

    users = get_user_model().objects
    first = Ticket.objects.order_by("id").first()
    assert first is not None
    creator = (
        users.filter(username__startswith="customer")
        .exclude(pk=first.requester_id)
        .order_by("-id")
        .first()
    )
    agent = users.get(username=PEER_AGENT)
    reply_tickets = list(
        Ticket.objects.filter(pk__gt=first.pk + 100)
        .order_by("id")
        .values_list("pk", flat=True)[500:1000]
    )  # not the ones run.py replies to
    clients = {"create": Client(), "reply": Client()}
    clients["create"].force_login(creator)
    clients["reply"].force_login(agent)
    counter = iter(range(10_000_000))

    def create() -> None:
        i = next(counter)
        variables = {
            "input": {
                "subject": f"Printer offline {i}",
                "description": f"<p>The printer on floor {i} is offline.</p>",
            }
        }
        send(clients["create"], CREATE, variables)

    def reply() -> None:
        i = next(counter)
        ticket = reply_tickets[i % len(reply_tickets)]
        body = f"<p>Thanks, we are looking into it ({i}).</p>"
        variables = {"input": {"ticketId": node_id("Ticket", ticket), "body": body}}
        send(clients["reply"], REPLY, variables)

    def send(client: Any, query: str, variables: dict[str, Any]) -> None:
        response = client.post(
            "/support/graphql/", {"query": query, "variables": variables}, "application/json"
        )
        result = response.json()
        if options.reconnect:
            connection.close()
        data = next(iter(result.get("data", {}).values()), None) or {}
        assert "errors" not in result, result
        assert not data.get("errors"), result

    writes: dict[str, Callable[[], None]] = {"create": create, "reply": reply}
    for name, write in writes.items():
        for _ in range(5):
            write()
        background.wait(30)
        seen: list[tuple[str, str]] = []

        def listing(execute, sql, params, many, ctx, seen=seen):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return execute(sql, params, many, ctx)
            finally:
                took = (time.perf_counter() - started) * 1000
                seen.append((f"{took:5.1f} ms {origin()}", sql))

        with connection.execute_wrapper(listing):
            write()
        background.wait(30)
        print(f"\n{name}: {len(seen)} statements in the request")
        for where, sql in seen:
            print(f"  {where:64} {sql[:110]}")
    for name, write in writes.items():
        walls = []
        cpu = time.process_time()
        for _ in range(options.requests):
            started = time.perf_counter()
            write()
            walls.append(time.perf_counter() - started)
        background.wait(30)
        cpu = time.process_time() - cpu
        print(
            f"{name}: wall p50 {statistics.median(walls) * 1000:.1f} ms, cpu "
            f"{cpu / options.requests * 1000:.1f} ms per request (sender thread included), "
            f"load {os.getloadavg()[0]:.1f}"
        )
    if options.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(options.requests):
            writes[options.profile]()
        background.wait(30)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
