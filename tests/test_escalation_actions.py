"""Each action runs through the ticket services as the rule: the timeline names the rule, and
signals go out after commit exactly as for a person's action."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated import signals
from escalated.errors import DomainError, ErrorCode
from escalated.models import (
    Delivery,
    DeliveryKind,
    Department,
    Reply,
    RuleFiring,
    Status,
    Ticket,
    TicketActivity,
)
from escalated.services import tickets, webhooks
from escalated.services.escalation import rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World, make_user


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


def test_assign_round_robin_takes_turns_in_the_department(world: World) -> None:
    second = make_user("bea", first="Bea")
    world.billing.agents.add(second)
    other = tickets.ticket_create(actor=world.customer, subject="Another", department=world.billing)
    Ticket.objects.filter(pk=other.pk).update(status="waiting_on_customer")
    _rule(world, {"type": "assign_round_robin", "value": None})

    escalations_evaluate()

    assignees = set(
        Ticket.objects.filter(department=world.billing).values_list("assignee", flat=True)
    )
    assert assignees == {world.agent.pk, second.pk}, "each agent got one, in turn"
    verbs = [verb for verb, _after in _rule_activity(world)]
    assert verbs == ["assigned"]


def test_assign_round_robin_within_a_named_department(world: World) -> None:
    # A ticket in no department is open to every agent: sales' agents may take it.
    tickets.ticket_department_change(ticket=world.ticket, actor=world.admin, department=None)
    _rule(world, {"type": "assign_round_robin", "value": world.sales.pk})

    escalations_evaluate()

    world.ticket.refresh_from_db()
    assert world.ticket.assignee == world.outsider  # the only agent of sales


def test_round_robin_never_hands_a_ticket_to_someone_who_cannot_see_it(world: World) -> None:
    # The billing ticket cannot go to a sales agent: the action is refused, the ticket unchanged.
    _rule(world, {"type": "assign_round_robin", "value": world.sales.pk})

    escalations_evaluate()

    world.ticket.refresh_from_db()
    assert world.ticket.assignee is None
    assert RuleFiring.objects.get().error


@pytest.mark.parametrize(
    ("value", "recipients"),
    [
        (
            {"to": "email", "email": "oncall@example.com", "message": "Call them"},
            ["oncall@example.com"],
        ),
        ({"to": "department"}, ["alan@example.com"]),
        # Sales' agents cannot open a billing ticket, so they are not emailed about it.
        ({"to": "department", "department": "SALES"}, []),
        ({"to": "assignee"}, []),  # nobody is assigned: nobody to tell
        ("webhooks", []),
    ],
    ids=["email", "own department", "other department", "assignee", "webhooks"],
)
def test_notify_writes_outbox_rows_and_a_timeline_row(
    world: World, value: Any, recipients: list[str]
) -> None:
    if isinstance(value, dict) and value.get("department") == "SALES":
        value = {**value, "department": world.sales.pk}
    webhooks.webhook_create(
        actor=world.admin, url="https://hooks.example.com/in", events=["ticket.notified"],
        secret="s" * 32,
    )  # fmt: skip
    Delivery.objects.all().delete()
    _rule(world, {"type": "notify", "value": value})

    escalations_evaluate()

    emails = Delivery.objects.filter(kind=DeliveryKind.EMAIL, event="ticket.notified")
    assert sorted(emails.values_list("recipient", flat=True)) == recipients
    calls = Delivery.objects.filter(kind=DeliveryKind.WEBHOOK, event="ticket.notified")
    assert calls.count() == 1, "every notice reaches endpoints subscribed to ticket.notified"
    [(verb, after)] = _rule_activity(world)
    assert verb == "notified"
    assert after["to"] == (value if isinstance(value, str) else value["to"])


@pytest.mark.parametrize(
    "value",
    [
        {"to": "everyone"},
        {"to": "email"},
        {"to": "email", "email": "not-an-address"},
        {"to": "assignee", "email": "x@example.com"},
        {"to": "assignee", "department": 1},
        {"to": "department", "extra": True},
        42,
    ],
)
def test_notify_values_are_checked_on_save(world: World, value: Any) -> None:
    with pytest.raises(DomainError) as refused:
        _rule(world, {"type": "notify", "value": value})

    assert refused.value.problems[0].field == "actions.0.value"


def test_notify_names_an_existing_department(world: World) -> None:
    with pytest.raises(DomainError) as refused:
        _rule(world, {"type": "notify", "value": {"to": "department", "department": 999}})

    assert refused.value.problems[0].code is ErrorCode.NOT_FOUND


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
    """Deciding, the agent's look-up and the webhook endpoints are paid once per run; each ticket
    then costs only its service call: a savepoint, the row lock, the update, the timeline row,
    the public activity time (an assignment shows on the customer's page), the assignment
    email's outbox row and the release."""
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
    # its locked episodes, the agent and their departments, the active webhook endpoints,
    # marking the batch acted, release.
    assert len(queries) == 11 + 7 * size
