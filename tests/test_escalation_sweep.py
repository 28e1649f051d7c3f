"""The sweep (`evaluate_escalations`): once per ticket per matching episode, later rules after a
stopping one, dry runs that act on nothing, and a constant number of statements to decide."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalated.access import SystemActor
from escalated.models import EscalationRule, RuleFiring, Ticket, TicketActivity
from escalated.services import tickets
from escalated.services.escalation import episodes, rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World
from tests.test_permission_matrix import snapshot

ACTOR = SystemActor("test")


def _rule(
    world: World, name: str, conditions: list[dict[str, Any]], **given: Any
) -> EscalationRule:
    given.setdefault("actions", [{"type": "add_note", "value": f"{name} fired"}])
    return rules.escalation_rule_create(
        actor=world.admin, name=name, trigger="time_based", conditions=conditions, **given
    )


def _open(subject: str, **fields: Any) -> Ticket:
    return tickets.ticket_create(actor=ACTOR, subject=subject, **fields)


def _notes(name: str) -> int:
    return TicketActivity.objects.filter(verb="note_added", actor_label=f"rule:{name}").count()


def test_a_rule_fires_once_per_matching_episode(world: World) -> None:
    rule = _rule(world, "Urgent", [{"field": "priority", "value": "urgent"}])
    tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="urgent")

    escalations_evaluate()
    escalations_evaluate()
    assert _notes("Urgent") == 1, "still matching: no repeat"

    tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")
    escalations_evaluate()
    assert RuleFiring.objects.get().ended_at is not None, "stopped matching: the episode ends"

    tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="urgent")
    escalations_evaluate()
    escalations_evaluate()
    assert _notes("Urgent") == 2, "matched anew: fires again, once"
    assert rule.firings.count() == 2
    assert rule.firings.filter(ended_at__isnull=True).count() == 1


def test_a_ticket_that_is_no_longer_open_ends_its_episode(world: World) -> None:
    _rule(world, "Any", [])
    escalations_evaluate()

    tickets.ticket_resolve(ticket=world.ticket, actor=world.agent)
    escalations_evaluate()
    tickets.ticket_reopen(ticket=world.ticket, actor=world.customer)
    escalations_evaluate()

    assert _notes("Any") == 2


def test_only_open_tickets_are_looked_at(world: World) -> None:
    closed = _open("Closed one")
    tickets.ticket_close(ticket=closed, actor=world.admin)
    _rule(world, "Any", [])

    report = escalations_evaluate()

    assert report.rules[0].ticket_ids == [world.ticket.pk]


def test_a_stopping_rule_keeps_later_rules_off_its_tickets(world: World) -> None:
    vip = _open("VIP", priority="urgent")
    normal = _open("Normal", priority="high")
    _rule(world, "VIP first", [{"field": "priority", "value": "urgent"}], stop_processing=True)
    _rule(world, "Everyone", [{"field": "priority", "value": ["urgent", "high"]}])

    report = escalations_evaluate()
    again = escalations_evaluate()

    assert [(r.rule.name, r.ticket_ids) for r in report.rules] == [
        ("VIP first", [vip.pk]),
        ("Everyone", [normal.pk]),
    ]
    assert [r.ticket_ids for r in again.rules] == [[], []], "the stop holds while it matches"


def test_a_stopping_rule_decides_on_what_it_matched_before_acting(world: World) -> None:
    """All decisions come before any action: a stopping rule whose own action makes the ticket
    stop matching still keeps later rules off that ticket in the same run."""
    _rule(
        world,
        "Calm down",
        [{"field": "priority", "value": "medium"}],
        actions=[{"type": "change_priority", "value": "low"}],
        stop_processing=True,
    )
    _rule(world, "Low", [{"field": "priority", "value": ["medium", "low"]}])

    report = escalations_evaluate()

    assert [r.ticket_ids for r in report.rules] == [[world.ticket.pk], []]
    world.ticket.refresh_from_db()
    assert world.ticket.priority == "low"


def test_a_stopping_rule_with_no_conditions_stops_everything_after_it(world: World) -> None:
    _rule(world, "All", [], stop_processing=True)
    _rule(world, "Later", [])

    assert [r.ticket_ids for r in escalations_evaluate().rules] == [[world.ticket.pk], []]


def test_inactive_and_event_rules_are_not_swept(world: World) -> None:
    _rule(world, "Off", [], is_active=False)
    rules.escalation_rule_create(
        actor=world.admin,
        name="On reply",
        trigger="customer_reply",
        actions=[{"type": "escalate"}],
    )

    assert escalations_evaluate().rules == []


def test_a_dry_run_lists_and_changes_nothing(world: World) -> None:
    other = _open("Other")
    Ticket.objects.filter(pk=other.pk).update(created_at=timezone.now() - timedelta(hours=30))
    _rule(world, "Old", [{"field": "age_hours", "value": 24}])
    _rule(world, "Quiet", [{"field": "status", "value": "waiting_on_customer"}])
    before = snapshot()

    report = escalations_evaluate(dry_run=True)

    assert [(r.rule.name, r.ticket_ids) for r in report.rules] == [
        ("Old", [other.pk]),
        ("Quiet", [world.ticket.pk]),
    ]
    assert snapshot() == before


def test_a_dry_run_leaves_out_tickets_already_acted_on(world: World) -> None:
    _rule(world, "Quiet", [{"field": "status", "value": "waiting_on_customer"}])
    escalations_evaluate()

    assert escalations_evaluate(dry_run=True).rules[0].ticket_ids == []


def test_the_command_lists_in_a_dry_run_and_acts_otherwise(world: World) -> None:
    _rule(world, "Quiet", [{"field": "status", "value": "waiting_on_customer"}])

    out = StringIO()
    call_command("evaluate_escalations", "--dry-run", stdout=out)
    assert out.getvalue() == "Quiet: would act on 1 ticket(s)\n  ESC-00001\n"
    assert _notes("Quiet") == 0

    out = StringIO()
    call_command("evaluate_escalations", stdout=out)
    assert out.getvalue() == "Quiet: fired on 1 ticket(s)\nActed on 1, refused 0, failed 0.\n"
    assert _notes("Quiet") == 1


def test_the_command_fails_loudly_when_an_episode_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rule(world, "Quiet", [{"field": "status", "value": "waiting_on_customer"}])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(episodes, "run_steps", broken)
    with pytest.raises(CommandError, match="1 episode"):
        call_command("evaluate_escalations", stdout=StringIO())
    firing = RuleFiring.objects.get()
    assert firing.acted_at is None, "left waiting, so the next run retries it"

    monkeypatch.undo()
    call_command("evaluate_escalations", stdout=StringIO())
    assert _notes("Quiet") == 1


def test_an_episode_a_crashed_run_left_waiting_is_finished_once(world: World) -> None:
    rule = _rule(world, "Quiet", [{"field": "status", "value": "waiting_on_customer"}])
    episodes.claim(rule, Ticket.objects.all(), timezone.now())  # claimed, then the run died

    escalations_evaluate()
    escalations_evaluate()

    assert _notes("Quiet") == 1
    assert RuleFiring.objects.get().acted_at is not None


def _decide_statements(world: World, size: int) -> int:
    for n in range(size):
        _open(f"Ticket {n}", priority="low")
    for n in range(3):
        _rule(
            world,
            f"Rule {n}",
            [
                {"field": "priority", "value": "low"},
                {"field": "tag", "operator": "not_equals", "value": world.urgent.pk},
            ],
        )
    escalations_evaluate()  # every ticket fired on: later runs have nothing new to do
    with CaptureQueriesContext(connection) as queries:
        report = escalations_evaluate()
    assert [r.ticket_ids for r in report.rules] == [[], [], []]
    return len(queries)


@pytest.mark.parametrize("size", [5, 40])
def test_deciding_costs_the_same_statements_for_any_number_of_tickets(
    world: World, size: int
) -> None:
    # The active rules (1); per rule, end the stale episodes and claim new ones (2 x 3);
    # the episodes waiting for their actions (1).
    assert _decide_statements(world, size) == 8
