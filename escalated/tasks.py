"""Celery tasks (install the ``celery`` extra). Celery finds them with ``app.autodiscover_tasks()``.

With ``ESCALATED["OUTBOX"]["DELIVERY"] = "celery"`` each commit queues :func:`deliver_outbox` with
the keys of the rows it wrote. Schedule the same task without arguments with celery beat (say
every minute) to send retries as they fall due and anything queued while the broker was down::

    app.conf.beat_schedule = {
        "escalated-outbox": {"task": "escalated.deliver_outbox", "schedule": 60.0},
    }
"""

from __future__ import annotations

from celery import shared_task

from escalated.services import outbox


@shared_task(name="escalated.deliver_outbox", ignore_result=True)
def deliver_outbox(keys: list[str] | None = None) -> int:
    """Send the given deliveries, or everything due; return how many were attempted."""
    report = outbox.deliver(keys=keys) if keys else outbox.drain()
    return report.attempted


@shared_task(name="escalated.process_inbound_email", ignore_result=True)
def process_inbound_email(inbound_id: int) -> str:
    """Process one stored inbound email; return its status afterwards."""
    from escalated.mail.processing import inbound_process  # the door, imported when used

    return str(inbound_process(inbound_id).status)
