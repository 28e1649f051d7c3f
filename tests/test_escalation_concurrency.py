"""Evaluators running at the same time on PostgreSQL, each on its own connection, never fire the
same episode twice nor run its actions twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from escalated.access import SystemActor
from escalated.models import EscalationRule, RuleFiring, Ticket, TicketActivity
from escalated.services import tickets
from escalated.services.escalation import episodes, rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import make_user

ACTOR = SystemActor("test")
TICKETS = 120
RACERS = 4


def _race(work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in several threads released at the same moment; return what each returned."""
    start = threading.Barrier(RACERS)
    results: list[Any] = []
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _setup() -> list[EscalationRule]:
    admin = make_user("root", is_superuser=True, is_staff=True)
    for n in range(TICKETS):
        tickets.ticket_create(actor=ACTOR, subject=f"Ticket {n}", priority="high")
    return [
        rules.escalation_rule_create(
            actor=admin,
            name=f"Rule {n}",
            trigger="time_based",
            conditions=[{"field": "priority", "value": "high"}],
            actions=[{"type": "add_note", "value": f"Rule {n} fired"}],
        )
        for n in range(2)
    ]


def _notes_per_ticket_and_rule() -> set[int]:
    counts: dict[tuple[int, str], int] = {}
    for ticket_id, label in TicketActivity.objects.filter(verb="note_added").values_list(
        "ticket_id", "actor_label"
    ):
        counts[(ticket_id, label)] = counts.get((ticket_id, label), 0) + 1
    assert len(counts) == TICKETS * 2
    return set(counts.values())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_fire_each_episode_once(on_postgres: None) -> None:
    _setup()

    reports = _race(escalations_evaluate)

    claimed = [len(run.ticket_ids) for report in reports for run in report.rules]
    assert sum(claimed) == TICKETS * 2, "each (rule, ticket) claimed by exactly one sweep"
    assert sum(report.outcome.acted for report in reports) == TICKETS * 2
    assert RuleFiring.objects.count() == TICKETS * 2
    assert _notes_per_ticket_and_rule() == {1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_act_on_waiting_episodes_once(on_postgres: None) -> None:
    """Episodes left waiting (claimed by a run that died) are finished by whichever run locks
    them first; the others skip them."""
    for rule in _setup():
        episodes.claim(rule, Ticket.objects.all(), timezone.now())
    waiting = episodes.pending(EscalationRule.objects.values_list("pk", flat=True))

    outcomes = _race(lambda: episodes.act(waiting))

    assert sum(outcome.acted for outcome in outcomes) == TICKETS * 2
    assert not RuleFiring.objects.filter(acted_at__isnull=True).exists()
    assert _notes_per_ticket_and_rule() == {1}
