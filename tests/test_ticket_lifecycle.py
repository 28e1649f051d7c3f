"""The ticket's life: statuses, timestamps, replies moving it along, and what each action leaves
behind (one activity row, its signals after commit)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from escalated import signals
from escalated.errors import DomainError, ErrorCode, NotAllowed
from escalated.models import Status, Ticket, TicketActivity
from escalated.services import statuses, tickets
from tests.conftest import World


def _fresh(world: World, **kwargs: Any) -> Ticket:
    return tickets.ticket_create(actor=world.customer, subject="Printer on fire", **kwargs)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(Status.values, Status.values)))
def test_every_transition_keeps_timestamps_consistent(old: str, new: str) -> None:
    ticket = Ticket(status=old)
    # Start from a consistent state for `old`.
    from django.utils import timezone

    statuses.apply_status(ticket, old, timezone.now())

    statuses.apply_status(ticket, new, timezone.now())

    assert (ticket.resolved_at is not None) == (new in (Status.RESOLVED, Status.CLOSED))
    assert (ticket.closed_at is not None) == (new == Status.CLOSED)


def test_illegal_transition_is_refused_and_changes_nothing(world: World) -> None:
    tickets.ticket_close(ticket=world.ticket, actor=world.agent)
    activity_before = TicketActivity.objects.count()

    with pytest.raises(DomainError) as refused:
        tickets.ticket_status_change(
            ticket=world.ticket, actor=world.agent, status=Status.IN_PROGRESS
        )

    assert refused.value.problems[0].code is ErrorCode.INVALID_TRANSITION
    assert "closed" in str(refused.value) and "reopened" in str(refused.value)
    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.CLOSED
    assert TicketActivity.objects.count() == activity_before


@override_settings(ESCALATED={"STATUS_TRANSITIONS": {"closed": ["reopened", "open"]}})
def test_transitions_can_be_overridden_in_settings(world: World) -> None:
    tickets.ticket_close(ticket=world.ticket, actor=world.agent)

    ticket = tickets.ticket_status_change(ticket=world.ticket, actor=world.agent, status="open")

    assert ticket.status == Status.OPEN
    assert ticket.closed_at is None and ticket.resolved_at is None


def test_same_status_is_a_harmless_no_op(world: World) -> None:
    before = TicketActivity.objects.count()

    tickets.ticket_status_change(
        ticket=world.ticket, actor=world.agent, status=Status.WAITING_ON_CUSTOMER
    )

    assert TicketActivity.objects.count() == before


def test_first_agent_reply_sets_first_response_once(world: World) -> None:
    ticket = _fresh(world)
    assert ticket.first_response_at is None

    first = tickets.ticket_reply(ticket=ticket, author=world.agent, body="Hello")
    tickets.ticket_reply(ticket=ticket, author=world.admin, body="Also hello")

    ticket.refresh_from_db()
    assert ticket.first_response_at == first.created_at
    assert ticket.status == Status.WAITING_ON_CUSTOMER


def test_notes_and_customer_replies_do_not_count_as_first_response(world: World) -> None:
    ticket = _fresh(world)

    tickets.ticket_note_add(ticket=ticket, author=world.agent, body="Thinking")
    tickets.ticket_reply(ticket=ticket, author=world.customer, body="Still on fire")

    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == Status.OPEN


def test_customer_reply_hands_a_waiting_ticket_back_to_agents(world: World) -> None:
    assert world.ticket.status == Status.WAITING_ON_CUSTOMER

    tickets.ticket_reply(ticket=world.ticket, author=world.customer, body="Here you go")

    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.WAITING_ON_AGENT
    assert world.ticket.last_customer_message_at is not None


def test_customer_reply_reopens_a_resolved_ticket(world: World) -> None:
    tickets.ticket_resolve(ticket=world.ticket, actor=world.agent)

    tickets.ticket_reply(ticket=world.ticket, author=world.customer, body="Not fixed")

    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.REOPENED
    assert world.ticket.resolved_at is None and world.ticket.closed_at is None
    assert world.ticket.first_response_at is not None  # a reopen keeps the first response


def test_closed_tickets_take_no_replies(world: World) -> None:
    tickets.ticket_close(ticket=world.ticket, actor=world.customer)

    with pytest.raises(DomainError) as refused:
        tickets.ticket_reply(ticket=world.ticket, author=world.customer, body="Hello?")

    assert refused.value.problems[0].code is ErrorCode.TICKET_CLOSED


def test_close_without_resolve_sets_both_timestamps(world: World) -> None:
    ticket = tickets.ticket_close(ticket=world.ticket, actor=world.agent)

    assert ticket.closed_at is not None and ticket.resolved_at == ticket.closed_at


@override_settings(ESCALATED={"ALLOW_CUSTOMER_CLOSE": False})
def test_customers_cannot_close_when_the_setting_says_no(world: World) -> None:
    with pytest.raises(NotAllowed):
        tickets.ticket_close(ticket=world.ticket, actor=world.customer)


def test_customers_cannot_move_tickets_otherwise(world: World) -> None:
    with pytest.raises(NotAllowed):
        tickets.ticket_resolve(ticket=world.ticket, actor=world.customer)


def test_reopen_only_from_resolved_or_closed(world: World) -> None:
    with pytest.raises(DomainError):
        tickets.ticket_reopen(ticket=world.ticket, actor=world.customer)

    tickets.ticket_resolve(ticket=world.ticket, actor=world.agent)
    ticket = tickets.ticket_reopen(ticket=world.ticket, actor=world.customer)

    assert ticket.status == Status.REOPENED


def test_reply_html_is_sanitised(world: World) -> None:
    reply = tickets.ticket_reply(
        ticket=world.ticket,
        author=world.agent,
        body='<p onclick="steal()">Hi <script>alert(1)</script><a href="https://x.test">x</a></p>',
    )

    assert "script" not in reply.body and "onclick" not in reply.body
    assert 'href="https://x.test"' in reply.body


def test_assignee_must_be_an_agent_who_can_see_the_ticket(world: World) -> None:
    for wrong in (world.customer, world.outsider):
        with pytest.raises(DomainError) as refused:
            tickets.ticket_assign(ticket=world.ticket, actor=world.agent, assignee=wrong)
        assert refused.value.problems[0].code is ErrorCode.INVALID_ASSIGNEE

    ticket = tickets.ticket_assign(ticket=world.ticket, actor=world.agent, assignee=world.admin)
    assert ticket.assignee == world.admin


# --- one activity row, signals after commit ---------------------------------------------------


class Received:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def listen(self, *names: str) -> Received:
        for name in names:
            getattr(signals, name).connect(
                self._receiver(name), weak=False, dispatch_uid=f"test-{name}"
            )
        return self

    def _receiver(self, name: str) -> Any:
        def receive(sender: Any, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            self.calls.append((name, kwargs))

        return receive

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


ALL_SIGNALS = [
    "ticket_created",
    "ticket_updated",
    "ticket_status_changed",
    "ticket_assigned",
    "ticket_unassigned",
    "ticket_priority_changed",
    "ticket_escalated",
    "ticket_resolved",
    "ticket_closed",
    "ticket_reopened",
    "reply_created",
    "internal_note_added",
    "tag_added",
    "tag_removed",
    "department_changed",
]


@pytest.fixture
def received() -> Any:
    listener = Received().listen(*ALL_SIGNALS)
    yield listener
    for name in ALL_SIGNALS:
        getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


ACTIONS = [
    ("create", lambda w: _fresh(w), ["ticket_created"], "created"),
    (
        "reply",
        lambda w: tickets.ticket_reply(ticket=w.ticket, author=w.customer, body="x"),
        ["reply_created", "ticket_status_changed"],
        "replied",
    ),
    (
        "note",
        lambda w: tickets.ticket_note_add(ticket=w.ticket, author=w.agent, body="x"),
        ["internal_note_added"],
        "note_added",
    ),
    (
        "assign",
        lambda w: tickets.ticket_assign(ticket=w.ticket, actor=w.agent, assignee=w.agent),
        ["ticket_assigned"],
        "assigned",
    ),
    (
        "escalate",
        lambda w: tickets.ticket_escalate(ticket=w.ticket, actor=w.agent, reason="VIP"),
        ["ticket_status_changed", "ticket_escalated"],
        "status_changed",
    ),
    (
        "resolve",
        lambda w: tickets.ticket_resolve(ticket=w.ticket, actor=w.agent),
        ["ticket_status_changed", "ticket_resolved"],
        "status_changed",
    ),
    (
        "close",
        lambda w: tickets.ticket_close(ticket=w.ticket, actor=w.agent),
        ["ticket_status_changed", "ticket_closed"],
        "status_changed",
    ),
    (
        "priority",
        lambda w: tickets.ticket_priority_change(ticket=w.ticket, actor=w.agent, priority="urgent"),
        ["ticket_priority_changed"],
        "priority_changed",
    ),
    (
        "department",
        lambda w: tickets.ticket_department_change(
            ticket=w.ticket, actor=w.agent, department=w.sales
        ),
        ["department_changed"],
        "department_changed",
    ),
    (
        "tags",
        lambda w: tickets.ticket_tags_add(ticket=w.ticket, actor=w.agent, tags=[w.urgent]),
        ["tag_added"],
        "tags_changed",
    ),
    (
        "update",
        lambda w: tickets.ticket_update(ticket=w.ticket, actor=w.agent, subject="New"),
        ["ticket_updated"],
        "updated",
    ),
]


@pytest.mark.parametrize(
    ("name", "action", "expected", "verb"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
def test_each_action_writes_one_activity_and_signals_after_commit(
    world: World,
    received: Received,
    django_capture_on_commit_callbacks: Any,
    name: str,
    action: Any,
    expected: list[str],
    verb: str,
) -> None:
    before = TicketActivity.objects.count()

    with django_capture_on_commit_callbacks(execute=False) as pending:
        action(world)
        assert received.calls == [], "signals must wait for the commit"

    assert TicketActivity.objects.count() == before + 1
    assert TicketActivity.objects.latest("id").verb == verb
    for callback in pending:
        callback()
    assert received.names() == expected


def test_signal_arguments_follow_the_documented_names(
    world: World, received: Received, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_escalate(ticket=world.ticket, actor=world.agent, reason="VIP customer")

    (_, changed), (_, escalated) = received.calls
    assert changed == {
        "ticket": world.ticket,
        "user": world.agent,
        "old_status": "waiting_on_customer",
        "new_status": "escalated",
    }
    assert escalated["reason"] == "VIP customer"


def test_a_rolled_back_action_leaves_nothing(
    world: World, received: Received, django_capture_on_commit_callbacks: Any
) -> None:
    before = TicketActivity.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="urgent")
        raise RuntimeError("boom")

    world.ticket.refresh_from_db()
    assert world.ticket.priority == "medium"
    assert TicketActivity.objects.count() == before
    assert received.calls == []


def test_bulk_update_writes_one_activity_per_ticket(
    world: World, received: Received, django_capture_on_commit_callbacks: Any
) -> None:
    second = _fresh(world, department=world.billing)
    before = TicketActivity.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        results = tickets.tickets_bulk_update(
            tickets=[world.ticket, second],
            actor=world.agent,
            changes=tickets.BulkChanges(
                priority="high", status="in_progress", add_tags=(world.urgent,)
            ),
        )

    assert all(r.ok for r in results)
    assert TicketActivity.objects.count() == before + 2
    row = TicketActivity.objects.filter(ticket=second).latest("id")
    assert row.verb == "bulk_updated"
    assert row.before == {"priority": "medium", "status": "open"}
    assert row.after == {"priority": "high", "status": "in_progress", "tags_added": ["urgent"]}
    assert received.names().count("ticket_priority_changed") == 2


def test_bulk_update_reports_each_refusal_and_keeps_the_rest(world: World) -> None:
    closed = _fresh(world, department=world.billing)
    tickets.ticket_close(ticket=closed, actor=world.agent)

    results = tickets.tickets_bulk_update(
        tickets=[world.ticket, closed],
        actor=world.agent,
        changes=tickets.BulkChanges(priority="urgent", status="in_progress"),
    )

    assert results[0].ok
    assert results[1].problems[0].code is ErrorCode.INVALID_TRANSITION
    closed.refresh_from_db()
    assert closed.priority == "medium", "a refused ticket keeps every field as it was"
