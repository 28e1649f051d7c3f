"""Settings for real server processes the live tests start (uvicorn serving asgi.py): the test
settings, on a SQLite file the test prepares, with the channel layer the test asks for (and, on
request, ESCALATED settings and an SMTP server of the test's)."""

import json
import os

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["ESCALATED_SERVER_DB"],
        # Two server processes (and each one's outbox sender thread) may write at once: take
        # the write lock when a transaction begins, and wait for it rather than fail.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}

if os.environ.get("ESCALATED_SERVER_PG_NAME"):
    # A PostgreSQL database of the test's own, beside the suite's test database.
    DATABASES = {
        "default": {
            **DATABASES["default"],
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "NAME": os.environ["ESCALATED_SERVER_PG_NAME"],
            "OPTIONS": {},
        }
    }

if os.environ.get("ESCALATED_SERVER_REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {  # a read timeout past channels_redis' blocking read (escalated.W005)
                "hosts": [
                    {"address": os.environ["ESCALATED_SERVER_REDIS_URL"], "socket_timeout": 15}
                ]
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

if os.environ.get("ESCALATED_SERVER_CACHE_URL"):
    # A Redis cache shared by the processes of one test, under a prefix of the test's own.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["ESCALATED_SERVER_CACHE_URL"],
            "KEY_PREFIX": os.environ.get("ESCALATED_SERVER_CACHE_PREFIX", "escalated-server"),
        }
    }

if os.environ.get("ESCALATED_SERVER_SETTINGS"):
    ESCALATED = json.loads(os.environ["ESCALATED_SERVER_SETTINGS"])

if os.environ.get("ESCALATED_SERVER_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(os.environ["ESCALATED_SERVER_SMTP_PORT"])
    EMAIL_TIMEOUT = None  # Django's default: Escalated must bound the wait itself

if os.environ.get("ESCALATED_SERVER_MAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["ESCALATED_SERVER_MAIL_DIR"]

if os.environ.get("ESCALATED_GC_LOG"):
    from tests.realtime.collector_log import record_collections

    record_collections(os.environ["ESCALATED_GC_LOG"])
