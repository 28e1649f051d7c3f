"""Human-friendly ticket references (ESC-00042), gap-free and unique under concurrency."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from escalated.conf import escalated_settings
from escalated.models import Counter

TICKET_COUNTER = "ticket_reference"


def next_number(name: str) -> int:
    """Take the next value of the named counter.

    The UPDATE takes a row lock held until the caller's transaction ends, so concurrent callers
    queue behind one another and each sees a distinct value; a rolled-back caller gives its
    number back. Must run inside a transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside transaction.atomic()")
    Counter.objects.bulk_create([Counter(name=name, value=0)], ignore_conflicts=True)
    Counter.objects.filter(name=name).update(value=F("value") + 1)
    return Counter.objects.values_list("value", flat=True).get(name=name)


def next_ticket_reference() -> str:
    number = next_number(TICKET_COUNTER)
    digits = escalated_settings.REFERENCE_DIGITS
    return f"{escalated_settings.REFERENCE_PREFIX}-{number:0{digits}d}"
