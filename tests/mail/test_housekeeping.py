"""purge_inbound_emails, stuck messages, and the signed Reply-To our own emails carry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from escalated.mail import processing
from escalated.mail.store import inbound_store
from escalated.models import Delivery, InboundEmail, InboundStatus, Ticket
from escalated.services import outbox
from escalated.services import tickets as ticket_service
from tests.conftest import World
from tests.mail.messages import message


def test_purge_deletes_old_records_and_their_raw_files(
    helpdesk: World, deliver: Any, inbound_on: Any, capsys: Any
) -> None:
    deliver(message(subject="old", message_id="<old@mail.example.com>"))
    deliver(message(subject="new", message_id="<new@mail.example.com>"))
    old = InboundEmail.objects.get(message_id="<old@mail.example.com>")
    InboundEmail.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    ticket = old.ticket

    call_command("purge_inbound_emails", "--days", "30")

    assert "deleted 1 inbound emails" in capsys.readouterr().out
    assert list(InboundEmail.objects.values_list("message_id", flat=True)) == [
        "<new@mail.example.com>"
    ]
    assert not (inbound_on / old.raw_name).exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()  # the ticket it made stays


def test_purge_needs_days(helpdesk: World) -> None:
    with pytest.raises(CommandError):
        call_command("purge_inbound_emails", "--days", "0")


def test_a_stuck_message_is_processed_by_the_next_sweep(helpdesk: World) -> None:
    # Stored, but the process died before its after-commit processing ran (no commit here).
    stored = inbound_store(provider="imap", raw=bytes(message(subject="stuck")))
    assert stored.inbound.status == InboundStatus.RECEIVED

    sweep = processing.STUCK_AFTER
    assert processing.inbound_process_pending(older_than=sweep) == 0  # its own may be running
    later = timezone.now() + sweep + timedelta(seconds=1)
    assert processing.inbound_process_pending(older_than=sweep, now=later) == 1

    stored.inbound.refresh_from_db()
    assert stored.inbound.status == InboundStatus.PROCESSED


def test_our_emails_carry_a_signed_reply_to_that_threads_back(
    helpdesk: World, deliver: Any, commit: Any
) -> None:
    ticket = helpdesk.ticket
    with commit():
        ticket_service.ticket_reply(ticket=ticket, author=helpdesk.agent, body="<p>Try now.</p>")
    row = Delivery.objects.filter(ticket=ticket, payload__template="agent_reply").latest("pk")
    content = outbox._channel(row.kind).build(row)
    reply_to = content["headers"]["Reply-To"]
    assert reply_to.startswith(f"support+{ticket.pk}-")

    deliver(message(subject="Re: something else entirely", to=reply_to, text="Works, thanks."))

    assert InboundEmail.objects.get().reply.ticket == ticket


def test_no_reply_to_while_inbound_email_is_off(world: World, commit: Any) -> None:
    with commit():
        ticket_service.ticket_reply(ticket=world.ticket, author=world.agent, body="<p>Hi</p>")
    row = Delivery.objects.filter(ticket=world.ticket, payload__template="agent_reply").latest("pk")
    assert "Reply-To" not in outbox._channel(row.kind).build(row)["headers"]


def test_in_worker_mode_the_worker_processes_stored_mail(
    helpdesk: World, deliver: Any, settings: Any, capsys: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "OUTBOX": {"DELIVERY": "worker"}}
    deliver(message(subject="for the worker"))
    assert InboundEmail.objects.get().status == InboundStatus.RECEIVED

    call_command("escalated_worker", "--once")

    assert "processed 1 inbound emails" in capsys.readouterr().out
    assert InboundEmail.objects.get().status == InboundStatus.PROCESSED
