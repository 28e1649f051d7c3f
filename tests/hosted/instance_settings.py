"""Settings of one real instance (a synced site or a hub) that a test runs as its own server
and worker processes: its own database (a SQLite file, or a PostgreSQL database), its own
ESCALATED settings and mail server, all passed in the environment."""

import json
import os

from tests.settings import *  # noqa: F403

if os.environ.get("ESCALATED_INSTANCE_ENGINE") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "NAME": os.environ["ESCALATED_INSTANCE_DB"],
        }
    }
    # Django's default is a new connection (a new PostgreSQL backend, its caches cold) for every
    # request; the benchmarks keep a few open in a pool, as a production server would. Not
    # CONN_MAX_AGE: under ASGI each request runs in a thread of its own, and every one of them
    # would keep a connection.
    if os.environ.get("ESCALATED_INSTANCE_DB_POOL") == "1":
        DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": 4, "timeout": 30}}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["ESCALATED_INSTANCE_DB"],
            # The server, the worker and the test's checks write at once: wait for the lock.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }

# Each instance keeps its uploads (attachments) in its own folder beside its logs, as two
# machines would.
MEDIA_ROOT = os.environ.get("ESCALATED_INSTANCE_MEDIA", "")
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
ESCALATED = json.loads(os.environ.get("ESCALATED_INSTANCE_SETTINGS", "{}"))
# The instances' scripted customers write hundreds of replies within the hour (the outage test's
# stream alone gives 50 tickets a reply each per step), past the default hourly budget of a
# requester: the budgets are tested in tests/test_rate_limits.py, not here.
ESCALATED.setdefault(
    "MESSAGE_RATE_LIMIT", {"REPLIES_PER_TICKET": 100_000, "REPLIES_PER_REQUESTER": 100_000}
)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("ESCALATED_INSTANCE_SMTP_PORT", "25"))
EMAIL_TIMEOUT = 5
DEFAULT_FROM_EMAIL = "help@support.example.com"
