"""No statement of the queue pages reads a whole tickets or replies table.

On a seeded PostgreSQL helpdesk (20,000 tickets, 60,000 replies, statistics gathered with
ANALYZE, so the planner chooses as it would in production), each page's statements are run
again under EXPLAIN ANALYZE; every plan node that ran must reach tickets and replies through an
index. The statement counts are tests/test_query_counts.py's business; this is about what each
statement costs as the helpdesk grows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.queue.profile import pages
from bench.queue.seed import DETAIL_REPLIES, REPLIES_PER_TICKET, seed

pytestmark = pytest.mark.postgres

SEEDED_TICKETS = 20_000
TABLE_ROWS = {
    "escalated_tickets": SEEDED_TICKETS,
    "escalated_replies": SEEDED_TICKETS * REPLIES_PER_TICKET + DETAIL_REPLIES,
}


@pytest.fixture
def helpdesk(db: Any, on_postgres: None) -> None:
    seed(SEEDED_TICKETS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _executed_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every plan node that ran at least once (a subplan never reached costs nothing)."""
    found = []
    todo = [plan]
    while todo:
        node = todo.pop()
        if node.get("Actual Loops", 0) > 0:
            found.append(node)
        todo.extend(node.get("Plans", []))
    return found


def _whole_table_reads(sql: str, params: Any) -> list[str]:
    """The plan nodes that scan tickets or replies sequentially, or that read (returned or
    filtered out) at least half of the table's rows whatever the access path: a window over
    the whole queue read through an index is as bad as a sequential scan."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (row,) = cursor.fetchall()
    document = row[0] if isinstance(row[0], list) else json.loads(row[0])
    found = []
    for node in _executed_nodes(document[0]["Plan"]):
        table = node.get("Relation Name")
        if table not in TABLE_ROWS:
            continue
        read = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
        if node["Node Type"] == "Seq Scan" or read >= TABLE_ROWS[table] / 2:
            found.append(f"{node['Node Type']} on {table}: {read} rows")
    return found


PAGES = ["agent queue", "filtered queue", "search queue", "ticket detail", "customer list"]


def test_no_page_statement_reads_a_whole_table(helpdesk: None) -> None:
    # One seeded helpdesk for every page: seeding is most of this test's time.
    offenders: dict[str, dict[str, list[str]]] = {}
    for page, (user, query, variables) in pages().items():
        client = Client()
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/support/graphql/",
                {"query": query, "variables": variables},
                content_type="application/json",
            )
        assert "errors" not in response.json(), page
        statements = [q["sql"] for q in captured.captured_queries]
        assert len(statements) >= 5, page
        found = {sql[:160]: reads for sql in statements if (reads := _whole_table_reads(sql, None))}
        if found:
            offenders[page] = found

    assert sorted(pages()) == sorted(PAGES)
    assert offenders == {}
