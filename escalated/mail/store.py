"""Store first: the raw message goes to the attachment storage and gets its InboundEmail row in
one transaction, before anything reads it. Processing is scheduled for after the commit.

The row's Message-ID is unique: storing a message that is already there (a provider's
redelivery, an IMAP message seen again after a crash) returns the existing row and changes
nothing, whatever became of its first processing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone

from escalated.conf import escalated_settings
from escalated.mail.parsing import raw_message_id
from escalated.models import InboundEmail
from escalated.services.attachments import delete_unless_committed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    inbound: InboundEmail
    created: bool  # False: the message was already there (a redelivery)


def _header(message: object, name: str) -> str:
    try:
        return " ".join(str(message.get(name, "") or "").split())  # type: ignore[attr-defined]
    except (ValueError, TypeError, IndexError):  # a header too broken to decode
        return ""


def inbound_store(*, provider: str, raw: bytes) -> Stored:
    """Record one received message (raw MIME bytes) and schedule its processing."""
    headers = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)
    message_id = raw_message_id(headers, raw)
    existing = InboundEmail.objects.filter(message_id=message_id).first()
    if existing is not None:
        return Stored(existing, created=False)
    name, sender = parseaddr(_header(headers, "From"))
    recipients = [
        address
        for _name, address in getaddresses([_header(headers, "To"), _header(headers, "Cc")])
        if address
    ]
    alias = escalated_settings.ATTACHMENT_STORAGE
    storage = storages[alias]
    try:
        with transaction.atomic():
            stored_name = storage.save(
                f"escalated/inbound/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.eml",
                ContentFile(raw),
            )
            delete_unless_committed(storage, stored_name)
            inbound = InboundEmail.objects.create(
                provider=provider,
                message_id=message_id,
                sender=sender.lower()[:320],
                sender_name=name[:255],
                recipients=recipients,
                subject=_header(headers, "Subject")[:998],
                raw_storage=alias,
                raw_name=stored_name,
                raw_size=len(raw),
            )
            transaction.on_commit(lambda: schedule(inbound.pk), robust=True)
    except IntegrityError:
        # Another request stored the same message between our look and our insert.
        return Stored(InboundEmail.objects.get(message_id=message_id), created=False)
    return Stored(inbound, created=True)


def inbound_raw(inbound: InboundEmail) -> bytes:
    with storages[inbound.raw_storage].open(inbound.raw_name, "rb") as handle:
        return bytes(handle.read())


def schedule(inbound_id: int) -> None:
    """Hand a committed message to whoever processes it, as the outbox's DELIVERY mode says for
    deliveries: this process now ("immediate"), ``escalated_worker`` ("worker"), or a Celery
    task ("celery")."""
    mode = escalated_settings.OUTBOX["DELIVERY"]
    if mode == "celery":
        from escalated.tasks import process_inbound_email  # celery is an optional extra

        process_inbound_email.delay(inbound_id)
    elif mode == "immediate":
        from escalated.mail.processing import inbound_process

        inbound_process(inbound_id)
