"""check_sla: every breach and warning announced exactly once, through the event path, in a
number of statements that does not grow with the number of tickets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated import signals
from escalated.models import Delivery, Metric, SlaClock, TicketActivity
from escalated.services import tickets
from escalated.services.sla_check import sla_check
from tests.conftest import World, make_user
from tests.sla.conftest import clocks, make_policy, new_york_office, ny, targets

FIRST, RESOLUTION = Metric.FIRST_RESPONSE, Metric.RESOLUTION


class Heard:
    """What the SLA signals said, as (signal, ticket id, metric, remaining)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str, Any]] = []
        self.lock = threading.Lock()

    def breached(self, sender: Any, ticket: Any, breach_type: str, **kwargs: Any) -> None:
        with self.lock:
            self.calls.append(("breached", ticket.pk, breach_type, None))

    def warning(
        self, sender: Any, ticket: Any, warning_type: str, remaining: Any, **kwargs: Any
    ) -> None:
        with self.lock:
            self.calls.append(("warning", ticket.pk, warning_type, remaining))


@pytest.fixture
def heard() -> Iterator[Heard]:
    listener = Heard()
    signals.sla_breached.connect(listener.breached)
    signals.sla_warning.connect(listener.warning)
    yield listener
    signals.sla_breached.disconnect(listener.breached)
    signals.sla_warning.disconnect(listener.warning)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("check_sla", *args, stdout=out)
    return out.getvalue()


def _open(world: World, subject: str = "Help") -> Any:
    customer = make_user(f"c-{TicketActivity.objects.count()}-{subject}")
    return tickets.ticket_create(
        actor=world.agent, requester=customer, subject=subject, department=world.billing
    )


def test_a_breach_is_announced_once_with_an_activity_row(
    world: World,
    frozen: time_machine.Traveller,
    heard: Heard,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_policy(targets=targets(first=1, resolution=8))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 10, 1))

    with django_capture_on_commit_callbacks(execute=True):
        result = sla_check()

    assert (result.breaches, result.warnings) == (1, 0)
    assert heard.calls == [("breached", ticket.pk, FIRST, None)]
    row = TicketActivity.objects.get(verb="sla_breached")
    assert (row.ticket_id, row.actor, row.actor_label) == (ticket.pk, None, "sla")
    assert row.after == {"metric": FIRST, "due_at": "2025-03-03T15:00:00Z"}
    assert clocks(ticket)[FIRST].breached_at == ny(2025, 3, 3, 10)

    with django_capture_on_commit_callbacks(execute=True):
        again = sla_check()

    assert (again.breaches, again.warnings) == (0, 0)
    assert len(heard.calls) == 1, "running it twice in a row sends nothing the second time"


def test_a_warning_is_announced_once_inside_the_threshold(
    world: World,
    frozen: time_machine.Traveller,
    heard: Heard,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_policy(targets=targets(first=1))
    ticket = _open(world)

    frozen.move_to(ny(2025, 3, 3, 9, 20))  # 40 minutes left: outside the default 30
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check().warnings == 0
    frozen.move_to(ny(2025, 3, 3, 9, 45))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check().warnings == 1
    frozen.move_to(ny(2025, 3, 3, 9, 50))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check().warnings == 0

    assert heard.calls == [("warning", ticket.pk, FIRST, timedelta(minutes=15))]
    assert TicketActivity.objects.get(verb="sla_warning").after["remaining_seconds"] == 900


def test_warnings_count_business_time_when_the_target_does(
    world: World,
    frozen: time_machine.Traveller,
    heard: Heard,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_policy(schedule=new_york_office(), targets=targets(first=2, business=True))
    frozen.move_to(ny(2025, 3, 7, 16))  # Friday 16:00: due Monday 10:00
    ticket = _open(world)

    frozen.move_to(ny(2025, 3, 10, 9, 40))  # twenty minutes before it is due
    with django_capture_on_commit_callbacks(execute=True):
        sla_check()

    assert heard.calls == [("warning", ticket.pk, FIRST, timedelta(minutes=20))]


def test_the_command_takes_a_threshold_and_says_what_it_did(
    world: World,
    frozen: time_machine.Traveller,
    heard: Heard,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_policy(targets=targets(first=2, resolution=3))
    _open(world)
    frozen.move_to(ny(2025, 3, 3, 10))

    with django_capture_on_commit_callbacks(execute=True):
        assert "0 breach(es) and 0 warning(s)" in _run("--warning-threshold", "30")
    with django_capture_on_commit_callbacks(execute=True):
        assert "0 breach(es) and 1 warning(s)" in _run("--warning-threshold", "90")
    with django_capture_on_commit_callbacks(execute=True):
        assert "0 breach(es) and 1 warning(s)" in _run("--warning-threshold", "150")
    frozen.move_to(ny(2025, 3, 3, 12))
    with django_capture_on_commit_callbacks(execute=True):
        assert "2 breach(es) and 0 warning(s)" in _run("--warning-threshold", "0")

    assert [call[0] for call in heard.calls] == ["warning", "warning", "breached", "breached"]


def test_verbosity_2_names_each_ticket_announced(
    world: World, frozen: time_machine.Traveller, django_capture_on_commit_callbacks: Any
) -> None:
    make_policy(targets=targets(first=2, resolution=3))
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):
        warned = _run("--warning-threshold", "90", "-v", "2")
    frozen.move_to(ny(2025, 3, 3, 12))
    with django_capture_on_commit_callbacks(execute=True):
        quiet = _run("--warning-threshold", "0")
    frozen.move_to(ny(2025, 3, 3, 16))
    with django_capture_on_commit_callbacks(execute=True):
        nothing_new = _run("-v", "2")

    assert f"  {ticket.reference} warning first_response" in warned.splitlines()
    assert ticket.reference not in quiet  # -v 1 keeps to the summary
    assert "0 breach(es) and 0 warning(s)" in nothing_new
    assert ticket.reference not in nothing_new


def test_a_paused_clock_is_neither_warned_nor_breached(
    world: World, frozen: time_machine.Traveller, heard: Heard
) -> None:
    make_policy(targets=targets(resolution=1))
    ticket = _open(world)
    tickets.ticket_status_change(ticket=ticket, actor=world.agent, status="waiting_on_customer")
    frozen.move_to(ny(2025, 3, 4, 9))

    assert (sla_check().breaches, sla_check().warnings) == (0, 0)


def test_a_retargeted_clock_can_breach_again_but_an_announced_one_is_kept(
    world: World,
    frozen: time_machine.Traveller,
    heard: Heard,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_policy(
        targets={
            FIRST: {
                "medium": {"seconds": 3600, "business_hours": False},
                "low": {"seconds": 4 * 3600, "business_hours": False},
                "urgent": {"seconds": 1800, "business_hours": False},
            }
        }
    )
    ticket = _open(world)
    frozen.move_to(ny(2025, 3, 3, 10, 5))
    with django_capture_on_commit_callbacks(execute=True):
        sla_check()
    ticket = tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="urgent")
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check().breaches == 0, "still breached under the new target: announced already"

    ticket = tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="low")
    assert clocks(ticket)[FIRST].breached_at is None  # 13:00 is still ahead
    frozen.move_to(ny(2025, 3, 3, 13, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_check().breaches == 1

    assert [c[0] for c in heard.calls] == ["breached", "breached"]


def test_a_negative_threshold_is_refused(world: World) -> None:
    with pytest.raises(CommandError, match="0 or more minutes"):
        _run("--warning-threshold", "-5")


def test_a_disabled_sla_checks_nothing(world: World, settings: Any) -> None:
    settings.ESCALATED = {"SLA": {"ENABLED": False}}
    assert "disabled" in _run()


def _overdue_world(world: World, frozen: time_machine.Traveller, count: int) -> None:
    frozen.move_to(ny(2025, 3, 3, 9))
    make_policy(targets=targets(first=1, resolution=2), schedule=new_york_office())
    for n in range(count):
        _open(world, f"t{n}")
    # first response overdue on all; resolution inside the warning window on all
    frozen.move_to(ny(2025, 3, 3, 10, 45))


@pytest.mark.parametrize("count", [5, 50])
def test_statements_do_not_grow_with_the_number_of_tickets(
    world: World,
    frozen: time_machine.Traveller,
    heard: Heard,
    count: int,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _overdue_world(world, frozen, count)
    queued = Delivery.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        result = sla_check()

    assert (result.breaches, result.warnings) == (count, count)
    assert len(heard.calls) == 2 * count
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    inserts = [sql for sql in statements if sql.startswith("INSERT")]
    # Claim breaches, claim warnings, load the claimed clocks with their tickets (assignee,
    # department), policies and schedules; then, for the notifications, read the active webhook
    # endpoints, the departments' agents and the one agent's role, each once.
    assert len(statements) - len(inserts) == 6, statements
    # One INSERT for the activity rows and one for the outbox rows (SQLite splits long INSERTs
    # into batches of as many rows as its parameter limit allows).
    deliveries = Delivery.objects.count() - queued
    assert deliveries == 2 * count  # each announcement emails the billing agent
    assert len(inserts) == _batches(TicketActivity, 2 * count) + _batches(Delivery, deliveries)


def _batches(model: Any, rows: int) -> int:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    size = connection.ops.bulk_batch_size(fields, [model()] * rows) or rows
    return -(-rows // size)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_announce_each_breach_once(on_postgres: None, heard: Heard) -> None:
    from escalated.models import Department

    agent = make_user("agent")
    billing = Department.objects.create(name="Billing", slug="billing")
    billing.agents.add(agent)
    with time_machine.travel(ny(2025, 3, 3, 9), tick=False):
        make_policy(targets=targets(first=1, resolution=2))
        for n in range(60):
            tickets.ticket_create(
                actor=agent,
                requester=make_user(f"customer{n}"),
                subject=f"t{n}",
                department=billing,
            )
    start = threading.Barrier(4)
    results = []

    def sweep() -> None:
        try:
            start.wait()
            results.append(sla_check(now=ny(2025, 3, 3, 10, 45)))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.breaches for r in results) == 60
    assert sum(r.warnings for r in results) == 60
    overdue = SlaClock.objects.filter(metric=FIRST).values_list("ticket_id", flat=True)
    announced = [call[1] for call in heard.calls if call[0] == "breached"]
    assert sorted(announced) == sorted(overdue), "each breach announced exactly once"
    assert len(heard.calls) == 120
    assert TicketActivity.objects.filter(verb__in=["sla_breached", "sla_warning"]).count() == 120
