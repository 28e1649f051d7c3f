"""The demo project (its layout, built frontend and seed) on a SQLite file the live browser tests
prepare, served by uvicorn with the in-memory channel layer."""

import os

from demo.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["ESCALATED_SERVER_DB"],
        # Writers queue for the lock up front (no read-to-write upgrade to fail under load).
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast for tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
