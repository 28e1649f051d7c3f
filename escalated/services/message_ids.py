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

With inbound email on and ``INBOUND_EMAIL_ADDRESS`` set (say ``support@help.example.com``), each
email also carries a signed Reply-To, ``support+{ticket_id}-{tag}@help.example.com``, which
finds the ticket again (:func:`ticket_id_from_addresses`) when a mail client drops the headers.
"""

from __future__ import annotations

import hmac
import re
from email.utils import getaddresses, parseaddr

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


def _support_address() -> tuple[str, str] | None:
    """The local part and domain of INBOUND_EMAIL_ADDRESS, while inbound email is on."""
    configured = escalated_settings.INBOUND_EMAIL_ADDRESS
    if not (escalated_settings.INBOUND_EMAIL_ENABLED and configured):
        return None
    local, _, domain = parseaddr(str(configured))[1].rpartition("@")
    return (local, domain) if local and domain else None


def reply_address(ticket_id: int) -> str | None:
    """The signed Reply-To of emails about the ticket, or None when inbound email is off."""
    support = _support_address()
    if support is None:
        return None
    local, domain = support
    return f"{local}+{ticket_id}-{_tag(ticket_id)}@{domain}"


def ticket_id_from_addresses(*values: str | None) -> int | None:
    """The ticket a signed reply address among ``values`` (To, Cc, … header values) names; only
    this site's tags count (checked in constant time)."""
    support = _support_address()
    if support is None:
        return None
    local, domain = (part.lower() for part in support)
    for _name, address in getaddresses([v for v in values if v]):
        user, _, host = address.lower().rpartition("@")
        base, plus, token = user.partition("+")
        match = re.fullmatch(r"(\d+)-([0-9a-f]{16})", token)
        if host != domain or base != local or not plus or match is None:
            continue
        ticket_id = int(match.group(1))
        if hmac.compare_digest(_tag(ticket_id), match.group(2)):
            return ticket_id
    return None


def is_own_message_id(value: str | None) -> bool:
    """Whether ``value`` is the Message-ID of an email this site sent (a loop coming back)."""
    match = _MESSAGE_ID.fullmatch((value or "").strip())
    return match is not None and hmac.compare_digest(_tag(int(match.group(1))), match.group(2))


def is_own_address(address: str | None) -> bool:
    """Whether ``address`` is one of ours: the inbound support address (with or without a
    ``+tag``, whether or not inbound email is on) or the address notifications are sent from."""
    user, _, host = (address or "").strip().lower().rpartition("@")
    if not user:
        return False
    ours = [escalated_settings.INBOUND_EMAIL_ADDRESS, escalated_settings.EMAIL_FROM]
    ours.append(settings.DEFAULT_FROM_EMAIL)
    for configured in ours:
        local, _, domain = parseaddr(str(configured or ""))[1].lower().rpartition("@")
        if local and host == domain and user.partition("+")[0] == local.partition("+")[0]:
            return True
    return False
