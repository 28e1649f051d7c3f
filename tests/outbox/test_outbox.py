"""The outbox engine: retry schedule, claims and leases, idempotent writes, the worker command."""

from __future__ import annotations

import socket
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from escalated.models import Delivery, DeliveryKind, DeliveryStatus
from escalated.services import outbox
from escalated.services import tickets as service
from tests.conftest import World, data_of, gid
from tests.outbox.peers import SmtpSink


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _email_row(world: World, **extra: Any) -> Delivery:
    return Delivery.objects.create(
        kind=DeliveryKind.EMAIL,
        event="ticket.created",
        ticket=world.ticket,
        recipient_user=world.agent,
        recipient=world.agent.email,
        payload={"template": "ticket_created", "actor": "Cora Customer"},
        **extra,
    )


def test_retry_delays_double_with_jitter_up_to_the_cap(settings: Any) -> None:
    settings.ESCALATED = {"OUTBOX": {"RETRY_BASE_SECONDS": 30, "RETRY_MAX_SECONDS": 600}}

    low = [outbox.retry_delay(n, jitter=0.0).total_seconds() for n in range(1, 8)]
    high = [outbox.retry_delay(n, jitter=1.0).total_seconds() for n in range(1, 8)]

    assert low == [15, 30, 60, 120, 240, 300, 300]
    assert high == [30, 60, 120, 240, 480, 600, 600]


def test_failures_follow_the_schedule_then_fail_and_an_admin_retry_delivers(
    helpdesk: World, smtp: SmtpSink, settings: Any, gql: Any, commit: Any
) -> None:
    settings.ESCALATED = {
        "OUTBOX": {"DELIVERY": "worker", "MAX_ATTEMPTS": 4, "RETRY_BASE_SECONDS": 10}
    }
    settings.EMAIL_PORT = _closed_port()  # the mail server is down
    row = _email_row(helpdesk)
    start = row.next_attempt_at
    half = lambda: 0.5  # noqa: E731

    schedule = []
    at = start
    for _ in range(4):
        assert outbox.deliver(now=at - timedelta(seconds=1), jitter=half).attempted == 0
        report = outbox.deliver(now=at, jitter=half)
        row.refresh_from_db()
        schedule.append((report.retrying, report.failed, row.attempts, row.next_attempt_at - at))
        at = row.next_attempt_at

    # 10 s doubling, each scaled by jitter 0.5 into 75%: 7.5 s, 15 s, 30 s, then out of attempts.
    assert schedule == [
        (1, 0, 1, timedelta(seconds=7.5)),
        (1, 0, 2, timedelta(seconds=15)),
        (1, 0, 3, timedelta(seconds=30)),
        (0, 1, 4, timedelta(0)),
    ]
    assert row.status == DeliveryStatus.FAILED
    assert "Connection refused" in row.last_error

    failed = data_of(
        gql(
            "{ deliveries(first: 5, filter: {status: [FAILED]}) "
            "{ totalCount edges { node { id attempts lastError } } } }",
            user=helpdesk.admin,
        )
    )["deliveries"]
    assert failed["totalCount"] == 1
    assert failed["edges"][0]["node"]["attempts"] == 4

    settings.EMAIL_PORT = smtp.port  # the mail server is back
    settings.ESCALATED = {"OUTBOX": {"MAX_ATTEMPTS": 4}}
    with commit():
        result = gql(
            "mutation($input: DeliveryRetryInput!) { deliveryRetry(input: $input) "
            "{ delivery { status } errors { code } } }",
            {"input": {"id": gid(row)}},
            user=helpdesk.admin,
        )
    assert data_of(result)["deliveryRetry"] == {"delivery": {"status": "PENDING"}, "errors": []}
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 5)
    assert smtp.wait_for(1)[0]["To"] == "alan@example.com"


def test_a_delivered_row_cannot_be_retried(helpdesk: World, gql: Any) -> None:
    row = _email_row(helpdesk, status=DeliveryStatus.DELIVERED)

    result = gql(
        "mutation($input: DeliveryRetryInput!) { deliveryRetry(input: $input) "
        "{ delivery { status } errors { code field } } }",
        {"input": {"id": gid(row)}},
        user=helpdesk.admin,
    )

    assert data_of(result)["deliveryRetry"]["errors"] == [
        {"code": "ALREADY_DELIVERED", "field": "id"}
    ]


def test_claims_never_overlap_and_a_lapsed_lease_gives_the_row_back(
    helpdesk: World, settings: Any
) -> None:
    settings.ESCALATED = {"OUTBOX": {"LEASE_SECONDS": 60}}
    rows = [_email_row(helpdesk) for _ in range(3)]
    now = timezone.now()

    first = outbox.claim(limit=2, now=now)
    second = outbox.claim(limit=2, now=now)
    assert [r.pk for r in first] == [rows[0].pk, rows[1].pk]
    assert [r.pk for r in second] == [rows[2].pk]
    assert outbox.claim(now=now) == []

    # The first worker died mid-send: after its lease the rows are due again, for someone else.
    again = outbox.claim(now=now + timedelta(seconds=61))
    assert {r.pk for r in again} == {rows[0].pk, rows[1].pk, rows[2].pk}
    assert {r.attempts for r in again} == {2}

    # The dead worker's late outcome no longer counts: the claim moved on.
    outbox.attempt(first[0])
    stale = Delivery.objects.get(pk=rows[0].pk)
    assert (stale.status, stale.claim_token) == (DeliveryStatus.SENDING, again[0].claim_token)


def test_enqueueing_the_same_key_twice_writes_one_row(helpdesk: World) -> None:
    def row() -> Delivery:
        return Delivery(
            kind=DeliveryKind.EMAIL,
            event="sla.breached",
            ticket=helpdesk.ticket,
            recipient=helpdesk.agent.email,
            idempotency_key="sla-breached-1-first-response-1",
            payload={"template": "sla_breached"},
        )

    outbox.enqueue([row()])
    outbox.enqueue([row()])

    assert Delivery.objects.count() == 1


def test_worker_mode_leaves_the_sending_to_escalated_worker(
    helpdesk: World, smtp: SmtpSink, settings: Any, commit: Any
) -> None:
    settings.ESCALATED = {"OUTBOX": {"DELIVERY": "worker"}}
    with commit():
        service.ticket_create(actor=helpdesk.customer, subject="Hi", department=helpdesk.billing)
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert smtp.messages == []

    out = StringIO()
    call_command("escalated_worker", "--once", stdout=out)

    assert out.getvalue().strip() == "delivered 1, retrying 0, failed 0"
    assert smtp.wait_for(1)[0]["To"] == "alan@example.com"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_an_embedded_commit_also_sends_retries_that_fell_due(
    helpdesk: World, smtp: SmtpSink, commit: Any
) -> None:
    waiting = _email_row(helpdesk, attempts=1, last_error="Connection refused")

    with commit():
        service.ticket_resolve(ticket=helpdesk.ticket, actor=helpdesk.agent)

    assert {m["To"] for m in smtp.wait_for(2)} == {"alan@example.com", "cora@example.com"}
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_a_deleted_ticket_fails_its_deliveries_for_good(helpdesk: World) -> None:
    row = _email_row(helpdesk)
    row.ticket = None
    row.save()

    assert outbox.deliver().failed == 1
    row.refresh_from_db()
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, "The ticket no longer exists.")


@pytest.mark.parametrize("mode", ["immediate", "worker"])
def test_rows_carry_what_the_message_is_built_from(
    helpdesk: World, settings: Any, mode: str
) -> None:
    settings.ESCALATED = {"OUTBOX": {"DELIVERY": mode}}

    reply = service.ticket_reply(ticket=helpdesk.ticket, author=helpdesk.agent, body="Hi")

    row = Delivery.objects.get()
    assert row.payload == {
        "template": "agent_reply",
        "reply_id": reply.pk,
        "actor": "Alan Agent",
        "before": {},
        "after": {"reply_id": reply.pk},
    }
    assert row.content is None  # built at the first attempt, after the commit


def test_purge_deliveries_keeps_what_is_recent_or_still_to_send(helpdesk: World) -> None:
    long_ago = timezone.now() - timedelta(days=100)
    old_done = _email_row(helpdesk, status=DeliveryStatus.DELIVERED)
    old_failed = _email_row(helpdesk, status=DeliveryStatus.FAILED)
    old_pending = _email_row(helpdesk)
    recent_done = _email_row(helpdesk, status=DeliveryStatus.DELIVERED)
    Delivery.objects.exclude(pk=recent_done.pk).update(updated_at=long_ago)

    dry = StringIO()
    call_command("purge_deliveries", "--dry-run", stdout=dry)
    assert Delivery.objects.count() == 4
    out = StringIO()
    call_command("purge_deliveries", "--days", "30", stdout=out)
    again = StringIO()
    call_command("purge_deliveries", stdout=again)

    assert dry.getvalue().splitlines() == [
        "would delete 1 delivered deliveries",
        "would delete 1 failed deliveries",
    ]
    assert out.getvalue().splitlines() == [
        "deleted 1 delivered deliveries",
        "deleted 1 failed deliveries",
    ]
    assert again.getvalue().splitlines() == [
        "deleted 0 delivered deliveries",
        "deleted 0 failed deliveries",
    ]
    assert set(Delivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent_done.pk}
    assert not Delivery.objects.filter(pk__in=[old_done.pk, old_failed.pk]).exists()
