"""Each action runs through the ticket services as the rule: the timeline names the rule, and
signals go out after commit exactly as for a person's action."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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
    SlaClock,
    SlaPolicy,
    Status,
    Ticket,
    TicketActivity,
)
from escalated.realtime.groups import ticket_group
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


@pytest.mark.parametrize("size", [3, 12])
def test_acting_on_a_batch_costs_the_same_statements_for_any_number_of_tickets(
    world: World, size: int
) -> None:
    """The episodes of a batch go through the services together (services.common.TicketBatch):
    the statements are those of one ticket, however many tickets there are."""
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
    # Deciding: the rules; end and claim episodes; the episodes waiting (4). Acting, once for
    # the batch: the savepoint, the locked episodes (with their rules' names and actions), the
    # locked tickets (with their departments; they have no assignees to read), the agent and
    # their departments, the timeline rows, the webhook endpoints, the outbox rows, one UPDATE
    # of the tickets (their public activity time with it: an assignment shows on the
    # customer's page), marking the episodes acted, the release (11).
    assert len(queries) == 15


def test_a_batch_of_assigned_tickets_costs_no_more_statements_when_it_grows(world: World) -> None:
    """Tickets with assignees (read once for the batch), several actions each: a batch of twelve
    costs the statements of a batch of three."""

    def more(count: int) -> None:
        for n in range(count):
            ticket = tickets.ticket_create(
                actor=world.agent,
                subject=f"More {n}",
                department=world.billing,
                requester=world.customer,
            )
            Ticket.objects.filter(pk=ticket.pk).update(
                status="waiting_on_customer", assignee=(world.agent, world.admin)[n % 2]
            )

    _rule(
        world,
        {"type": "change_priority", "value": "urgent"},
        {"type": "escalate", "value": ""},
        {"type": "change_department", "value": world.sales.pk},
    )
    counts = []
    for size in (3, 12):
        more(size)
        with CaptureQueriesContext(connection) as queries:
            outcome = escalations_evaluate().outcome
        assert outcome.acted == size + (1 if size == 3 else 0)  # the world's ticket, first time
        counts.append(len(queries))

    assert counts[0] == counts[1]
    moved = Ticket.objects.filter(department=world.sales, priority="urgent", status="escalated")
    assert moved.count() == 16


def test_a_batch_keeps_every_guarantee_of_one_change(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Acted on together, each ticket gets what a person's changes would give it: one timeline
    row per action, its SLA clocks moved to the new priority, the outbox rows, and the signals
    and live events, each once and only after the commit."""
    schedule_free = {p: {"seconds": 3600, "business_hours": False} for p in ("low", "medium")}
    SlaPolicy.objects.create(
        name="Fast",
        is_default=True,
        targets={
            "first_response": {**schedule_free, "urgent": {"seconds": 600, "business_hours": False}}
        },
    )
    webhooks.webhook_create(
        actor=world.admin,
        url="https://hooks.example.com/in",
        events=["ticket.priority_changed", "ticket.status_changed", "ticket.assigned"],
        secret="s" * 32,
    )
    batch = [world.ticket]
    for n in range(5):
        batch.append(
            tickets.ticket_create(
                actor=world.customer, subject=f"More {n}", department=world.billing
            )
        )
    Ticket.objects.filter(pk__in=[t.pk for t in batch]).update(status="waiting_on_customer")
    for ticket in batch:  # the clocks as they stand before the rule
        ticket.refresh_from_db()
        tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="medium")
    _rule(
        world,
        {"type": "change_priority", "value": "urgent"},
        {"type": "escalate", "value": ""},
        {"type": "assign_to", "value": world.agent.pk},
    )
    Delivery.objects.all().delete()
    heard: list[tuple[str, int]] = []

    def receiver(signal: Any, sender: Any, **kwargs: Any) -> None:
        heard.append((names[signal], kwargs["ticket"].pk))

    names = {
        signals.ticket_priority_changed: "priority",
        signals.ticket_escalated: "escalated",
        signals.ticket_assigned: "assigned",
    }
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for ticket in batch:
        async_to_sync(layer.group_add)(ticket_group(ticket.pk), channel)
    for signal in names:
        signal.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = escalations_evaluate().outcome
            assert heard == [], "nothing is told before the commit"
    finally:
        for signal in names:
            signal.disconnect(receiver)

    assert outcome.acted == len(batch)
    for ticket in batch:
        ticket.refresh_from_db()
        assert (ticket.priority, ticket.status, ticket.assignee_id) == (
            "urgent",
            Status.ESCALATED,
            world.agent.pk,
        )
        verbs = TicketActivity.objects.filter(ticket=ticket, actor_label="rule:Stuck")
        assert sorted(verbs.values_list("verb", flat=True)) == [
            "assigned",
            "priority_changed",
            "status_changed",
        ]
        clock = SlaClock.objects.get(ticket=ticket, metric="first_response", is_current=True)
        assert clock.target_seconds == 600, "recomputed for the new priority"
        assert sorted(heard).count(("priority", ticket.pk)) == 1
        assert heard.count(("escalated", ticket.pk)) == 1
        assert heard.count(("assigned", ticket.pk)) == 1
    calls = Delivery.objects.filter(kind=DeliveryKind.WEBHOOK)
    assert sorted(calls.values_list("event", flat=True)) == sorted(
        ["ticket.priority_changed", "ticket.status_changed", "ticket.assigned"] * len(batch)
    )
    live = []
    while True:
        try:
            live.append(async_to_sync(_receive_now)(layer, channel))
        except TimeoutError:
            break
    assert sorted((m["ticket_id"], m["verb"]) for m in live) == sorted(
        (t.pk, verb) for t in batch for verb in ("priority_changed", "status_changed", "assigned")
    )


async def _receive_now(layer: Any, channel: str) -> dict[str, Any]:
    return await asyncio.wait_for(layer.receive(channel), timeout=0.2)


def test_a_refused_ticket_in_a_batch_keeps_nothing_of_its_episode(world: World) -> None:
    """An episode is all or nothing, also inside a batch: the ticket the agent may not be given
    keeps its priority and gets no timeline row; the others are acted on."""
    theirs = tickets.ticket_create(actor=world.customer, subject="Sales", department=world.sales)
    Ticket.objects.filter(pk=theirs.pk).update(status="waiting_on_customer")
    _rule(
        world,
        {"type": "change_priority", "value": "urgent"},
        {"type": "assign_to", "value": world.agent.pk},  # not an agent of Sales
    )

    outcome = escalations_evaluate().outcome

    assert (outcome.acted, outcome.refused) == (1, 1)
    theirs.refresh_from_db()
    assert (theirs.priority, theirs.assignee_id) == ("medium", None)
    assert not TicketActivity.objects.filter(ticket=theirs, actor_label="rule:Stuck").exists()
    assert "cannot be assigned" in RuleFiring.objects.get(ticket=theirs).error
    world.ticket.refresh_from_db()
    assert (world.ticket.priority, world.ticket.assignee_id) == ("urgent", world.agent.pk)
