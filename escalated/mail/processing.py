"""Turn a stored message into a ticket or a reply, through the services.

Each attempt runs in one transaction with the row locked: the ticket or reply it makes, the
timeline row, the outbox rows and the record's new status commit together, or not at all. A
failure rolls all of it back (files written meanwhile are deleted again) and leaves the row
``failed`` with the error, ready for :func:`inbound_email_retry`; a processed, ignored or bounced
row is never processed again, so retries and redeliveries cannot double anything.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from escalated import events
from escalated.access import TicketAction, require_admin, require_ticket_action
from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode, NotAllowed
from escalated.mail.bodies import reply_body, ticket_body
from escalated.mail.parsing import ParsedEmail, parse
from escalated.mail.store import inbound_raw
from escalated.mail.threading import Thread, thread_of
from escalated.models import (
    Channel,
    GuestAccess,
    InboundEmail,
    InboundStatus,
    Reply,
    Status,
    Ticket,
)
from escalated.services import guests, participants
from escalated.services import tickets as ticket_service
from escalated.services.attachments import attachments_check
from escalated.services.text import MAX_BODY, MAX_SUBJECT

logger = logging.getLogger(__name__)

RETRYABLE = (InboundStatus.RECEIVED, InboundStatus.FAILED)
# A message still "received" this long after it arrived lost its processing (a crash).
STUCK_AFTER = timedelta(minutes=2)
PENDING_BATCH = 200
_OUTCOME_FIELDS = ["status", "reason", "ticket", "reply", "error", "attempts", "processed_at"]


def inbound_process(inbound_id: int) -> InboundEmail:
    """Process one stored message, unless it was already; return its row as it now stands."""
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().get(pk=inbound_id)
        if inbound.status not in RETRYABLE:
            return inbound
        inbound.attempts += 1
        try:
            with transaction.atomic():
                _process(inbound, parse(inbound_raw(inbound)))
        except Exception as error:
            logger.warning("Inbound email %s failed: %s", inbound.pk, error, exc_info=True)
            inbound.status, inbound.error = InboundStatus.FAILED, f"{type(error).__name__}: {error}"
            inbound.ticket, inbound.reply = None, None
        else:
            inbound.error = ""
        inbound.processed_at = timezone.now()
        inbound.save(update_fields=[*_OUTCOME_FIELDS, "updated_at"])
    return inbound


def _process(inbound: InboundEmail, email: ParsedEmail) -> None:
    if email.verdict is not None:
        inbound.status, inbound.reason = email.verdict
        return
    if not email.sender:
        inbound.status, inbound.reason = InboundStatus.IGNORED, "no sender address"
        return
    thread = thread_of(email)
    files, refused = _checked_files(email)
    if thread.ticket is not None and _can_continue(thread):
        ticket, reply = thread.ticket, _reply(thread, email, files)
    else:
        created = _new_ticket(thread.user, email, files)
        if created is None:
            inbound.status = InboundStatus.IGNORED
            inbound.reason = "unknown sender, and guest tickets are off"
            return
        ticket, reply = created, None
    copied = participants.ticket_participants_add(
        ticket=ticket, copied=email.cc, sender=email.sender, inbound_email=inbound
    )
    events.record(
        events.EmailReceived(
            ticket=ticket,
            actor=thread.actor if reply is not None else _creator(ticket, thread.user),
            inbound_email_id=inbound.pk,
            sender=email.sender,
            message_id=inbound.message_id,
            reply=reply,
            refused=tuple(refused),
            participants=tuple(p.email for p in copied),
        )
    )
    inbound.status, inbound.reason = InboundStatus.PROCESSED, ""
    inbound.ticket, inbound.reply = ticket, reply


def _creator(ticket: Ticket, user: Any) -> Any:
    """Who opened the ticket: the sender's account, or the guest the message made."""
    if user is not None:
        return user
    return guests.guest_actor(GuestAccess.objects.get(ticket=ticket))


def _can_continue(thread: Thread) -> bool:
    """A closed ticket takes the reply once whoever wrote may reopen it; a guest, who may not,
    opens a new ticket instead."""
    assert thread.ticket is not None
    if thread.ticket.status != Status.CLOSED:
        return True
    try:
        require_ticket_action(thread.actor, thread.ticket, TicketAction.REOPEN)
    except NotAllowed:
        return False
    return True


def _reply(thread: Thread, email: ParsedEmail, files: list[Any]) -> Reply:
    ticket = thread.ticket
    assert ticket is not None
    if ticket.status == Status.CLOSED:
        ticket = ticket_service.ticket_reopen(ticket=ticket, actor=thread.actor)
    # Always a public reply: an agent's email answers the customer, never becomes a note.
    return ticket_service.ticket_reply(
        ticket=ticket, author=thread.actor, body=reply_body(email)[:MAX_BODY], attachments=files
    )


def _new_ticket(user: Any, email: ParsedEmail, files: list[Any]) -> Ticket | None:
    subject = (email.subject or "(no subject)")[:MAX_SUBJECT]
    description = ticket_body(email)[:MAX_BODY]
    if user is not None:
        return ticket_service.ticket_create(
            actor=user,
            subject=subject,
            description=description,
            channel=Channel.EMAIL,
            attachments=files,
        )
    if not escalated_settings.GUEST_TICKETS_ENABLED:
        return None
    ticket, _token = guests.guest_ticket_create(
        name=email.sender_name.strip() or name_from_address(email.sender),
        email=email.sender,
        subject=subject,
        description=description,
        channel=Channel.EMAIL,
        attachments=files,
    )
    return ticket


def name_from_address(address: str) -> str:
    """A display name for a sender who gave none: 'jane.doe@x' becomes 'Jane Doe'."""
    local = address.split("@", 1)[0].split("+", 1)[0]
    words = [w for w in local.replace("_", " ").replace(".", " ").replace("-", " ").split() if w]
    return " ".join(w.capitalize() for w in words)[: guests.MAX_NAME] or address


def _checked_files(email: ParsedEmail) -> tuple[list[Any], list[str]]:
    """The files the portal's limits admit, and a line for each one refused (kept in order,
    up to MAX_ATTACHMENTS; the rest are refused as too many)."""
    kept: list[Any] = []
    refused: list[str] = []
    limit = escalated_settings.MAX_ATTACHMENTS
    for file in email.files:
        if len(kept) >= limit:
            refused.append(f"{file.name}: more than {limit} files on one message")
            continue
        try:
            attachments_check([file])
        except DomainError as error:
            refused.append("; ".join(p.message for p in error.problems))
            continue
        kept.append(file)
    return kept, refused


def inbound_email_retry(*, actor: Any, inbound: InboundEmail) -> InboundEmail:
    """Process a failed (or stuck) message again now (admins)."""
    require_admin(actor)
    if inbound.status not in RETRYABLE:
        raise DomainError(
            f"This email was already {inbound.status}; there is nothing to retry.",
            code=ErrorCode.INVALID,
            field="id",
        )
    return inbound_process(inbound.pk)


def inbound_process_pending(*, older_than: timedelta = timedelta(0), now: Any = None) -> int:
    """Process messages still waiting: in the "worker" mode, all of them (``escalated_worker``);
    otherwise those older than ``older_than``, whose after-commit processing was lost when the
    process died (``poll_imap`` sweeps them). Returns how many were processed."""
    cutoff = (now or timezone.now()) - older_than
    waiting = InboundEmail.objects.filter(status=InboundStatus.RECEIVED, created_at__lte=cutoff)
    ids = list(waiting.order_by("pk").values_list("pk", flat=True)[:PENDING_BATCH])
    for inbound_id in ids:
        inbound_process(inbound_id)
    return len(ids)
