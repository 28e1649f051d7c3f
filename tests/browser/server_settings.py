"""Settings for the server the browser tests start: the demo project (its layout, its built
frontend, its sign-in page) on a SQLite file the test session prepares."""

import json
import os
from pathlib import Path

from demo.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["ESCALATED_SERVER_DB"],
        "OPTIONS": {"timeout": 20},
    }
}
MEDIA_ROOT = Path(os.environ["ESCALATED_SERVER_DB"]).parent / "media"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast for tests only
# The guest pages are part of what the tests walk through; the demo leaves them to the admin.
ESCALATED = {**ESCALATED, "GUEST_TICKETS_ENABLED": True}  # noqa: F405
# The cloud-mode run (tests/browser/conftest.py) adds its mode and its hub's address and key.
ESCALATED.update(json.loads(os.environ.get("ESCALATED_SERVER_SETTINGS") or "{}"))
