"""Synced mode, site side: every ticket event goes to the hub through the outbox.

:func:`hub_rows` runs inside each change's transaction (registered with the notifications'
row writers when the app loads): one ``hub`` delivery per event, carrying the envelope fixed now
(so every retry sends the same event_id and bytes) and the next number of the ticket's stream,
which keeps a ticket's events in order (see :func:`escalated.services.outbox.claim`). Changes
applied from the hub are not sent back.
"""

from __future__ import annotations

from collections.abc import Sequence

from escalated.conf import escalated_settings
from escalated.events import TicketEvent
from escalated.hosted import wire
from escalated.models import Delivery, DeliveryKind
from escalated.services import outbox


def events_url(base: str | None = None) -> str:
    """The hub's events endpoint under ``base`` (by default ``HOSTED_API_URL``)."""
    return f"{str(base or escalated_settings.HOSTED_API_URL).rstrip('/')}/events"


def hub_headers(event: str, key: str | None = None) -> dict[str, str]:
    """What a site sends the hub with each event: its key (by default ``HOSTED_API_KEY``)."""
    return {
        "Authorization": f"Bearer {key or escalated_settings.HOSTED_API_KEY or ''}",
        "X-Escalated-Event": event,
    }


def stream_counter(ticket_id: int) -> str:
    return f"hub:{ticket_id}"


def hub_rows(batch: Sequence[TicketEvent]) -> list[Delivery]:
    if escalated_settings.MODE != "synced" or wire.is_applying():
        return []
    url = events_url()
    return [
        wire.row(
            event,
            kind=DeliveryKind.HUB,
            reference=event.ticket.reference,
            counter=stream_counter(event.ticket.pk),
            recipient=url,
        )
        for event in batch
    ]


def hub_send(row: Delivery, content: outbox.Content) -> int:
    # The hub's address as configured now: rows still waiting follow a moved hub.
    return wire.send(events_url(), content["body"].encode("utf-8"), hub_headers(row.event))


# The body is the fixed envelope dumped with sorted keys (the same bytes on every attempt), and
# the hub drops a repeated event_id.
HUB = outbox.Channel(
    build=wire.build, send=hub_send, stores_content=False, receiver_deduplicates=True
)
