"""A seeded helpdesk for the queue benchmarks, written with set-based SQL so 100,000 tickets take
seconds, not the services' minutes. The shape is fixed by the ticket count alone, so two runs
(or two versions) at the same size see the same rows.

    BENCH_DB=bench_15_q10k .venv/bin/python -m bench.queue.seed --tickets 10000

Per ticket: three replies (an agent's answer, the requester's follow-up, an internal note),
two tags, a department (one of four), an assignee for four in five; one customer per ten
tickets. Ticket 1 gets twenty more replies, for the detail page. Every text is made of words
from :data:`WORDS`, so full-text search has something to find.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from typing import Any

import psycopg

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

AGENTS = 20
DEPARTMENTS = 4
TAGS = 10
REPLIES_PER_TICKET = 3
DETAIL_REPLIES = 20
# Every subject, description and reply is made of these words (picked by a formula of the row's
# number), so a search for one of them matches a few percent of the tickets.
VOCABULARY = (
    "invoice refund charge payment card login password account email export report "
    "dashboard upload download attachment printer network timeout error crash slow "
    "billing subscription renewal cancel upgrade downgrade license seat api token webhook "
    "integration calendar sync mobile android iphone browser chrome firefox safari cache "
    "cookie session locale timezone currency tax receipt shipping delivery tracking "
    "warehouse inventory barcode scanner label discount coupon voucher gift loyalty points "
    "backup restore migration database server outage latency certificate domain dns "
    "firewall proxy vpn password reset twofactor verification sms notification alert "
    "escalation priority deadline contract renewal quote proposal onboarding training "
    "manual guide tutorial feedback survey rating complaint praise feature request bug "
    "regression release version patch hotfix rollback deploy pipeline build failure "
    "zebra quasar nebula"
)
WORDS = tuple(VOCABULARY.split())


def admin_dsn() -> str:
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    return f"host={host} port={port} user={user} dbname=postgres"


def ensure_database(name: str) -> bool:
    """Create the database if it is missing; True when it was created."""
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found:
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
        return True


def _text(seed: str, words: int) -> str:
    """SQL for a phrase of ``words`` vocabulary words chosen by the integer expression ``seed``."""
    parts = [f"w[1 + (({seed}) * {7 + 13 * i} + {i * 31}) %% cardinality(w)]" for i in range(words)]
    return " || ' ' || ".join(parts)


def seed(tickets: int) -> dict[str, Any]:
    """Fill an empty, migrated database (Django must be set up); return what was made."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from escalated.models import Counter, Department, Tag

    user_model = get_user_model()
    started = time.perf_counter()
    departments = [
        Department.objects.create(name=f"Department {d}", slug=f"dept-{d}")
        for d in range(DEPARTMENTS)
    ]
    agents = []
    for a in range(AGENTS):
        agent = user_model.objects.create_user(
            f"agent{a}", email=f"agent{a}@example.com", first_name="Agent", last_name=str(a)
        )
        departments[a % DEPARTMENTS].agents.add(agent)
        agents.append(agent)
    user_model.objects.create_superuser("admin", "admin@example.com", "admin")
    for t in range(TAGS):
        Tag.objects.create(name=f"Tag {t}", slug=f"tag-{t}", color="#2563EB")
    customers = max(100, tickets // 10)
    statuses = ["open", "in_progress", "waiting_on_customer", "waiting_on_agent", "resolved"]
    priorities = ["low", "medium", "high", "urgent", "critical"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, 'customer' || n, 'Customer', n::text,
                   'customer' || n || '@example.com', false, true, now()
            FROM generate_series(0, %s - 1) AS n
            """,
            [customers],
        )
        cursor.execute("SELECT min(id) FROM auth_user WHERE username LIKE 'customer%%'")
        first_customer = cursor.fetchone()[0]
        first_agent = agents[0].pk
        first_department = departments[0].pk
        cursor.execute("SELECT min(id) FROM escalated_tags")
        first_tag = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO escalated_tickets (reference, subject, description, status, priority,
                ticket_type, channel, created_at, updated_at, public_activity_at,
                site_reference, first_response_at, assignee_id, department_id, requester_id)
            SELECT 'ESC-' || lpad(n::text, 6, '0'), {_text("n", 4)}, {_text("n + 7", 20)},
                   (%(statuses)s::text[])[1 + n %% 5], (%(priorities)s::text[])[1 + (n / 5) %% 5],
                   'question', 'web',
                   %(now)s - n * interval '1 minute', %(now)s - n * interval '1 minute',
                   %(now)s - n * interval '1 minute', '',
                   %(now)s - n * interval '1 minute' + interval '5 minutes',
                   CASE WHEN n %% 5 = 4 THEN NULL ELSE %(agent)s + n %% {AGENTS} END,
                   %(department)s + n %% {DEPARTMENTS},
                   %(customer)s + n %% %(customers)s
            FROM (SELECT n, %(words)s::text[] AS w FROM generate_series(1, %(tickets)s) AS n) AS g
            """,
            {
                "statuses": statuses,
                "priorities": priorities,
                "now": NOW,
                "agent": first_agent,
                "department": first_department,
                "customer": first_customer,
                "customers": customers,
                "words": list(WORDS),
                "tickets": tickets,
            },
        )
        cursor.execute("SELECT min(id) FROM escalated_tickets")
        first_ticket = cursor.fetchone()[0]
        # r = 0: the agent's answer; 1: the requester's follow-up; 2: an internal note.
        cursor.execute(
            f"""
            INSERT INTO escalated_replies (ticket_id, author_id, author_label, body,
                is_internal_note, is_pinned, from_agent, created_at, updated_at)
            SELECT t.id,
                   CASE WHEN r = 1 THEN t.requester_id ELSE t.assignee_id END, '',
                   '<p>' || {_text("t.id * 3 + r", 12)} || '</p>',
                   r = 2, false, r <> 1,
                   t.created_at + (r + 1) * interval '10 minutes',
                   t.created_at + (r + 1) * interval '10 minutes'
            FROM escalated_tickets AS t, generate_series(0, {REPLIES_PER_TICKET - 1}) AS r,
                 (SELECT %(words)s::text[] AS w) AS v
            """,
            {"words": list(WORDS)},
        )
        cursor.execute(
            f"""
            INSERT INTO escalated_replies (ticket_id, author_id, author_label, body,
                is_internal_note, is_pinned, from_agent, created_at, updated_at)
            SELECT t.id, t.assignee_id, '', '<p>Follow-up ' || r || '</p>', r %% 4 = 3, false,
                   true, t.created_at + (r + 10) * interval '10 minutes',
                   t.created_at + (r + 10) * interval '10 minutes'
            FROM escalated_tickets AS t, generate_series(1, {DETAIL_REPLIES}) AS r
            WHERE t.id = %s
            """,
            [first_ticket],
        )
        cursor.execute(
            f"""
            INSERT INTO escalated_ticket_tags (ticket_id, tag_id)
            SELECT id, %(tag)s + (id + k * 3) %% {TAGS}
            FROM escalated_tickets, generate_series(0, 1) AS k
            """,
            {"tag": first_tag},
        )
    Counter.objects.update_or_create(name="ticket_reference", defaults={"value": tickets})
    return {
        "tickets": tickets,
        "replies": tickets * REPLIES_PER_TICKET + DETAIL_REPLIES,
        "customers": customers,
        "seconds": round(time.perf_counter() - started, 1),
    }


def prepare(tickets: int) -> str:
    """Set Django up on ``BENCH_DB`` (default: bench_escalated_queue_<tickets>), creating,
    migrating and seeding it the first time; the database's name."""
    name = os.environ.setdefault("BENCH_DB", f"bench_escalated_queue_{tickets}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.queue.settings")
    created = ensure_database(name)
    import django
    from django.core.management import call_command
    from django.db import connection, transaction

    django.setup()
    from escalated.models import Ticket

    call_command("migrate", verbosity=0)
    if created or not Ticket.objects.exists():
        with transaction.atomic():
            made = seed(tickets)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print("seeded", made, flush=True)
    return name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    print(prepare(parser.parse_args().tickets))
