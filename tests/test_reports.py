"""The admin report and the agent dashboard: numbers checked against a hand-computed fixture,
on SQLite and PostgreSQL alike, in a fixed number of SQL statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalated.access import SystemActor
from escalated.models import SatisfactionRating, Ticket
from escalated.services import reports, stats, tickets
from tests.conftest import World, data_of, gid


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in March 2024 (February for day 0 and below), UTC."""
    return datetime(2024, 3, 1, hour, minute, tzinfo=UTC) + timedelta(days=day - 1)


def _ticket(world: World, *, department: Any, priority: str, assignee: Any, **times: Any) -> Ticket:
    ticket = tickets.ticket_create(
        actor=world.admin,
        requester=world.customer,
        subject="Fixture",
        department=department,
        priority=priority,
        assignee=assignee,
    )
    Ticket.objects.filter(pk=ticket.pk).update(**times)
    return ticket


def _rate(ticket: Ticket, stars: int, when: datetime) -> None:
    rating = SatisfactionRating.objects.create(ticket=ticket, rating=stars)
    SatisfactionRating.objects.filter(pk=rating.pk).update(created_at=when)


def _fixture(world: World) -> dict[str, Ticket]:
    """Seven tickets around the window of 1-3 March 2024. Hand-computed for that window:

    created in the window: t1, t2, t3, t4, t6; resolved in it: t1, t2, t5, t6.
    first responses (created in the window): 600, 1800, 3600, 120 seconds.
    resolutions (resolved in the window): 3600, 86400, 259200, 3600 seconds.
    ratings given in the window: 5 (t1), 3 (t2), 4 (t5).
    """
    billing, sales, agent, outsider = world.billing, world.sales, world.agent, world.outsider
    made = {
        "t1": _ticket(world, department=billing, priority="high", assignee=agent, status="resolved",
                      created_at=at(1, 9), first_response_at=at(1, 9, 10), resolved_at=at(1, 10)),
        "t2": _ticket(world, department=billing, priority="medium", assignee=agent, status="closed",
                      created_at=at(1, 12), first_response_at=at(1, 12, 30), resolved_at=at(2, 12),
                      closed_at=at(2, 13)),
        "t3": _ticket(world, department=sales, priority="low", assignee=outsider,
                      status="waiting_on_customer", created_at=at(2, 8),
                      first_response_at=at(2, 9)),
        "t4": _ticket(world, department=None, priority="urgent", assignee=None, status="open",
                      created_at=at(2, 23, 30)),
        "t5": _ticket(world, department=sales, priority="medium", assignee=outsider,
                      status="resolved", created_at=at(0, 10), first_response_at=at(0, 10, 5),
                      resolved_at=at(3, 10)),
        "t6": _ticket(world, department=billing, priority="high", assignee=agent, status="resolved",
                      created_at=at(3, 6), first_response_at=at(3, 6, 2), resolved_at=at(3, 7)),
        "t7": _ticket(world, department=billing, priority="low", assignee=agent, status="resolved",
                      created_at=at(4, 1), first_response_at=at(4, 2), resolved_at=at(4, 3)),
    }  # fmt: skip
    _rate(made["t1"], 5, at(1, 11))
    _rate(made["t2"], 3, at(2, 14))
    _rate(made["t5"], 4, at(3, 11))
    _rate(made["t7"], 1, at(4, 4))
    return made


REPORT = """query($input: ReportInput!) { report(input: $input) {
    from to department { name } agent { name } created resolved
    byStatus { status count } byPriority { priority count }
    byDepartment { department { name } count }
    daily { date created resolved }
    firstResponse { count averageSeconds medianSeconds p90Seconds }
    resolution { count averageSeconds medianSeconds p90Seconds }
    satisfaction { count average breakdown { rating count } }
    agents { agent { name } solved } } }"""


def _report(gql: Any, user: Any, **extra: Any) -> dict[str, Any]:
    variables = {"input": {"from": "2024-03-01", "to": "2024-03-03", **extra}}
    return data_of(gql(REPORT, variables, user=user))["report"]


def _nonzero(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {row[key]: row["count"] for row in rows if row["count"]}


def test_the_report_matches_the_hand_computed_numbers(world: World, gql: Any) -> None:
    _fixture(world)

    report = _report(gql, world.admin)

    assert (report["from"], report["to"], report["department"], report["agent"]) == (
        "2024-03-01",
        "2024-03-03",
        None,
        None,
    )
    assert (report["created"], report["resolved"]) == (5, 4)
    assert len(report["byStatus"]) == 8 and len(report["byPriority"]) == 5
    assert _nonzero(report["byStatus"], "status") == {
        "OPEN": 1,
        "WAITING_ON_CUSTOMER": 1,
        "RESOLVED": 2,
        "CLOSED": 1,
    }
    assert _nonzero(report["byPriority"], "priority") == {
        "LOW": 1,
        "MEDIUM": 1,
        "HIGH": 2,
        "URGENT": 1,
    }
    assert report["byDepartment"] == [
        {"department": {"name": "Billing"}, "count": 3},
        {"department": None, "count": 1},
        {"department": {"name": "Sales"}, "count": 1},
    ]
    assert report["daily"] == [
        {"date": "2024-03-01", "created": 2, "resolved": 1},
        {"date": "2024-03-02", "created": 2, "resolved": 1},
        {"date": "2024-03-03", "created": 1, "resolved": 2},
    ]
    # Sorted: 120, 600, 1800, 3600. Median between the middle two; p90 at rank 2.7.
    assert report["firstResponse"] == {
        "count": 4,
        "averageSeconds": 1530,
        "medianSeconds": 1200,
        "p90Seconds": 3060,
    }
    # Sorted: 3600, 3600, 86400, 259200.
    assert report["resolution"] == {
        "count": 4,
        "averageSeconds": 88200,
        "medianSeconds": 45000,
        "p90Seconds": 207360,
    }
    assert report["satisfaction"] == {
        "count": 3,
        "average": 4.0,
        "breakdown": [
            {"rating": 1, "count": 0},
            {"rating": 2, "count": 0},
            {"rating": 3, "count": 1},
            {"rating": 4, "count": 1},
            {"rating": 5, "count": 1},
        ],
    }
    assert report["agents"] == [
        {"agent": {"name": "Alan Agent"}, "solved": 3},
        {"agent": {"name": "Olga Outsider"}, "solved": 1},
    ]


def test_the_report_narrows_to_a_department(world: World, gql: Any) -> None:
    _fixture(world)

    report = _report(gql, world.admin, departmentId=gid(world.billing))

    assert report["department"] == {"name": "Billing"}
    assert (report["created"], report["resolved"]) == (3, 3)
    assert report["byDepartment"] == [{"department": {"name": "Billing"}, "count": 3}]
    # 120, 600, 1800: p90 at rank 1.8, 600 + 0.8 * 1200.
    assert report["firstResponse"] == {
        "count": 3,
        "averageSeconds": 840,
        "medianSeconds": 600,
        "p90Seconds": 1560,
    }
    assert report["satisfaction"]["count"] == 2 and report["satisfaction"]["average"] == 4.0
    assert report["agents"] == [{"agent": {"name": "Alan Agent"}, "solved": 3}]


def test_the_report_narrows_to_an_agent(world: World, gql: Any) -> None:
    _fixture(world)

    report = _report(gql, world.admin, agentId=gid(world.outsider))

    assert report["agent"] == {"name": "Olga Outsider"}
    assert (report["created"], report["resolved"]) == (1, 1)
    assert report["firstResponse"]["medianSeconds"] == 3600
    assert report["resolution"] == {
        "count": 1,
        "averageSeconds": 259200,
        "medianSeconds": 259200,
        "p90Seconds": 259200,
    }
    assert report["satisfaction"]["breakdown"][3] == {"rating": 4, "count": 1}


def test_an_empty_window_has_zeros_and_no_durations(world: World, gql: Any) -> None:
    variables = {"input": {"from": "2001-01-01", "to": "2001-01-02"}}

    report = data_of(gql(REPORT, variables, user=world.admin))["report"]

    assert report["created"] == 0 and report["daily"][1] == {
        "date": "2001-01-02",
        "created": 0,
        "resolved": 0,
    }
    assert report["firstResponse"] == {
        "count": 0,
        "averageSeconds": None,
        "medianSeconds": None,
        "p90Seconds": None,
    }
    assert report["satisfaction"]["average"] is None


def test_days_are_the_helpdesks_days(world: World) -> None:
    _fixture(world)

    with timezone.override("America/New_York"):
        report = reports.report_build(actor=world.admin, start=at(1, 0).date(), end=at(3, 0).date())

    # In New York t4 (23:30 UTC on the 2nd) is still on the 2nd, t6 (06:00 UTC on the 3rd) is on
    # the 3rd at 01:00, and t7 (created 01:00 and resolved 03:00 UTC on the 4th) falls on the
    # evening of the 3rd.
    assert [(d.created, d.resolved) for d in report.daily] == [(2, 1), (2, 1), (2, 3)]


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"from": "2024-03-02", "to": "2024-03-01"}, "to"),
        ({"from": "2023-01-01", "to": "2024-03-01"}, "to"),
    ],
)
def test_a_bad_window_is_refused(
    world: World, gql: Any, window: dict[str, str], field: str
) -> None:
    result = gql(REPORT, {"input": window}, user=world.admin)

    assert result["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def _statements(gql: Any, user: Any, query: str, variables: dict[str, Any]) -> int:
    gql.client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(
            gql.url, {"query": query, "variables": variables}, content_type="application/json"
        )
    data_of(response.json())
    return len(queries)


def test_the_report_costs_the_same_however_many_tickets(world: World, gql: Any) -> None:
    variables = {"input": {"from": "2024-03-01", "to": "2024-03-03"}}
    _fixture(world)
    small = _statements(gql, world.admin, REPORT, variables)
    for _ in range(4):
        _fixture(world)

    large = _statements(gql, world.admin, REPORT, variables)

    # Session, user and the admin's role permissions (one statement); then: the status/priority/department
    # groups, the departments' names, created per day, resolved per day, the two duration
    # summaries, the ratings, the solved counts, the agents' names and the SLA compliance.
    assert small == large == 3 + 10


# --- percentiles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        ([42], (1, 42, 42, 42)),
        ([10, 20], (2, 15, 15, 19)),
        ([5, 1, 4, 2, 3], (5, 3, 3, 5)),
        ([0, 0, 0, 1000], (4, 250, 0, 700)),
    ],
)
def test_percentiles_interpolate_like_percentile_cont(
    world: World, seconds: list[int], expected: tuple[int, ...]
) -> None:
    start = at(1, 0)
    for n, value in enumerate(seconds):
        _ticket(world, department=None, priority="low", assignee=None,
                created_at=start + timedelta(minutes=n),
                first_response_at=start + timedelta(minutes=n, seconds=value))  # fmt: skip
    measured = Ticket.objects.filter(created_at__lt=at(2, 0))

    summary = stats.summarise(measured, stats.Seconds(F("first_response_at"), F("created_at")))

    assert (summary.count, summary.average, summary.median, summary.p90) == expected


# --- the agent dashboard ------------------------------------------------------------------------

DASHBOARD = """{ agentDashboard {
    open mine unassigned slaBreached resolvedToday mineResolvedToday } }"""


def test_the_dashboard_counts_what_the_viewer_can_see(world: World, gql: Any) -> None:
    mine = tickets.ticket_create(
        actor=world.agent, requester=world.customer, subject="Mine", department=world.billing,
        assignee=world.agent,
    )  # fmt: skip
    done = tickets.ticket_create(
        actor=world.agent, requester=world.customer, subject="Done", department=world.billing,
        assignee=world.agent,
    )  # fmt: skip
    tickets.ticket_resolve(ticket=done, actor=world.agent)
    yesterday = tickets.ticket_create(actor=world.customer, subject="Old", department=world.billing)
    tickets.ticket_resolve(ticket=yesterday, actor=world.agent)
    Ticket.objects.filter(pk=yesterday.pk).update(resolved_at=timezone.now() - timedelta(days=1))
    tickets.ticket_create(actor=world.customer, subject="Sales", department=world.sales)
    assert mine.is_open

    as_agent = data_of(gql(DASHBOARD, user=world.agent))["agentDashboard"]
    as_admin = data_of(gql(DASHBOARD, user=world.admin))["agentDashboard"]

    assert as_agent == {
        "open": 2,
        "mine": 1,
        "unassigned": 1,
        "slaBreached": 0,  # no SLA policy here: see tests/sla/test_reports.py
        "resolvedToday": 1,
        "mineResolvedToday": 1,
    }
    assert as_admin == {
        "open": 3,
        "mine": 0,
        "unassigned": 2,
        "slaBreached": 0,
        "resolvedToday": 1,
        "mineResolvedToday": 0,
    }


def test_the_dashboard_is_one_query(world: World, gql: Any) -> None:
    # Session, user, the agent's departments (the role), then the counts themselves.
    assert _statements(gql, world.agent, DASHBOARD, {}) == 4


def test_a_rule_has_no_tickets_of_its_own(world: World) -> None:
    counts = reports.agent_dashboard(actor=SystemActor("rule:Nightly"))

    assert (counts.open, counts.unassigned, counts.mine) == (1, 1, 0)
