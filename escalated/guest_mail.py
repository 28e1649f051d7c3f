"""The magic-link email a guest receives when they open a ticket or staff rotate their link.

Sent after commit by :func:`escalated.events.mail_guest_link`. Override the body with the
template ``escalated/email/guest_link.txt``; the ``guest_link_issued`` signal carries the same
link for hosts that deliver it another way.
"""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string

from escalated.conf import escalated_settings
from escalated.models import GuestAccess, Ticket


def send_guest_link(*, ticket: Ticket, name: str, email: str, link: str, rotated: bool) -> None:
    access = GuestAccess.objects.filter(ticket_id=ticket.pk).only("token_expires_at").first()
    body = render_to_string(
        "escalated/email/guest_link.txt",
        {
            "ticket": ticket,
            "name": name,
            "link": link,
            "rotated": rotated,
            "expires_at": access.token_expires_at if access else None,
            "can_close": escalated_settings.ALLOW_CUSTOMER_CLOSE,
        },
    )
    subject = f"[{ticket.reference}] {ticket.subject}"
    send_mail(subject, body, None, [email])
