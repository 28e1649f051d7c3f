"""How the push to the hub is going, from the outbox's hub rows (``syncStatus``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from escalated.conf import escalated_settings
from escalated.models import Delivery, DeliveryKind, DeliveryStatus

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class SyncFigures:
    mode: str
    hub_url: str | None
    last_success_at: datetime | None
    backlog: int
    failed: int
    oldest_pending_at: datetime | None


def sync_figures() -> SyncFigures:
    """One statement over the hub rows (the stream index keeps it to undelivered ones for the
    counts; the last success reads the delivered rows' newest time)."""
    figures = Delivery.objects.filter(kind=DeliveryKind.HUB).aggregate(
        last_success_at=Max("delivered_at"),
        backlog=Count("pk", filter=Q(status__in=WAITING)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        oldest_pending_at=Min("created_at", filter=Q(status__in=WAITING)),
    )
    synced = escalated_settings.MODE == "synced"
    return SyncFigures(
        mode=str(escalated_settings.MODE),
        hub_url=str(escalated_settings.HOSTED_API_URL) if synced else None,
        **figures,
    )
