"""Each action runs through the ticket services as the rule: the timeline names the rule, and
signals go out after commit exactly as for a person's action."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated import signals
from escalated.models import (
    Department,
    Reply,
    RuleFiring,
    Status,
    Ticket,
    TicketActivity,
)
from escalated.services import tickets
from escalated.services.escalation import rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World


def _rule(world: World, *actions: dict[str, Any], name: str = "Stuck") -> None:
    """A sweep rule that matches the world's ticket (waiting on the customer) only."""
    rules.escalation_rule_create(
        actor=world.admin,
        name=name,
        trigger="time_based",
        conditions=[{"field": "status", "value": "waiting_on_customer"}],
        actions=list(actions),
    )


def _rule_activity(world: World) -> list[tuple[str, dict[str, Any]]]:
    rows = TicketActivity.objects.filter(ticket=world.ticket, actor_label__startswith="rule:")
    assert all(r.actor_id is None and r.actor_label == "rule:Stuck" for r in rows)
    return [(r.verb, r.after) for r in rows]


def test_escalate(world: World, django_capture_on_commit_callbacks: Any) -> None:
    heard: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    _rule(world, {"type": "escalate", "value": "VIP customer"})
    signals.ticket_escalated.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            escalations_evaluate()
    finally:
        signals.ticket_escalated.disconnect(receiver)

    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.ESCALATED
    reason = "Escalation rule: Stuck (VIP customer)"
    assert _rule_activity(world) == [("status_changed", {"status": "escalated", "reason": reason})]
    assert [(h["ticket"].pk, h["user"], h["reason"]) for h in heard] == [
        (world.ticket.pk, None, reason)
    ]


def test_change_priority(world: World) -> None:
    _rule(world, {"type": "change_priority", "value": "urgent"})

    escalations_evaluate()

    world.ticket.refresh_from_db()
    assert world.ticket.priority == "urgent"
    assert _rule_activity(world) == [("priority_changed", {"priority": "urgent"})]


def test_assign_to(world: World) -> None:
    _rule(world, {"type": "assign_to", "value": world.agent.pk})

    escalations_evaluate()

    world.ticket.refresh_from_db()
    assert world.ticket.assignee == world.agent
    assert _rule_activity(world) == [
        ("assigned", {"assignee": {"id": world.agent.pk, "name": "Alan Agent"}})
    ]


def test_change_department(world: World) -> None:
    _rule(world, {"type": "change_department", "value": world.sales.pk})

    escalations_evaluate()

    world.ticket.refresh_from_db()
    assert world.ticket.department == world.sales
    assert _rule_activity(world) == [
        ("department_changed", {"department": {"id": world.sales.pk, "name": "Sales"}})
    ]


def test_add_tag(world: World) -> None:
    _rule(world, {"type": "add_tag", "value": world.urgent.pk})

    escalations_evaluate()

    assert list(world.ticket.tags.all()) == [world.urgent]
    assert _rule_activity(world) == [("tags_changed", {"tags_added": ["urgent"]})]


def test_add_note(world: World) -> None:
    _rule(world, {"type": "add_note", "value": "<p>Waiting too long</p><script>x()</script>"})

    escalations_evaluate()

    note = Reply.objects.filter(ticket=world.ticket).latest("id")
    assert (note.is_internal_note, note.author, note.body) == (
        True,
        None,
        "<p>Waiting too long</p>",
    )
    assert _rule_activity(world) == [("note_added", {"reply_id": note.pk})]


def test_actions_run_in_order_each_on_the_timeline(world: World) -> None:
    _rule(
        world,
        {"type": "change_department", "value": world.sales.pk},
        {"type": "assign_to", "value": world.outsider.pk},  # a sales agent: fine after the move
        {"type": "escalate", "value": None},
    )

    outcome = escalations_evaluate().outcome

    assert (outcome.acted, outcome.refused) == (1, 0)
    assert [verb for verb, _after in _rule_activity(world)] == [
        "department_changed",
        "assigned",
        "status_changed",
    ]


def test_a_refused_action_undoes_the_rules_other_actions_and_is_recorded(world: World) -> None:
    """The outsider works in sales and cannot take a billing ticket: the ticket service refuses,
    the priority change before it is rolled back, and the refusal is kept on the episode."""
    _rule(
        world,
        {"type": "change_priority", "value": "urgent"},
        {"type": "assign_to", "value": world.outsider.pk},
    )

    first = escalations_evaluate().outcome
    second = escalations_evaluate().outcome

    world.ticket.refresh_from_db()
    assert (world.ticket.priority, world.ticket.assignee) == ("medium", None)
    assert _rule_activity(world) == []
    firing = RuleFiring.objects.get()
    assert "cannot be assigned" in firing.error and firing.acted_at is not None
    assert (first.refused, second.refused, second.acted) == (1, 0, 0), "refused once, not retried"


@pytest.mark.parametrize("action", ["change_department", "add_tag"])
def test_a_target_deleted_after_saving_is_a_refusal_not_a_crash(world: World, action: str) -> None:
    department = Department.objects.create(name="Temp", slug="temp")
    target = department if action == "change_department" else world.urgent
    _rule(world, {"type": action, "value": target.pk})
    target.delete()

    outcome = escalations_evaluate().outcome

    assert (outcome.acted, outcome.refused, outcome.failed) == (0, 1, 0)
    assert "no longer exists" in RuleFiring.objects.get().error


@pytest.mark.parametrize("size", [3, 6])
def test_each_ticket_acted_on_costs_one_service_call(world: World, size: int) -> None:
    """Deciding and the agent's look-up are paid once per run; each ticket then costs only its
    service call: a savepoint, the row lock, the update, the timeline row and the release."""
    for n in range(size - 1):  # the world's ticket makes up the number
        ticket = tickets.ticket_create(
            actor=world.agent,
            subject=f"More {n}",
            department=world.billing,
            requester=world.customer,
        )
        Ticket.objects.filter(pk=ticket.pk).update(status="waiting_on_customer")
    _rule(world, {"type": "assign_to", "value": world.agent.pk})

    with CaptureQueriesContext(connection) as queries:
        outcome = escalations_evaluate().outcome

    assert outcome.acted == size
    # Once: the rules; end and claim episodes; the episodes waiting; the batch's savepoint,
    # its locked episodes, the agent and their departments, marking the batch acted, release.
    assert len(queries) == 10 + 5 * size
