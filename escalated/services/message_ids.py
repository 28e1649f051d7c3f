"""Message-IDs of notification emails, so that replies find their ticket again.

Every email about a ticket belongs to one thread, whose root is a Message-ID no single email
carries but every one refers to::

    thread root:   <ticket-{ticket_id}-{tag}@{domain}>
    each email:    <ticket-{ticket_id}-{tag}.{idempotency_key}@{domain}>

* ``ticket_id`` is the ticket's primary key (not its reference, which a prefix change would
  alter);
* ``tag`` is 16 hex digits of an HMAC of the ticket id under the site's SECRET_KEY, so a sender
  cannot aim a reply at a ticket by guessing ids;
* ``idempotency_key`` is the delivery's key: a retried send carries the same Message-ID;
* ``domain`` is ``ESCALATED["EMAIL_DOMAIN"]``, else the domain of the sender address.

Each email has ``In-Reply-To`` and ``References`` set to the thread root, so mail clients group
them, and a reply to any of them names the root (or the email) in its own ``In-Reply-To`` and
``References``. Inbound email finds the ticket with :func:`ticket_id_from_headers`.
"""

from __future__ import annotations

import hmac
import re

from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.utils.crypto import salted_hmac

from escalated.conf import escalated_settings

_SALT = "escalated.message_ids"
_MESSAGE_ID = re.compile(r"<ticket-(\d+)-([0-9a-f]{16})(?:\.[0-9a-f]+)?@[^>\s]+>")


def mail_domain() -> str:
    configured = escalated_settings.EMAIL_DOMAIN
    if configured:
        return str(configured)
    sender = escalated_settings.EMAIL_FROM or settings.DEFAULT_FROM_EMAIL
    domain = str(sender).rsplit("@", 1)[-1].strip(" >")
    return domain if "." in domain else str(DNS_NAME)


def _tag(ticket_id: int) -> str:
    return salted_hmac(_SALT, f"ticket-{ticket_id}").hexdigest()[:16]


def thread_root(ticket_id: int) -> str:
    """The thread's root Message-ID, named by every email about the ticket."""
    return f"<ticket-{ticket_id}-{_tag(ticket_id)}@{mail_domain()}>"


def message_id(ticket_id: int, key: str) -> str:
    """The Message-ID of one email about the ticket (``key``: the delivery's idempotency key)."""
    return f"<ticket-{ticket_id}-{_tag(ticket_id)}.{key}@{mail_domain()}>"


def ticket_id_from_headers(*values: str | None) -> int | None:
    """The ticket a reply belongs to, from its ``In-Reply-To`` and ``References`` headers.

    Only ids issued by this site count: the tag must match (checked in constant time). The first
    valid one wins; None when there is none.
    """
    for value in values:
        for match in _MESSAGE_ID.finditer(value or ""):
            ticket_id = int(match.group(1))
            if hmac.compare_digest(_tag(ticket_id), match.group(2)):
                return ticket_id
    return None
