"""Reports and the dashboard read the SLA clocks: compliance per metric, durations counted as
the target counts, breached tickets on the dashboard."""

from __future__ import annotations

from typing import Any

import time_machine
from django.test import override_settings

from escalated.services import reports, sla_check, tickets
from tests.conftest import World, data_of
from tests.sla.conftest import HOUR, make_policy, new_york_office, ny, targets

REPORT = """query($input: ReportInput!) { report(input: $input) {
    firstResponse { count averageSeconds } resolution { count averageSeconds }
    sla { metric measured met breached rate } } }"""


@override_settings(TIME_ZONE="America/New_York")
def test_durations_count_business_time_and_compliance_counts_clocks(
    world: World, gql: Any, frozen: time_machine.Traveller
) -> None:
    # Business-hours targets: answer within 2 working hours, resolve within 8.
    make_policy(schedule=new_york_office(), targets=targets(first=2, resolution=8, business=True))
    frozen.move_to(ny(2025, 3, 3, 16))  # Monday 16:00, an hour before closing
    quick = tickets.ticket_create(actor=world.customer, subject="Quick", department=world.billing)
    slow = tickets.ticket_create(actor=world.customer, subject="Slow", department=world.billing)
    frozen.move_to(ny(2025, 3, 4, 9, 30))  # Tuesday 09:30: 1.5 working hours later
    tickets.ticket_reply(ticket=quick, author=world.agent, body="On it")
    frozen.move_to(ny(2025, 3, 4, 12))  # Tuesday 12:00: 4 working hours after opening
    tickets.ticket_reply(ticket=slow, author=world.agent, body="Sorry for the wait")
    sla_check.sla_check()
    # Resolved 4 working hours after opening, of which it waited on the customer (a pause) from
    # the reply at 09:30: its resolution clock ran 1.5 working hours.
    tickets.ticket_resolve(ticket=quick, actor=world.agent)

    variables = {"input": {"from": "2025-03-03", "to": "2025-03-04"}}
    report = data_of(gql(REPORT, variables, user=world.admin))["report"]

    # Working seconds, not the 17.5 and 20 wall-clock hours that passed.
    assert report["firstResponse"] == {"count": 2, "averageSeconds": int(2.75 * HOUR)}
    assert report["resolution"] == {"count": 1, "averageSeconds": int(1.5 * HOUR)}
    by_metric = {row["metric"]: row for row in report["sla"]}
    assert by_metric["FIRST_RESPONSE"] == {
        "metric": "FIRST_RESPONSE",
        "measured": 2,
        "met": 1,
        "breached": 1,
        "rate": 0.5,
    }
    assert by_metric["RESOLUTION"]["met"] == 1
    assert by_metric["NEXT_RESPONSE"] == {
        "metric": "NEXT_RESPONSE",
        "measured": 0,
        "met": 0,
        "breached": 0,
        "rate": None,
    }
    # The world's ticket (created before the policy, in 2026) is outside the window.


def test_the_dashboard_counts_open_tickets_past_due(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1))
    late = tickets.ticket_create(actor=world.customer, subject="Late", department=world.billing)
    answered = tickets.ticket_create(actor=world.customer, subject="Ok", department=world.billing)
    tickets.ticket_reply(ticket=answered, author=world.agent, body="Hi")
    frozen.shift(2 * HOUR)

    dashboard = reports.agent_dashboard(actor=world.agent)

    assert dashboard.sla_breached == 1
    tickets.ticket_reply(ticket=late, author=world.agent, body="Sorry")
    assert reports.agent_dashboard(actor=world.agent).sla_breached == 1  # met late: still breached
    tickets.ticket_close(ticket=late, actor=world.agent)
    assert reports.agent_dashboard(actor=world.agent).sla_breached == 0  # closed: not open
