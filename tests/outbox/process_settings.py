"""Settings for the processes a test starts (workers, a Celery worker, a crashing writer): the
test's own database, ESCALATED settings, storages and mail server, passed in the environment."""

import json
import os

from django.conf import global_settings

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["ESCALATED_PROCESS_DB"]
ESCALATED = json.loads(os.environ.get("ESCALATED_PROCESS_SETTINGS", "{}"))
# Storage aliases the test added (say, a temporary directory for attachments and raw mail).
STORAGES = {
    **global_settings.STORAGES,
    **json.loads(os.environ.get("ESCALATED_PROCESS_STORAGES", "{}")),
}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("ESCALATED_PROCESS_SMTP_PORT", "25"))
EMAIL_TIMEOUT = 5
DEFAULT_FROM_EMAIL = "help@support.example.com"
