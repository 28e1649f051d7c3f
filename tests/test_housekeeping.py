"""close_resolved and purge_activities: they act through the services, print what they did, and
change nothing more when run again."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalated import signals
from escalated.access import SystemActor
from escalated.models import Status, Ticket, TicketActivity
from escalated.services import housekeeping, tickets
from tests.conftest import World


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def _resolved(world: World, subject: str, days_ago: float) -> Ticket:
    ticket = tickets.ticket_create(actor=world.customer, subject=subject, department=world.billing)
    tickets.ticket_resolve(ticket=ticket, actor=world.agent)
    resolved_at = timezone.now() - timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=resolved_at)
    ticket.refresh_from_db()
    return ticket


def _status(ticket: Ticket) -> str:
    ticket.refresh_from_db()
    return ticket.status


# --- close_resolved ---------------------------------------------------------------------------


def test_close_resolved_closes_old_resolved_tickets_through_the_services(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    old = _resolved(world, "Old", days_ago=10)
    recent = _resolved(world, "Recent", days_ago=2)
    heard: list[Any] = []

    def receiver(sender: Any, ticket: Any, user: Any, **kwargs: Any) -> None:
        heard.append((ticket.reference, user))

    signals.ticket_closed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            output = _run("close_resolved")
    finally:
        signals.ticket_closed.disconnect(receiver)

    assert (_status(old), _status(recent)) == (Status.CLOSED, Status.RESOLVED)
    assert f"Closed {old.reference}" in output
    assert "Closed 1 ticket resolved more than 7 days ago" in output
    row = TicketActivity.objects.filter(ticket=old).latest("id")
    assert (row.verb, row.actor_label, row.after) == (
        "status_changed",
        "command:close_resolved",
        {"status": "closed"},
    )
    assert heard == [(old.reference, None)]
    assert (
        old.resolved_at is not None and Ticket.objects.get(pk=old.pk).resolved_at == old.resolved_at
    )


def test_close_resolved_is_safe_to_run_again(world: World) -> None:
    _resolved(world, "Old", days_ago=10)
    _run("close_resolved")
    activity = TicketActivity.objects.count()

    again = _run("close_resolved")

    assert "Closed 0 tickets" in again
    assert TicketActivity.objects.count() == activity


def test_close_resolved_dry_run_changes_nothing(world: World) -> None:
    old = _resolved(world, "Old", days_ago=10)
    activity = TicketActivity.objects.count()

    output = _run("close_resolved", "--dry-run")

    assert f"Would close {old.reference}" in output and "Would close 1 ticket" in output
    assert _status(old) == Status.RESOLVED
    assert TicketActivity.objects.count() == activity


def test_days_can_be_given_and_default_from_the_setting(world: World) -> None:
    recent = _resolved(world, "Recent", days_ago=2)

    with override_settings(ESCALATED={"AUTO_CLOSE_RESOLVED_AFTER_DAYS": 3}):
        _run("close_resolved")
    assert _status(recent) == Status.RESOLVED

    _run("close_resolved", "--days", "1")
    assert _status(recent) == Status.CLOSED


@override_settings(ESCALATED={"AUTO_CLOSE_RESOLVED_AFTER_DAYS": None})
def test_auto_close_off_in_settings_closes_nothing(world: World) -> None:
    old = _resolved(world, "Old", days_ago=100)

    output = _run("close_resolved")

    assert "Auto-close is off" in output
    assert _status(old) == Status.RESOLVED


def test_a_ticket_reopened_after_it_was_chosen_is_left_open(world: World) -> None:
    old = _resolved(world, "Old", days_ago=10)
    cutoff = timezone.now() - timedelta(days=7)
    chosen = list(housekeeping.resolved_before(cutoff).values_list("pk", flat=True))
    tickets.ticket_reopen(ticket=old, actor=world.customer)

    closed = housekeeping.resolved_ticket_close(
        ticket_id=chosen[0], actor=SystemActor("command:close_resolved"), cutoff=cutoff
    )

    assert closed is None
    assert _status(old) == Status.REOPENED


@override_settings(ESCALATED={"STATUS_TRANSITIONS": {"resolved": ["reopened"]}})
def test_tickets_the_rules_will_not_close_are_reported(world: World) -> None:
    old = _resolved(world, "Old", days_ago=10)

    with pytest.raises(CommandError, match=old.reference):
        _run("close_resolved")

    assert _status(old) == Status.RESOLVED


@pytest.mark.parametrize("size", [3, 30])
def test_choosing_candidates_is_set_based(world: World, size: int) -> None:
    for n in range(size):
        _resolved(world, f"Old {n}", days_ago=10)

    with CaptureQueriesContext(connection) as queries:
        output = _run("close_resolved", "--dry-run")

    assert f"Would close {size} tickets" in output
    assert len(queries) == 2, "one batch of candidates, and the check for a further batch"


# --- purge_activities -------------------------------------------------------------------------


def _age_activities(world: World, days: int) -> int:
    """Add two more notes to the world's history (created, replied, noted), make every activity
    row so far ``days`` old, and return how many rows that is."""
    for body in ("Second note", "Third note"):
        tickets.ticket_note_add(ticket=world.ticket, author=world.agent, body=body)
    return TicketActivity.objects.update(created_at=timezone.now() - timedelta(days=days))


def test_purge_deletes_old_rows_in_batches_and_keeps_new_ones(world: World) -> None:
    old = _age_activities(world, 100)
    tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")
    assert old == 5

    output = _run("purge_activities", "--days", "90", "--batch-size", "2", "-v", "2")

    assert "Batch 1: deleted 2 rows." in output and "Batch 2: deleted 1 rows." in output
    assert "Deleted 3 activity rows written more than 90 days ago" in output
    assert "in 2 batches" in output
    # The status history stays, however old: SLA clocks are replayed from it.
    assert list(TicketActivity.objects.values_list("verb", flat=True)) == [
        "created",
        "replied",
        "priority_changed",
    ]


def test_purge_is_safe_to_run_again_and_has_a_dry_run(world: World) -> None:
    _age_activities(world, 100)

    dry = _run("purge_activities", "--days", "90", "--dry-run")
    assert "Would delete 3 activity rows" in dry and TicketActivity.objects.count() == 5

    _run("purge_activities", "--days", "90")
    again = _run("purge_activities", "--days", "90")

    assert "Deleted 0 activity rows" in again and "in 0 batches" in again
    assert TicketActivity.objects.count() == 2


def test_purge_needs_days_unless_the_setting_gives_them(world: World) -> None:
    _age_activities(world, 40)

    with pytest.raises(CommandError, match="ACTIVITY_RETENTION_DAYS"):
        _run("purge_activities")
    with override_settings(ESCALATED={"ACTIVITY_RETENTION_DAYS": 30}):
        output = _run("purge_activities")

    assert "Deleted 3 activity rows written more than 30 days ago" in output


@pytest.mark.parametrize("args", [["--days", "0"], ["--days", "5", "--batch-size", "0"]])
def test_purge_refuses_nonsense(world: World, args: list[str]) -> None:
    with pytest.raises(CommandError, match="at least 1"):
        _run("purge_activities", *args)
