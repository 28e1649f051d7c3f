"""Event rules: evaluated for one ticket right after a change commits, once per matching
episode, and never woken by changes that rules make themselves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.utils import timezone

from escalated.models import EscalationRule, RuleFiring, Ticket, TicketActivity
from escalated.services import tickets
from escalated.services.escalation import rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """Run a block as its own committed change: its after-commit handlers run at the end."""

    @contextmanager
    def block() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return block


def _rule(world: World, name: str, trigger: str, **given: Any) -> EscalationRule:
    given.setdefault("actions", [{"type": "add_note", "value": f"{name} fired"}])
    return rules.escalation_rule_create(actor=world.admin, name=name, trigger=trigger, **given)


def _fired(name: str, ticket: Ticket | None = None) -> int:
    rows = TicketActivity.objects.filter(verb="note_added", actor_label=f"rule:{name}")
    return rows.filter(ticket=ticket).count() if ticket else rows.count()


def test_ticket_created_rules_act_on_new_tickets(world: World, committed: Any) -> None:
    _rule(
        world,
        "Phone in",
        "ticket_created",
        conditions=[{"field": "channel", "value": "phone"}],
        actions=[{"type": "add_tag", "value": world.urgent.pk}],
    )

    with committed():
        by_phone = tickets.ticket_create(
            actor=world.agent, subject="Called", channel="phone", requester=world.customer
        )
    with committed():
        by_web = tickets.ticket_create(actor=world.customer, subject="Wrote")

    assert list(by_phone.tags.all()) == [world.urgent]
    assert not by_web.tags.exists()
    activity = TicketActivity.objects.get(ticket=by_phone, verb="tags_changed")
    assert (activity.actor, activity.actor_label) == (None, "rule:Phone in")


def test_ticket_updated_rules_fire_once_while_the_ticket_keeps_matching(
    world: World, committed: Any
) -> None:
    _rule(world, "Urgent", "ticket_updated", conditions=[{"field": "priority", "value": "urgent"}])
    ticket = world.ticket

    with committed():
        tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="urgent")
    with committed():
        tickets.ticket_assign(ticket=ticket, actor=world.agent, assignee=world.agent)
    assert _fired("Urgent") == 1, "a second change while urgent does not repeat the rule"

    with committed():
        tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="low")
    with committed():
        tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="urgent")
    assert _fired("Urgent") == 2, "urgent anew: it fires again"


def test_customer_reply_rules_fire_on_each_turn_of_the_customer(
    world: World, committed: Any
) -> None:
    _rule(world, "Customer wrote", "customer_reply")
    ticket = world.ticket

    with committed():
        tickets.ticket_reply(ticket=ticket, author=world.customer, body="Any news?")
    with committed():
        tickets.ticket_reply(ticket=ticket, author=world.customer, body="Hello??")
    assert _fired("Customer wrote") == 1, "the customer is still waiting: one note"

    with committed():
        tickets.ticket_reply(ticket=ticket, author=world.agent, body="Sorry, on it")
    with committed():
        tickets.ticket_note_add(ticket=ticket, author=world.agent, body="Ask finance")
    assert _fired("Customer wrote") == 1, "agents' replies and notes are not customer replies"

    with committed():
        tickets.ticket_reply(ticket=ticket, author=world.customer, body="Thanks, and…")
    assert _fired("Customer wrote") == 2


def test_priority_based_rules_wake_on_creation_and_priority_changes_only(
    world: World, committed: Any
) -> None:
    """The admin form's priority_based trigger: looked at when a ticket opens and whenever its
    priority changes."""
    _rule(
        world,
        "Critical",
        "priority_based",
        conditions=[{"field": "priority", "value": "critical"}],
        actions=[{"type": "escalate", "value": ""}],
    )

    with committed():
        born_critical = tickets.ticket_create(
            actor=world.customer, subject="Down", priority="critical"
        )
    Ticket.objects.filter(pk=world.ticket.pk).update(priority="critical")  # not through a service
    with committed():
        tickets.ticket_assign(ticket=world.ticket, actor=world.agent, assignee=world.agent)
    world.ticket.refresh_from_db()
    assert world.ticket.status == "waiting_on_customer", "an assignment does not wake it"

    with committed():
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")
    with committed():
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="critical")

    born_critical.refresh_from_db()
    world.ticket.refresh_from_db()
    assert (born_critical.status, world.ticket.status) == ("escalated", "escalated")


def test_rules_evaluate_only_the_changed_ticket(world: World, committed: Any) -> None:
    other = tickets.ticket_create(actor=world.customer, subject="Other", priority="urgent")
    _rule(world, "Urgent", "ticket_updated", conditions=[{"field": "priority", "value": "urgent"}])

    with committed():
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="urgent")

    assert (_fired("Urgent", world.ticket), _fired("Urgent", other)) == (1, 0)


def test_changes_made_by_rules_wake_no_event_rules(world: World, committed: Any) -> None:
    """Cascade guard: the urgent rule's own change does not wake the priority rule, and the
    note rule, which matches every change, does not feed on its own notes."""
    _rule(
        world,
        "Raise",
        "ticket_updated",
        conditions=[{"field": "priority", "value": "high"}],
        actions=[{"type": "change_priority", "value": "urgent"}],
    )
    _rule(
        world, "On urgent", "priority_based", conditions=[{"field": "priority", "value": "urgent"}]
    )
    _rule(world, "Every change", "ticket_updated")

    with committed():
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")

    world.ticket.refresh_from_db()
    assert world.ticket.priority == "urgent"
    assert (_fired("On urgent"), _fired("Every change")) == (0, 1)


def test_a_stopping_event_rule_keeps_later_event_rules_off(world: World, committed: Any) -> None:
    _rule(
        world,
        "VIP",
        "ticket_updated",
        conditions=[{"field": "tag", "value": world.urgent.pk}],
        stop_processing=True,
    )
    _rule(world, "Everything", "ticket_updated")

    with committed():
        tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[world.urgent])

    assert (_fired("VIP"), _fired("Everything")) == (1, 0)


def test_a_refused_event_rule_leaves_the_persons_change_in_place(
    world: World, committed: Any
) -> None:
    _rule(
        world,
        "Hand to sales",
        "ticket_updated",
        actions=[{"type": "assign_to", "value": world.outsider.pk}],  # cannot see billing
    )

    with committed():
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")

    world.ticket.refresh_from_db()
    assert (world.ticket.priority, world.ticket.assignee) == ("high", None)
    assert "cannot be assigned" in RuleFiring.objects.get().error


def test_sweep_rules_do_not_run_on_changes(world: World, committed: Any) -> None:
    _rule(world, "Sweep only", "time_based")

    with committed():
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")

    assert not RuleFiring.objects.exists()


def test_event_rules_cost_a_few_statements_per_change(
    world: World, django_capture_on_commit_callbacks: Any, django_assert_num_queries: Any
) -> None:
    for n in range(4):
        _rule(
            world, f"Rule {n}", "ticket_updated", conditions=[{"field": "priority", "value": "low"}]
        )
    with django_capture_on_commit_callbacks() as pending:
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")
    rules_hook = pending[-1]

    # The active rules, the ticket matched against all of them in one statement, and ending
    # the episodes of the rules it does not match.
    with django_assert_num_queries(3):
        rules_hook()


def test_an_episode_left_waiting_by_a_crash_is_acted_on_by_the_next_sweep(world: World) -> None:
    rule = rules.escalation_rule_create(
        actor=world.admin,
        name="Tag on change",
        trigger="ticket_updated",
        actions=[{"type": "add_tag", "value": world.urgent.pk}],
    )
    # The process died between claiming the episode (after a change) and acting on it.
    RuleFiring.objects.create(rule=rule, ticket=world.ticket, fired_at=timezone.now())

    report = escalations_evaluate()

    assert report.outcome.acted == 1
    assert list(world.ticket.tags.all()) == [world.urgent]
    assert RuleFiring.objects.get().acted_at is not None
