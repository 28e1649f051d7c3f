"""This version beside escalated-django 0.7.8 (from PyPI), page by page, over HTTP.

    .venv/bin/python -m bench.peers.run [--tickets 10000] [--rounds 8] [--requests 10]
        [--pages writes] [--port 8150] [--db-prefix bench_15]

What it does, in order:

1. 0.7.8 goes into its own virtual environment (bench/peers/.venv-078, made on first use, never
   committed): both versions are imported as ``escalated``.
2. Data: our database (bench_15_peer_ours) is seeded by bench/queue/seed.py (set-based SQL) plus
   one agent who works in every department (0.7.8 shows every ticket to every agent; ours shows
   an agent their departments', so this agent sees the same tickets on both sides). The 0.7.8
   database (bench_15_peer_078) is migrated by 0.7.8 and gets the same rows, ids and all, copied
   across with COPY: users, departments and their agents, tags, tickets, replies, ticket tags.
3. Each side is served by gunicorn, 4 sync workers, from a small host project
   (settings_ours.py / settings_078.py): 127.0.0.1:8150 ours, :8151 0.7.8 (``--port`` moves
   both: ours on it, 0.7.8 on the next; ``--db-prefix`` renames both databases, so two people
   can run it side by side).
4. Before any timing the rows of both sides' pages are compared field by field; a difference
   stops the run (except where the versions differ by design: those are printed, see below).
5. Rounds: each round every page is requested ``--requests`` times on one side, then on the
   other, and the side that goes first alternates; per round, p50 and the ratio ours / 0.7.8.

The pages, as each version serves them (its views, read from 0.7.8's installed source):

* agent queue: 0.7.8 ``GET /support/agent/tickets/`` as an Inertia visit (``X-Inertia``: the
  page's props as JSON), 25 tickets per page (fixed in its view), each with requester, assignee,
  department, tags, last reply time and author. Ours: the ``tickets`` GraphQL query with the
  same fields (and the latest reply's body). Compared at 25 rows (one 0.7.8 page), and at 50
  rows (ours ``first: 50`` against 0.7.8's pages 1 and 2, two requests, their times added).
* filtered queue: status, department, and a search word; ours sorted by creation as 0.7.8 is.
* ticket detail: ticket 1, 23 replies (3 seeded + 20 more), 0.7.8 ``agent/tickets/<id>/``.
* customer ticket list: 0.7.8 ``GET /support/tickets/`` (15 per page); ours ``first: 15``.
* customer creates a ticket: 0.7.8 ``POST /support/tickets/store/`` (answers with a redirect,
  which is not followed: only the POST is timed); ours ``ticketCreate``.
* agent replies: 0.7.8 ``POST /support/agent/tickets/<id>/reply/`` (redirect, not followed);
  ours ``ticketReply``. Each reply goes to another ticket (the same ones on both sides).

And the floor: the agent queue's 50 rows with the same fields as one hand-written SQL statement
returning JSON (psycopg, one open connection), timed in the same rounds.

``--pages`` keeps only the pages whose names contain one of its comma-separated words
(``--pages writes`` is shorthand for the two writes; ``--pages "queue"`` the four queue pages):
a run of the writes alone takes minutes. The floor is timed when the 50-row queue page is kept.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.queue.profile import CUSTOMER, DETAIL, QUEUE

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PEER_VENV = HERE / ".venv-078"
PEER_PACKAGES = ["escalated-django==0.7.8", "psycopg[binary]>=3.2", "gunicorn>=22"]
# main() renames the databases (--db-prefix) and moves the ports (--port) before anything runs.
OURS_DB = "bench_15_peer_ours"
PEER_DB = "bench_15_peer_078"
PORTS = {"ours": 8150, "0.7.8": 8151}
SIDES = ("ours", "0.7.8")
PEER_AGENT = "peeragent"
CSRF = "benchpeers" * 3 + "ok"  # 32 characters: a CSRF secret both Djangos accept as is
SEARCH_WORD = "printer"
WORKERS = 4


def dsn(name: str) -> str:
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    return f"host={host} port={port} user={user} dbname={name}"


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --- 1. the peer's environment ---------------------------------------------------------------


def peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        log("making", PEER_VENV)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    return python


def side_env(side: str) -> tuple[dict[str, str], Path]:
    """Environment and working directory of a side's processes."""
    env = dict(os.environ)
    if side == "ours":
        env["DJANGO_SETTINGS_MODULE"] = "bench.peers.settings_ours"
        env["BENCH_PEER_DB"] = OURS_DB
        env["PYTHONPATH"] = str(REPO)
        return env, REPO
    env["DJANGO_SETTINGS_MODULE"] = "settings_078"
    env["BENCH_PEER_DB"] = PEER_DB
    env["PYTHONPATH"] = str(HERE)
    return env, HERE


# --- 2. the data -----------------------------------------------------------------------------


def recreate(name: str) -> None:
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed_ours(tickets: int) -> None:
    """A fresh database each run, so both sides start from the same rows."""
    recreate(OURS_DB)
    env = dict(os.environ, BENCH_DB=OURS_DB)
    subprocess.run(
        [sys.executable, "-m", "bench.queue.seed", "--tickets", str(tickets)],
        check=True,
        cwd=REPO,
        env=env,
    )
    with psycopg.connect(dsn(OURS_DB)) as conn:
        conn.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, %s, 'Peer', 'Agent', 'peeragent@example.com', false, true,
                   '2026-06-01T12:00:00Z'
            WHERE NOT EXISTS (SELECT 1 FROM auth_user WHERE username = %s)
            """,
            [PEER_AGENT, PEER_AGENT],
        )
        conn.execute(
            """
            INSERT INTO escalated_department_agents (department_id, user_id)
            SELECT d.id, u.id FROM escalated_departments AS d, auth_user AS u
            WHERE u.username = %s AND NOT EXISTS (
                SELECT 1 FROM escalated_department_agents AS m
                WHERE m.department_id = d.id AND m.user_id = u.id)
            """,
            [PEER_AGENT],
        )


def copy_to_peer() -> None:
    """The same rows, ids included, into 0.7.8's tables (migrated by 0.7.8 itself)."""
    with psycopg.connect(dsn(OURS_DB)) as src, psycopg.connect(dsn(PEER_DB)) as dst:
        user_type = dst.execute(
            "SELECT id FROM django_content_type WHERE app_label = 'auth' AND model = 'user'"
        ).fetchone()[0]  # type: ignore[index]
        user_columns = (
            "id, password, last_login, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined"
        )
        copies = [
            (f"SELECT {user_columns} FROM auth_user", f"auth_user ({user_columns})"),
            (
                "SELECT id, name, slug, description, is_active, created_at, updated_at "
                "FROM escalated_departments",
                "escalated_departments (id, name, slug, description, is_active, created_at, "
                "updated_at)",
            ),
            (
                "SELECT department_id, user_id FROM escalated_department_agents",
                "escalated_departments_agents (department_id, user_id)",
            ),
            (
                "SELECT id, name, slug, color, created_at, created_at FROM escalated_tags",
                "escalated_tags (id, name, slug, color, created_at, updated_at)",
            ),
            (
                f"SELECT id, requester_id::text, {int(user_type)}, subject, description, status, "
                "priority, channel, reference, first_response_at, resolved_at, closed_at, "
                "created_at, updated_at, assignee_id, department_id, ticket_type, false, false "
                "FROM escalated_tickets",
                "escalated_tickets (id, requester_object_id, requester_content_type_id, subject, "
                "description, status, priority, channel, reference, first_response_at, "
                "resolved_at, closed_at, created_at, updated_at, assigned_to_id, department_id, "
                "ticket_type, sla_first_response_breached, sla_resolution_breached)",
            ),
            (
                "SELECT id, body, is_internal_note, CASE WHEN is_internal_note THEN 'note' "
                "ELSE 'reply' END, false, created_at, updated_at, author_id, ticket_id, is_pinned "
                "FROM escalated_replies",
                "escalated_replies (id, body, is_internal_note, type, is_deleted, created_at, "
                "updated_at, author_id, ticket_id, is_pinned)",
            ),
            (
                "SELECT ticket_id, tag_id FROM escalated_ticket_tags",
                "escalated_tickets_tags (ticket_id, tag_id)",
            ),
        ]
        for select, target in copies:
            with (
                src.cursor().copy(f"COPY ({select}) TO STDOUT") as out,
                dst.cursor().copy(f"COPY {target} FROM STDIN") as into,
            ):
                for block in out:
                    into.write(block)
        for table in (
            "auth_user",
            "escalated_departments",
            "escalated_departments_agents",
            "escalated_tags",
            "escalated_tickets",
            "escalated_replies",
            "escalated_tickets_tags",
        ):
            dst.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    for name in (OURS_DB, PEER_DB):
        with psycopg.connect(dsn(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def prepare(tickets: int, python: Path) -> None:
    started = time.perf_counter()
    seed_ours(tickets)
    recreate(PEER_DB)
    env, cwd = side_env("0.7.8")
    subprocess.run(
        [str(python), "-W", "ignore", "-m", "django", "migrate", "-v0"],
        check=True,
        cwd=cwd,
        env=env,
    )
    copy_to_peer()
    log(f"data ready in {time.perf_counter() - started:.0f} s")


def sign_in(side: str, python: Path, usernames: list[str]) -> dict[str, str]:
    env, cwd = side_env(side)
    done = subprocess.run(
        [str(python), str(HERE / "sessions.py"), *usernames],
        check=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    keys: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return keys


# --- 3. servers ------------------------------------------------------------------------------


def serve(side: str, python: Path) -> subprocess.Popen[bytes]:
    env, cwd = side_env(side)
    app = "bench.peers.wsgi:application" if side == "ours" else "wsgi:application"
    command = [
        str(python.parent / "gunicorn"),
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{PORTS[side]}",
        "--log-level",
        "warning",
        app,
    ]
    return subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)


def wait_for(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/support/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no server on port {port}")


# --- 4. requests -----------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def send(port: int, call: Call) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(call.method, call.path, body=call.body or None, headers=call.headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return time.perf_counter() - started, response.status, body


class Side:
    """One version's server and signed-in people; builds its requests for each page."""

    def __init__(self, name: str, sessions: dict[str, str]) -> None:
        self.name = name
        self.port = PORTS[name]
        self.sessions = sessions

    def cookies(self, user: str) -> dict[str, str]:
        return {
            "Cookie": f"sessionid={self.sessions[user]}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
        }

    def graphql(self, user: str, query: str, variables: dict[str, Any] | None = None) -> Call:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = {"Content-Type": "application/json", **self.cookies(user)}
        return Call("POST", "/support/graphql/", body, headers)

    def inertia(self, user: str, path: str, params: dict[str, Any] | None = None) -> Call:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        headers = {
            "X-Inertia": "true",
            "X-Inertia-Version": "1.0",
            "X-Requested-With": "XMLHttpRequest",
            "Accept": "text/html, application/xhtml+xml",
            **self.cookies(user),
        }
        return Call("GET", f"/support/{path}{query}", headers=headers)

    def inertia_post(self, user: str, path: str, data: dict[str, Any]) -> Call:
        headers = {
            "X-Inertia": "true",
            "X-Inertia-Version": "1.0",
            "X-Requested-With": "XMLHttpRequest",
            "Content-Type": "application/json",
            **self.cookies(user),
        }
        return Call("POST", f"/support/{path}", json.dumps(data).encode(), headers)


def node_id(kind: str, pk: int) -> str:
    import base64

    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


ORDERED = "tickets(first: 50, filter: $filter, order: {field: CREATED, direction: DESC})"
FILTERED_QUERY = QUEUE.replace("tickets(first: 50)", ORDERED).replace(
    "{ tickets", "query ($filter: TicketFilter) { tickets", 1
)
CREATE = """mutation ($input: TicketCreateInput!) { ticketCreate(input: $input) {
    ticket { id reference } errors { message } } }"""
REPLY = """mutation ($input: TicketReplyInput!) { ticketReply(input: $input) {
    reply { id createdAt } errors { message } } }"""


FLOOR_PAGE = "agent queue, 50 rows"
CREATE_PAGE = "customer creates a ticket"
REPLY_PAGE = "agent replies"


@dataclass
class Page:
    """A page: how to ask each side for it (a list: 0.7.8's 50 rows take two requests)."""

    name: str
    calls: Callable[[Side, int], list[Call]]
    write: bool = False


def pages(context: dict[str, Any], only: str = "") -> list[Page]:
    """Every page, or those whose names contain one of ``only``'s comma-separated words."""
    every = all_pages(context)
    words = [w.strip() for w in only.split(",") if w.strip()]
    if not words:
        return every
    if words == ["writes"]:
        return [page for page in every if page.write]
    kept = [page for page in every if any(w in page.name for w in words)]
    if not kept:
        raise SystemExit(f"--pages {only!r}: no page's name contains any of {words}")
    return kept


def all_pages(context: dict[str, Any]) -> list[Page]:
    agent, customer, creator = context["agent"], context["customer"], context["creator"]
    department, detail = context["department"], context["detail"]
    reply_tickets = context["reply_tickets"]
    filtered = {"status": "open", "department": department}
    filtered_search = {**filtered, "search": SEARCH_WORD}

    def ours_filter(search: bool) -> dict[str, Any]:
        value: dict[str, Any] = {
            "status": ["OPEN"],
            "department": node_id("Department", department),
        }
        if search:
            value["search"] = SEARCH_WORD
        return {"filter": value}

    def queue(rows: int) -> Callable[[Side, int], list[Call]]:
        def calls(side: Side, i: int) -> list[Call]:
            if side.name == "ours":
                query = QUEUE.replace("first: 50", f"first: {rows}")
                return [side.graphql(agent, query)]
            return [
                side.inertia(agent, "agent/tickets/", {"page": p}) for p in range(1, rows // 25 + 1)
            ]

        return calls

    def filtered_queue(search: bool) -> Callable[[Side, int], list[Call]]:
        def calls(side: Side, i: int) -> list[Call]:
            if side.name == "ours":
                query = FILTERED_QUERY.replace("first: 50", "first: 25")
                return [side.graphql(agent, query, ours_filter(search))]
            return [side.inertia(agent, "agent/tickets/", filtered_search if search else filtered)]

        return calls

    def ticket_detail(side: Side, i: int) -> list[Call]:
        if side.name == "ours":
            return [side.graphql(agent, DETAIL, {"id": node_id("Ticket", detail)})]
        return [side.inertia(agent, f"agent/tickets/{detail}/")]

    def customer_list(side: Side, i: int) -> list[Call]:
        if side.name == "ours":
            return [side.graphql(customer, CUSTOMER.replace("first: 50", "first: 15"))]
        return [side.inertia(customer, "tickets/")]

    def create(side: Side, i: int) -> list[Call]:
        subject, description = (
            f"Printer offline {i}",
            f"<p>The printer on floor {i} is offline.</p>",
        )
        if side.name == "ours":
            variables = {"input": {"subject": subject, "description": description}}
            return [side.graphql(creator, CREATE, variables)]
        data = {"subject": subject, "description": description, "priority": "medium"}
        return [side.inertia_post(creator, "tickets/store/", data)]

    def reply(side: Side, i: int) -> list[Call]:
        ticket = reply_tickets[i % len(reply_tickets)]
        body = f"<p>Thanks, we are looking into it ({i}).</p>"
        if side.name == "ours":
            variables = {"input": {"ticketId": node_id("Ticket", ticket), "body": body}}
            return [side.graphql(agent, REPLY, variables)]
        return [side.inertia_post(agent, f"agent/tickets/{ticket}/reply/", {"body": body})]

    return [
        Page("agent queue, 25 rows", queue(25)),
        Page("agent queue, 50 rows", queue(50)),
        Page("filtered queue (status, department)", filtered_queue(False)),
        Page(f"filtered queue (status, department, search '{SEARCH_WORD}')", filtered_queue(True)),
        Page("ticket detail, 23 replies", ticket_detail),
        Page("customer ticket list", customer_list),
        Page(CREATE_PAGE, create, write=True),
        Page(REPLY_PAGE, reply, write=True),
    ]


def fetch(side: Side, calls: list[Call]) -> tuple[float, list[Any]]:
    total, bodies = 0.0, []
    for call in calls:
        seconds, status, body = send(side.port, call)
        total += seconds
        if status >= 400 or (status >= 300 and call.method == "GET"):
            raise SystemExit(
                f"{side.name} {call.method} {call.path}: HTTP {status}: {body[:300]!r}"
            )
        if call.method == "GET" or side.name == "ours":
            result = json.loads(body)
            if side.name == "ours" and (result.get("errors") or _payload_errors(result)):
                raise SystemExit(f"ours {call.path}: {result}")
            bodies.append(result)
        else:
            bodies.append({"status": status})
    return total, bodies


def _payload_errors(result: dict[str, Any]) -> list[Any]:
    data = result.get("data") or {}
    return [
        e for value in data.values() if isinstance(value, dict) for e in value.get("errors", [])
    ]


# --- 5. comparing rows -----------------------------------------------------------------------


def when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def ours_rows(bodies: list[Any], latest: bool = True) -> list[dict[str, Any]]:
    rows = []
    for body in bodies:
        for edge in body["data"]["tickets"]["edges"]:
            node = edge["node"]
            reply = node.get("latestReply")
            row = {
                "reference": node["reference"],
                "subject": node["subject"],
                "status": node["status"].lower(),
                "priority": node["priority"].lower(),
                "created_at": when(node["createdAt"]),
                "assignee": node["assignee"] and node["assignee"]["name"],
                "department": node["department"] and node["department"]["name"],
            }
            if "requester" in node:
                row["requester"] = (node["requester"]["name"], node["requester"]["email"])
            if "tags" in node:
                row["tags"] = sorted(tag["name"] for tag in node["tags"])
            if latest:
                row["last_reply_at"] = reply and when(reply["createdAt"])
                row["last_reply_author"] = reply and reply["author"] and reply["author"]["name"]
            rows.append(row)
    return rows


def peer_rows(
    bodies: list[Any], latest: bool = True, requester: bool = True
) -> list[dict[str, Any]]:
    rows = []
    for body in bodies:
        for ticket in body["props"]["tickets"]["data"]:
            row = {
                "reference": ticket["reference"],
                "subject": ticket["subject"],
                "status": ticket["status"],
                "priority": ticket["priority"],
                "created_at": when(ticket["created_at"]),
                "assignee": ticket["assigned_to"] and ticket["assigned_to"]["name"],
                "department": ticket["department"] and ticket["department"]["name"],
            }
            if requester:
                row["requester"] = (ticket["requester"]["name"], ticket["requester"]["email"])
                row["tags"] = sorted(tag["name"] for tag in ticket["tags"])
            if latest:
                row["last_reply_at"] = when(ticket["last_reply_at"])
                row["last_reply_author"] = ticket["last_reply_author"]
            rows.append(row)
    return rows


def detail_rows(side: str, bodies: list[Any]) -> list[dict[str, Any]]:
    if side == "ours":
        ticket = bodies[0]["data"]["ticket"]
        replies = [edge["node"] for edge in ticket["replies"]["edges"]]
        head = {
            "reference": ticket["reference"],
            "subject": ticket["subject"],
            "description": ticket["description"],
            "status": ticket["status"].lower(),
            "requester": ticket["requester"]["email"],
            "assignee": ticket["assignee"] and ticket["assignee"]["name"],
            "tags": sorted(tag["name"] for tag in ticket["tags"]),
        }
        rows = [
            {
                "id": int(__import__("base64").b64decode(r["id"]).decode().split(":")[1]),
                "body": r["body"],
                "note": r["isInternalNote"],
                "at": when(r["createdAt"]),
                "author": r["author"] and r["author"]["name"],
            }
            for r in replies
        ]
    else:
        props = bodies[0]["props"]
        ticket = props["ticket"]
        head = {
            "reference": ticket["reference"],
            "subject": ticket["subject"],
            "description": ticket["description"],
            "status": ticket["status"],
            "requester": ticket["requester"]["email"],
            "assignee": ticket["assigned_to"] and ticket["assigned_to"]["name"],
            "tags": sorted(tag["name"] for tag in ticket["tags"]),
        }
        rows = [
            {
                "id": r["id"],
                "body": r["body"],
                "note": r["is_internal_note"],
                "at": when(r["created_at"]),
                "author": r["author"] and r["author"]["name"],
            }
            for r in props["replies"]
        ]
    return [head, *sorted(rows, key=lambda row: row["id"])]


def differences(ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> list[str]:
    found = []
    if len(ours) != len(peer):
        found.append(f"{len(ours)} rows on ours, {len(peer)} on 0.7.8")
    for number, (a, b) in enumerate(zip(ours, peer, strict=False)):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                found.append(f"row {number} {key}: ours {a.get(key)!r} / 0.7.8 {b.get(key)!r}")
    return found


def compare(page: Page, results: dict[str, list[Any]]) -> tuple[int, list[str]]:
    """(rows compared, differences) of a read page."""
    ours, peer = results["ours"], results["0.7.8"]
    if page.name.startswith("ticket detail"):
        a, b = detail_rows("ours", ours), detail_rows("0.7.8", peer)
        return len(a) - 1, differences(a, b)
    if page.name.startswith("customer"):
        # 0.7.8 shows a customer the time and author of the latest reply including internal
        # notes (its last_reply_at reads every reply); ours only what the customer may read.
        # Those two fields are compared on the agent pages instead.
        a = ours_rows(ours, latest=False)
        b = peer_rows(peer, latest=False, requester=False)
        return len(a), differences(a, b)
    a, b = ours_rows(ours), peer_rows(peer)
    if "search" in page.name:
        # Different by design: ours is full-text (stemmed words, reply bodies too), 0.7.8 a
        # substring of the subject, description or reference. Rows both return must agree.
        mine = {row["reference"]: row for row in a}
        theirs = {row["reference"]: row for row in b}
        shared = sorted(set(mine) & set(theirs))
        found = differences([mine[r] for r in shared], [theirs[r] for r in shared])
        log(
            f"  search '{SEARCH_WORD}': {len(a)} rows ours, {len(b)} on 0.7.8, {len(shared)} on "
            f"both (compared); only ours {sorted(set(mine) - set(theirs))[:5]}..., only 0.7.8 "
            f"{sorted(set(theirs) - set(mine))[:5]}..."
        )
        return len(shared), found
    return len(a), differences(a, b)


# --- the floor -------------------------------------------------------------------------------

FLOOR_SQL = """
SELECT json_build_object('totalCount', (SELECT count(*) FROM escalated_tickets AS c
            WHERE c.department_id = ANY(%(departments)s) OR c.department_id IS NULL
               OR c.assignee_id = %(agent)s),
       'rows', coalesce(json_agg(row_to_json(p) ORDER BY p.created_at DESC, p.id DESC), '[]'))
FROM (
    SELECT t.id, t.reference, t.subject, t.status, t.priority, t.created_at,
           json_build_object('id', r.id, 'name', trim(r.first_name || ' ' || r.last_name),
                             'email', r.email) AS requester,
           CASE WHEN a.id IS NOT NULL THEN json_build_object(
               'id', a.id, 'name', trim(a.first_name || ' ' || a.last_name)) END AS assignee,
           CASE WHEN d.id IS NOT NULL THEN json_build_object('id', d.id, 'name', d.name)
               END AS department,
           (SELECT coalesce(json_agg(json_build_object('id', g.id, 'name', g.name,
                                                       'color', g.color)), '[]')
            FROM escalated_ticket_tags AS tt JOIN escalated_tags AS g ON g.id = tt.tag_id
            WHERE tt.ticket_id = t.id) AS tags,
           (SELECT json_build_object('id', x.id, 'body', x.body, 'createdAt', x.created_at,
                   'author', json_build_object('id', u.id,
                                               'name', trim(u.first_name || ' ' || u.last_name)))
            FROM escalated_replies AS x LEFT JOIN auth_user AS u ON u.id = x.author_id
            WHERE x.ticket_id = t.id ORDER BY x.created_at DESC, x.id DESC LIMIT 1) AS latest
    FROM escalated_tickets AS t
    LEFT JOIN auth_user AS r ON r.id = t.requester_id
    LEFT JOIN auth_user AS a ON a.id = t.assignee_id
    LEFT JOIN escalated_departments AS d ON d.id = t.department_id
    WHERE t.department_id = ANY(%(departments)s) OR t.department_id IS NULL
       OR t.assignee_id = %(agent)s
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT 50
) AS p
"""


class Floor:
    def __init__(self, agent_id: int) -> None:
        self.conn = psycopg.connect(dsn(OURS_DB), autocommit=True)
        departments = [
            row[0]
            for row in self.conn.execute(
                "SELECT department_id FROM escalated_department_agents WHERE user_id = %s",
                [agent_id],
            )
        ]
        self.params = {"departments": departments, "agent": agent_id}

    def run(self) -> tuple[float, str]:
        started = time.perf_counter()
        text = self.conn.execute(f"SELECT ({FLOOR_SQL})::text", self.params).fetchone()[0]  # type: ignore[index]
        return time.perf_counter() - started, text


# --- 6. the run ------------------------------------------------------------------------------


def count_statements(
    every: list[Page], sides: dict[str, Side], pythons: dict[str, Path]
) -> dict[str, dict[str, int]]:
    """Each page's SQL statements on each side (statements.py replays its requests in-process)."""
    counted = {}
    for name, side in sides.items():
        calls = []
        for page in every:
            for call in page.calls(side, 10_000_000):
                session = call.headers["Cookie"].split("sessionid=")[1].split(";")[0]
                calls.append(
                    {
                        "page": page.name,
                        "session": session,
                        "method": call.method,
                        "path": call.path,
                        "body": call.body.decode(),
                        "headers": call.headers,
                    }
                )
        env, cwd = side_env(name)
        done = subprocess.run(
            [str(pythons[name]), "-W", "ignore", str(HERE / "statements.py")],
            input=json.dumps(calls),
            check=True,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        counted[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return counted


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def counts(side: str) -> tuple[int, int]:
    """Tickets and replies in a side's database (the writes are checked by these)."""
    with psycopg.connect(dsn(OURS_DB if side == "ours" else PEER_DB)) as conn:
        tickets = conn.execute("SELECT count(*) FROM escalated_tickets").fetchone()[0]  # type: ignore[index]
        replies = conn.execute("SELECT count(*) FROM escalated_replies").fetchone()[0]  # type: ignore[index]
    return tickets, replies


def context_for() -> dict[str, Any]:
    with psycopg.connect(dsn(OURS_DB)) as conn:
        detail, customer_id = conn.execute(
            "SELECT id, requester_id FROM escalated_tickets ORDER BY id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        customer = conn.execute(
            "SELECT username FROM auth_user WHERE id = %s", [customer_id]
        ).fetchone()[0]  # type: ignore[index]
        creator = conn.execute(
            "SELECT username FROM auth_user WHERE username LIKE 'customer%%' AND id <> %s "
            "ORDER BY id DESC LIMIT 1",
            [customer_id],
        ).fetchone()[0]  # type: ignore[index]
        department = conn.execute("SELECT min(id) FROM escalated_departments").fetchone()[0]  # type: ignore[index]
        agent_id = conn.execute(
            "SELECT id FROM auth_user WHERE username = %s", [PEER_AGENT]
        ).fetchone()[0]  # type: ignore[index]
        reply_tickets = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM escalated_tickets WHERE id > %s ORDER BY id LIMIT 500",
                [detail + 100],
            )
        ]
    return {
        "agent": PEER_AGENT,
        "agent_id": agent_id,
        "customer": customer,
        "creator": creator,
        "department": department,
        "detail": detail,
        "reply_tickets": reply_tickets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=10, help="per page, side and round")
    parser.add_argument(
        "--skip-prepare", action="store_true", help="reuse both databases as they are"
    )
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="Django's CONN_MAX_AGE on both sides (0, the default: connect for every request)",
    )
    parser.add_argument(
        "--pages",
        default="",
        help="only the pages whose names contain one of these comma-separated words "
        "('writes': the two writes)",
    )
    parser.add_argument(
        "--port", type=int, default=8150, help="ours listens on it, 0.7.8 on the next one"
    )
    parser.add_argument(
        "--db-prefix",
        default="bench_15",
        help="the databases are <prefix>_peer_ours and <prefix>_peer_078",
    )
    options = parser.parse_args()
    os.environ["BENCH_PEER_CONN_MAX_AGE"] = str(options.conn_max_age)
    global OURS_DB, PEER_DB
    OURS_DB, PEER_DB = f"{options.db_prefix}_peer_ours", f"{options.db_prefix}_peer_078"
    PORTS.update({"ours": options.port, "0.7.8": options.port + 1})

    python = peer_python()
    if not options.skip_prepare:
        prepare(options.tickets, python)
    context = context_for()
    users = [context["agent"], context["customer"], context["creator"]]
    sessions = {
        "ours": sign_in("ours", Path(sys.executable), users),
        "0.7.8": sign_in("0.7.8", python, users),
    }
    servers = {
        "ours": serve("ours", Path(sys.executable)),
        "0.7.8": serve("0.7.8", python),
    }
    try:
        for side in SIDES:
            wait_for(PORTS[side])
        sides = {name: Side(name, sessions[name]) for name in SIDES}
        report = measure(options, context, sides)
        statements = count_statements(
            pages(context, options.pages), sides, {"ours": Path(sys.executable), "0.7.8": python}
        )
    finally:
        for process in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in servers.values():
            process.wait(timeout=30)
    lines = ["| page | statements ours | statements 0.7.8 |", "|---|---:|---:|"]
    for page in statements["ours"]:
        lines.append(f"| {page} | {statements['ours'][page]} | {statements['0.7.8'][page]} |")
    print(report + "\n\n" + "\n".join(lines))


def measure(options: argparse.Namespace, context: dict[str, Any], sides: dict[str, Side]) -> str:
    every = pages(context, options.pages)
    load_start = os.getloadavg()
    counter = 0
    # Warm every worker of both servers (first requests build caches), then compare the rows.
    # Writes are warmed too (each to its own ticket), before the row counts are taken.
    for page in every:
        for _ in range(3 * WORKERS):
            for side in sides.values():
                counter += 1
                fetch(side, page.calls(side, counter if page.write else 0))
    compared: dict[str, int] = {}
    for page in every:
        if page.write:
            continue
        results = {name: fetch(side, page.calls(side, 0))[1] for name, side in sides.items()}
        rows, found = compare(page, results)
        if found:
            raise SystemExit(f"{page.name}: the sides differ:\n  " + "\n  ".join(found[:20]))
        compared[page.name] = rows
        log(f"{page.name}: {rows} rows identical on both sides")
    queue_50 = [page for page in every if page.name == FLOOR_PAGE]
    floor = Floor(context["agent_id"]) if queue_50 else None
    if floor is not None:
        floor_rows = json.loads(floor.run()[1])["rows"]
        ours_50 = ours_rows(fetch(sides["ours"], queue_50[0].calls(sides["ours"], 0))[1])
        floor_refs = [row["reference"] for row in floor_rows]
        if floor_refs != [row["reference"] for row in ours_50]:
            raise SystemExit("the floor's rows are not the queue's rows")

    times: dict[str, dict[str, list[list[float]]]] = {
        page.name: {name: [] for name in SIDES} for page in every
    }
    floor_times: list[float] = []
    loads = []
    counts_before = {name: counts(name) for name in SIDES}
    for round_number in range(options.rounds):
        order = SIDES if round_number % 2 == 0 else SIDES[::-1]
        for page in every:
            for name in order:
                side = sides[name]
                this_round = []
                for _ in range(options.requests):
                    counter += 1
                    this_round.append(fetch(side, page.calls(side, counter))[0])
                times[page.name][name].append(this_round)
        for _ in range(options.requests if floor is not None else 0):
            floor_times.append(floor.run()[0])  # type: ignore[union-attr]
        loads.append(os.getloadavg()[0])
        log(f"round {round_number + 1}/{options.rounds} done, load {loads[-1]:.1f}")
    load_end = os.getloadavg()
    writes = options.rounds * options.requests
    names = {page.name for page in every}
    expected = (
        writes if CREATE_PAGE in names else 0,
        writes if REPLY_PAGE in names else 0,
    )
    for name, before in counts_before.items():
        after = counts(name)
        made = (after[0] - before[0], after[1] - before[1])
        if made != expected:
            raise SystemExit(f"{name}: {made} tickets and replies written, expected {expected}")
    log(f"writes checked: {expected[0]} tickets and {expected[1]} replies on each side")
    if options.json:
        options.json.write_text(json.dumps({"times": times, "floor": floor_times, "loads": loads}))
    return table(every, times, floor_times, compared, options, load_start, load_end, loads)


def table(
    every: list[Page],
    times: dict[str, dict[str, list[list[float]]]],
    floor_times: list[float],
    compared: dict[str, int],
    options: argparse.Namespace,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    loads: list[float],
) -> str:
    lines = [
        f"{options.tickets:,} tickets, {options.rounds} rounds x {options.requests} requests per "
        f"page and side, gunicorn {WORKERS} sync workers each, CONN_MAX_AGE "
        f"{options.conn_max_age}; load average "
        f"{load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
        f"(per round: {', '.join(f'{x:.1f}' for x in loads)})",
        "",
        "| page | rows compared | ours p50 | ours p99 | 0.7.8 p50 | 0.7.8 p99 | ours / 0.7.8 "
        "(p50) | per round |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for page in every:
        ours = [t for batch in times[page.name]["ours"] for t in batch]
        peer = [t for batch in times[page.name]["0.7.8"] for t in batch]
        per_round = [
            statistics.median(a) / statistics.median(b)
            for a, b in zip(times[page.name]["ours"], times[page.name]["0.7.8"], strict=True)
        ]
        rows = compared.get(page.name, "write")
        lines.append(
            f"| {page.name} | {rows} | {statistics.median(ours) * 1000:.1f} ms | "
            f"{percentile(ours, 0.99) * 1000:.1f} ms | {statistics.median(peer) * 1000:.1f} ms | "
            f"{percentile(peer, 0.99) * 1000:.1f} ms | "
            f"{statistics.median(ours) / statistics.median(peer):.2f} | "
            f"{' '.join(f'{r:.2f}' for r in per_round)} |"
        )
    if not floor_times:
        return "\n".join(lines)
    queue = [t for batch in times[FLOOR_PAGE]["ours"] for t in batch]
    floor = statistics.median(floor_times)
    lines += [
        "",
        f"Floor (the 50-row queue page's data as one SQL statement returning JSON, psycopg): "
        f"p50 {floor * 1000:.2f} ms, p99 {percentile(floor_times, 0.99) * 1000:.2f} ms; "
        f"our 50-row queue page / floor: {statistics.median(queue) / floor:.1f}x.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
