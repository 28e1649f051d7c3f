"""The polling worker's pacing: it rests in proportion to its work, and refuses odd settings."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from escalated.management.commands.escalated_worker import rest_after


def test_the_rest_makes_work_the_duty_cycles_share_of_the_time() -> None:
    assert rest_after(0.2, 0.5) == pytest.approx(0.2)
    assert rest_after(0.1, 0.25) == pytest.approx(0.3)
    assert rest_after(0.3, 1) == 0
    assert rest_after(-1, 0.5) == 0  # a clock step backwards rests nothing


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--duty-cycle", "0"], "--duty-cycle"),
        (["--duty-cycle", "1.5"], "--duty-cycle"),
        (["--nice", "-1"], "--nice"),
        (["--nice", "20"], "--nice"),
    ],
)
def test_a_duty_cycle_or_niceness_out_of_range_is_refused(
    arguments: list[str], message: str, db: Any
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("escalated_worker", "--once", *arguments)


def test_the_settings_refuse_a_duty_cycle_or_niceness_out_of_range(settings: Any) -> None:
    from escalated.conf import OUTBOX

    assert OUTBOX["WORKER_DUTY_CYCLE"].check(0) is not None
    assert OUTBOX["WORKER_DUTY_CYCLE"].check(0.5) is None
    assert OUTBOX["WORKER_NICE"].check(20) is not None
    assert OUTBOX["WORKER_NICE"].check(10) is None


def test_the_time_spent_waiting_on_a_slow_peer_is_reported_apart_from_the_work(
    receiver: Any, db: Any
) -> None:
    """The worker rests in proportion to its own work, not to the peer's: a slow hub or mail
    server makes it wait, which takes no CPU from the site's requests."""
    from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Webhook
    from escalated.services import outbox
    from escalated.services import tickets as service
    from tests.conftest import make_user

    ticket = service.ticket_create(actor=make_user("cora"), subject="Slow peer")
    hook = Webhook.objects.create(url=receiver.url, secret="s" * 20)
    Delivery.objects.all().delete()
    Delivery.objects.bulk_create(
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event="ticket.updated",
            ticket=ticket,
            webhook=hook,
            recipient=receiver.url,
        )
        for _ in range(3)
    )
    receiver.delay = 0.2

    began = time.monotonic()
    report = outbox.deliver()
    took = time.monotonic() - began

    assert report.delivered == 3 and len(receiver.calls) == 3
    assert report.waited >= 3 * 0.2
    assert report.waited <= took
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_while_the_sync_pushes_rest_the_other_kinds_are_still_sent(receiver: Any, db: Any) -> None:
    """The worker claims with the paced kinds skipped while their rest lasts: a hub backlog's
    pacing holds back the hub's events, not the webhooks (or emails) queued beside them."""
    from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Webhook
    from escalated.services import outbox
    from escalated.services import tickets as service
    from tests.conftest import make_user

    ticket = service.ticket_create(actor=make_user("cora"), subject="Backlog")
    hook = Webhook.objects.create(url=receiver.url, secret="s" * 20)
    Delivery.objects.all().delete()
    Delivery.objects.bulk_create(
        [
            *(
                Delivery(
                    kind=DeliveryKind.HUB,
                    event="reply.created",
                    ticket=ticket,
                    recipient="https://hub.example/events",
                    sequence=n,
                    payload={},
                )
                for n in range(1, 4)
            ),
            Delivery(
                kind=DeliveryKind.WEBHOOK,
                event="ticket.updated",
                ticket=ticket,
                webhook=hook,
                recipient=receiver.url,
            ),
        ]
    )

    report = outbox.deliver(skip_kinds=["hub", "site"])

    assert (report.delivered, report.kinds) == (1, {"webhook": 1})
    assert report.share_of(["hub", "site"]) == 0
    assert len(receiver.calls) == 1
    hub_rows = Delivery.objects.filter(kind=DeliveryKind.HUB)
    assert set(hub_rows.values_list("status", "attempts")) == {(DeliveryStatus.PENDING, 0)}


def test_a_batchs_paced_share_counts_its_rows_by_kind() -> None:
    from escalated.services.outbox import Report

    report = Report(delivered=3, retrying=1, kinds={"hub": 3, "email": 1})

    assert report.share_of(["hub", "site"]) == 0.75
    assert report.share_of([]) == 0
    assert Report().share_of(["hub"]) == 0


def test_the_paced_kinds_must_be_delivery_kinds() -> None:
    from escalated.conf import OUTBOX

    assert OUTBOX["WORKER_PACED_KINDS"].check(["hub", "site"]) is None
    assert OUTBOX["WORKER_PACED_KINDS"].check(["email", "webhook"]) is None
    assert OUTBOX["WORKER_PACED_KINDS"].check(["sms"]) is not None
    assert OUTBOX["WORKER_PACED_KINDS"].check("hub") is not None
