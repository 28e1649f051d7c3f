"""The Celery app of the tests' host project: Redis broker, Escalated's tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.outbox.process_settings")

app = Celery("escalated_tests")
app.conf.update(
    broker_url=os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0"),
    task_default_queue=os.environ.get("ESCALATED_CELERY_QUEUE", "escalated"),
    broker_connection_retry_on_startup=True,
    imports=["escalated.tasks"],
)
