"""The hub's changes to a site's ticket go back to the site.

:func:`site_rows` runs inside each change's transaction (registered when the app loads): a reply,
note, status, priority, subject or tag change that a hub agent (or rule) makes to a ticket that
came from a site becomes one ``site`` delivery to the site's webhook, in the ticket's order back
to that site. Changes applied from the site itself are not sent back to it (no echo).
"""

from __future__ import annotations

from collections.abc import Sequence

from escalated import events
from escalated.hosted import signing, wire
from escalated.models import Delivery, DeliveryKind, Site
from escalated.services import outbox, sites

SENT_BACK = (
    events.ReplyAdded,
    events.TicketStatusChanged,
    events.TicketPriorityChanged,
    events.TicketTagsChanged,
    events.TicketUpdated,
)


def stream_counter(ticket_id: int) -> str:
    return f"site:{ticket_id}"


def site_rows(batch: Sequence[events.TicketEvent]) -> list[Delivery]:
    if not sites.hub_enabled() or wire.is_applying():
        return []
    rows = []
    for event in batch:
        ticket = event.ticket
        if ticket.site_id is None or not isinstance(event, SENT_BACK):
            continue
        if isinstance(event, events.TicketUpdated) and not wire.changed_fields(event):
            continue
        site = Site.objects.get(pk=ticket.site_id)
        if not site.webhook_url or site.revoked_at is not None:
            continue
        rows.append(
            wire.row(
                event,
                kind=DeliveryKind.SITE,
                reference=ticket.site_reference,
                counter=stream_counter(ticket.pk),
                recipient=site.webhook_url,
            )
        )
    return rows


def site_send(row: Delivery, content: outbox.Content) -> int:
    site = Site.objects.filter(tickets=row.ticket_id).first() if row.ticket_id else None
    if site is None or site.revoked_at is not None:
        raise outbox.DeliveryError("The site is gone or was revoked.", permanent=True)
    body = content["body"].encode("utf-8")
    headers = {
        signing.HEADER: signing.sign(site.signing_secret, body),
        "X-Escalated-Event": row.event,
    }
    return wire.send(site.webhook_url or row.recipient, body, headers)


SITE = outbox.Channel(
    build=wire.build, send=site_send, stores_content=False, receiver_deduplicates=True
)
