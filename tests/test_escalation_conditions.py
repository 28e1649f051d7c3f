"""Every condition field with every operator it takes, compiled to SQL and run on a real database.

Four tickets differ in every field; each case names the open tickets a one-condition rule
matches. The closed ticket matches no case: rules only ever look at open tickets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from escalated.access import SystemActor
from escalated.models import Department, Reply, SlaClock, Tag, Ticket
from escalated.services import tickets
from escalated.services.escalation.conditions import FIELDS
from escalated.services.escalation.evaluation import escalation_rule_preview
from tests.conftest import make_user

ACTOR = SystemActor("test")


@dataclass
class Cast:
    billing: Department
    sales: Department
    urgent: Tag
    vip: Tag
    agent: Any
    lead: Any
    by_name: dict[str, Ticket]


def _ticket(name: str, *, hours_old: float, **fields: Any) -> Ticket:
    ticket = tickets.ticket_create(actor=ACTOR, subject=name, **fields)
    moment = timezone.now() - timedelta(hours=hours_old)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=moment, updated_at=moment)
    return ticket


def _set(ticket: Ticket, **columns: Any) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(**columns)


@pytest.fixture
def cast(db: None) -> Cast:
    billing = Department.objects.create(name="Billing", slug="billing")
    sales = Department.objects.create(name="Sales", slug="sales")
    agent, lead = make_user("alan"), make_user("lena")
    billing.agents.add(agent, lead)
    sales.agents.add(lead)
    urgent = Tag.objects.create(name="Urgent", slug="urgent")
    vip = Tag.objects.create(name="VIP", slug="vip")
    customer = make_user("cora")
    now = timezone.now()

    # Quiet: opened 50 hours ago, never answered, untouched since; the customer waits.
    quiet = _ticket("quiet", hours_old=50, priority="low", department=billing, requester=customer)
    _set(quiet, last_customer_message_at=now - timedelta(hours=50))

    # Busy: answered, assigned, tagged; the customer's last message has been replied to.
    busy = _ticket(
        "busy",
        hours_old=10,
        priority="high",
        ticket_type="problem",
        channel="email",
        department=sales,
        requester=customer,
        assignee=lead,
        tags=[urgent],
    )
    Reply.objects.create(ticket=busy, author=lead, body="On it")
    _set(
        busy,
        status="in_progress",
        first_response_at=now - timedelta(hours=9),
        last_customer_message_at=now - timedelta(hours=5),
        updated_at=now - timedelta(hours=1),
    )

    # Hot: urgent, in no department, unanswered; the customer wrote an hour ago.
    hot = _ticket(
        "hot",
        hours_old=2,
        priority="urgent",
        ticket_type="incident",
        channel="phone",
        requester=customer,
        assignee=agent,
        tags=[urgent, vip],
    )
    _set(hot, status="waiting_on_agent", last_customer_message_at=now - timedelta(hours=1))

    # Done: closed; no condition ever reaches it.
    done = _ticket("done", hours_old=100, priority="critical", department=billing)
    _set(done, status="closed", resolved_at=now, closed_at=now)

    # SLA clocks: quiet's first response ran out two hours ago; busy answered in time and has
    # five hours left to resolve; hot has an hour left, and check_sla has warned of it. The
    # closed ticket's breach never counts. Hot was opened by a guest (no account).
    _clock(quiet, "first_response", due=now - timedelta(hours=2), breached=True)
    _clock(busy, "first_response", due=now + timedelta(hours=1), met=now - timedelta(hours=9))
    _clock(busy, "resolution", due=now + timedelta(hours=5))
    _clock(hot, "first_response", due=now + timedelta(hours=1), warned=now)
    _clock(done, "first_response", due=now - timedelta(hours=90), breached=True)
    _set(hot, requester=None)

    by_name = {t.subject: t for t in Ticket.objects.all()}
    return Cast(billing, sales, urgent, vip, agent, lead, by_name)


def _clock(
    ticket: Ticket,
    metric: str,
    *,
    due: Any,
    met: Any = None,
    breached: bool = False,
    warned: Any = None,
) -> None:
    SlaClock.objects.create(
        ticket=ticket,
        metric=metric,
        target_seconds=4 * 3600,
        started_at=due - timedelta(hours=4),
        due_at=due,
        met_at=met,
        breached_at=due if breached else None,
        warned_at=warned,
    )


def _matching(field: str, operator: str, value: Any) -> set[str]:
    found = escalation_rule_preview(
        actor=ACTOR,
        trigger="time_based",
        conditions=[{"field": field, "operator": operator, "value": value}],
    )
    return set(found.values_list("subject", flat=True))


Value = Callable[[Cast], Any]

CASES: list[tuple[str, str, Value, set[str]]] = [
    ("status", "equals", lambda c: "open", {"quiet"}),
    ("status", "not_equals", lambda c: "open", {"busy", "hot"}),
    ("status", "in", lambda c: ["open", "waiting_on_agent"], {"quiet", "hot"}),
    ("status", "not_in", lambda c: ["open", "waiting_on_agent"], {"busy"}),
    ("priority", "equals", lambda c: "urgent", {"hot"}),
    ("priority", "not_equals", lambda c: "urgent", {"quiet", "busy"}),
    ("priority", "in", lambda c: ["low", "high"], {"quiet", "busy"}),
    ("priority", "not_in", lambda c: ["low", "high"], {"hot"}),
    ("priority", "greater_than", lambda c: "medium", {"busy", "hot"}),
    ("priority", "less_than", lambda c: "high", {"quiet"}),
    ("department", "equals", lambda c: c.billing.pk, {"quiet"}),
    ("department", "equals", lambda c: None, {"hot"}),
    ("department", "not_equals", lambda c: c.billing.pk, {"busy", "hot"}),
    ("department", "in", lambda c: [c.billing.pk, None], {"quiet", "hot"}),
    ("department", "not_in", lambda c: [c.sales.pk], {"quiet", "hot"}),
    ("assignee", "equals", lambda c: c.agent.pk, {"hot"}),
    ("assignee", "not_equals", lambda c: c.agent.pk, {"quiet", "busy"}),
    ("assignee", "in", lambda c: [c.agent.pk, c.lead.pk], {"busy", "hot"}),
    ("assignee", "not_in", lambda c: [c.lead.pk, None], {"hot"}),
    ("assigned", "equals", lambda c: False, {"quiet"}),
    ("assigned", "not_equals", lambda c: False, {"busy", "hot"}),
    ("tag", "equals", lambda c: c.vip.pk, {"hot"}),
    ("tag", "not_equals", lambda c: c.vip.pk, {"quiet", "busy"}),
    ("tag", "in", lambda c: [c.urgent.pk, c.vip.pk], {"busy", "hot"}),
    ("tag", "not_in", lambda c: [c.urgent.pk], {"quiet"}),
    ("ticket_type", "equals", lambda c: "problem", {"busy"}),
    ("ticket_type", "not_equals", lambda c: "question", {"busy", "hot"}),
    ("ticket_type", "in", lambda c: ["question", "incident"], {"quiet", "hot"}),
    ("ticket_type", "not_in", lambda c: ["question", "incident"], {"busy"}),
    ("channel", "equals", lambda c: "email", {"busy"}),
    ("channel", "not_equals", lambda c: "web", {"busy", "hot"}),
    ("channel", "in", lambda c: ["web", "phone"], {"quiet", "hot"}),
    ("channel", "not_in", lambda c: ["web", "phone"], {"busy"}),
    ("age_hours", "greater_than", lambda c: 24, {"quiet"}),
    ("age_hours", "less_than", lambda c: 24, {"busy", "hot"}),
    ("no_response_hours", "greater_than", lambda c: 24, {"quiet"}),
    ("no_response_hours", "less_than", lambda c: 24, {"hot"}),
    ("last_update_hours", "greater_than", lambda c: 1.5, {"quiet", "hot"}),
    ("last_update_hours", "less_than", lambda c: 1.5, {"busy"}),
    ("last_customer_message_hours", "greater_than", lambda c: 3, {"quiet", "busy"}),
    ("last_customer_message_hours", "less_than", lambda c: 3, {"hot"}),
    ("awaiting_reply", "equals", lambda c: True, {"quiet", "hot"}),
    ("awaiting_reply", "not_equals", lambda c: True, {"busy"}),
    ("requester_is_guest", "equals", lambda c: True, {"hot"}),
    ("requester_is_guest", "not_equals", lambda c: True, {"quiet", "busy"}),
    ("sla_breached", "equals", lambda c: True, {"quiet"}),
    ("sla_breached", "not_equals", lambda c: True, {"busy", "hot"}),
    ("sla_breached_metric", "equals", lambda c: "first_response", {"quiet"}),
    ("sla_breached_metric", "not_equals", lambda c: "first_response", {"busy", "hot"}),
    ("sla_breached_metric", "in", lambda c: ["resolution", "first_response"], {"quiet"}),
    ("sla_breached_metric", "not_in", lambda c: ["resolution"], {"quiet", "busy", "hot"}),
    ("sla_remaining", "less_than", lambda c: 2, {"quiet", "hot"}),
    ("sla_remaining", "greater_than", lambda c: 2, {"busy"}),
    ("sla_warning", "equals", lambda c: True, {"hot"}),
    ("sla_warning", "not_equals", lambda c: True, {"quiet", "busy"}),
]


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    CASES,
    ids=[f"{f}-{op}-{n}" for n, (f, op, _v, _e) in enumerate(CASES)],
)
def test_condition(cast: Cast, field: str, operator: str, value: Value, expected: set[str]) -> None:
    assert _matching(field, operator, value(cast)) == expected


def test_every_field_and_operator_is_tested() -> None:
    tested = {(field, operator) for field, operator, _v, _e in CASES}
    offered = {(name, str(op)) for name, field in FIELDS.items() for op in field.operators}
    assert tested == offered


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        ("status", " Open ", {"quiet"}),
        ("priority", "URGENT", {"hot"}),
        ("assigned", "no", {"quiet"}),
        ("assigned", "true", {"busy", "hot"}),
        ("age_hours", "24", {"quiet"}),
        ("age_hours", "1.5", {"quiet", "busy", "hot"}),
    ],
)
def test_values_typed_into_the_admin_form_are_read(
    cast: Cast, field: str, typed: str, expected: set[str]
) -> None:
    """The admin form sends every value as text and leaves the operator out."""
    found = escalation_rule_preview(
        actor=ACTOR, trigger="time_based", conditions=[{"field": field, "value": typed}]
    )
    assert set(found.values_list("subject", flat=True)) == expected


def test_ids_may_be_given_as_text(cast: Cast) -> None:
    assert _matching("department", "equals", str(cast.billing.pk)) == {"quiet"}


def test_all_of_and_any_of(cast: Cast) -> None:
    conditions = [
        {"field": "priority", "value": "urgent"},
        {"field": "department", "value": cast.billing.pk},
    ]

    def run(match: str) -> set[str]:
        found = escalation_rule_preview(
            actor=ACTOR, trigger="time_based", match=match, conditions=conditions
        )
        return set(found.values_list("subject", flat=True))

    assert run("all") == set()
    assert run("any") == {"quiet", "hot"}


def test_no_conditions_match_every_open_ticket(cast: Cast) -> None:
    found = escalation_rule_preview(actor=ACTOR, trigger="time_based", conditions=[])
    assert set(found.values_list("subject", flat=True)) == {"quiet", "busy", "hot"}


def test_a_rule_compiles_to_one_statement(cast: Cast, django_assert_num_queries: Any) -> None:
    found = escalation_rule_preview(
        actor=ACTOR,
        trigger="time_based",
        match="any",
        conditions=[
            {"field": "tag", "operator": "not_in", "value": [cast.vip.pk]},
            {"field": "awaiting_reply", "value": True},
            {"field": "no_response_hours", "value": 24},
        ],
    )
    with django_assert_num_queries(1):
        assert len(list(found)) == 3
