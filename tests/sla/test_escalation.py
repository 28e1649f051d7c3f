"""Escalation rules on SLA triggers: sla_breach rules act once a clock has run out, sla_warning
rules once check_sla has warned, each once per episode."""

from __future__ import annotations

import time_machine

from escalated.models import Status, TicketActivity
from escalated.services import sla_check, tickets
from escalated.services.escalation import rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World
from tests.sla.conftest import HOUR, make_policy, targets


def _rule(world: World, trigger: str, *actions: dict[str, object]) -> None:
    rules.escalation_rule_create(
        actor=world.admin, name=trigger, trigger=trigger, conditions=[], actions=list(actions)
    )


def test_an_sla_breach_rule_escalates_once_the_clock_runs_out(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1))
    late = tickets.ticket_create(actor=world.customer, subject="Late", department=world.billing)
    _rule(world, "sla_breach", {"type": "escalate", "value": "first reply overdue"})

    escalations_evaluate()
    late.refresh_from_db()
    assert late.status == Status.OPEN, "not breached yet"

    frozen.shift(2 * HOUR)
    escalations_evaluate()
    escalations_evaluate()

    late.refresh_from_db()
    assert late.status == Status.ESCALATED
    escalated = TicketActivity.objects.filter(ticket=late, actor_label="rule:sla_breach")
    assert escalated.count() == 1, "once per episode"


def test_an_sla_warning_rule_acts_once_check_sla_has_warned(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=1))
    soon = tickets.ticket_create(actor=world.customer, subject="Soon", department=world.billing)
    _rule(world, "sla_warning", {"type": "change_priority", "value": "urgent"})
    frozen.shift(HOUR // 2)  # half an hour left

    escalations_evaluate()
    soon.refresh_from_db()
    assert soon.priority == "medium", "check_sla has not warned yet"

    sla_check.sla_check()  # the default threshold warns 30 minutes before the due instant
    escalations_evaluate()

    soon.refresh_from_db()
    assert soon.priority == "urgent"
