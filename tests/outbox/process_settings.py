"""Settings for the processes a test starts (workers, a Celery worker, a crashing writer): the
test's own database, ESCALATED settings and mail server, passed in the environment."""

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["ESCALATED_PROCESS_DB"]
ESCALATED = json.loads(os.environ.get("ESCALATED_PROCESS_SETTINGS", "{}"))
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("ESCALATED_PROCESS_SMTP_PORT", "25"))
EMAIL_TIMEOUT = 5
DEFAULT_FROM_EMAIL = "help@support.example.com"
