"""Django settings of every process in the load test (the servers, the outbox worker, and the
driver that seeds and checks): the test suite's settings on PostgreSQL and Redis, with the
limits a load test would trip raised, and deliveries left to the outbox worker.

Read from the environment (bench/load/run.py sets them): LOAD_DB (database name), LOAD_REDIS
(channel layer and cache), LOAD_PREFIX (this run's Redis keys), LOAD_SMTP_PORT and
LOAD_WEBHOOK_URL (the loopback receivers).
"""

import os

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "NAME": os.environ.get("LOAD_DB", "bench_16load"),
    }
}

REDIS_URL = os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379/3")
# One run's keys (bench/load/run.py deletes them at its end).
PREFIX = os.environ.get("LOAD_PREFIX", "load")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # As README's "Live queues" advises: with channels_redis' default of 100 messages per
        # channel, bursts past it were dropped (bench/RESULTS.md).
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],  # escalated.W005
            "prefix": f"{PREFIX}:asgi",
            "channel_capacity": {"escalated.hub.*": 100_000},
        },
    }
}
# Rate-limit counters, shared by both servers as in production.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": PREFIX,
    }
}

if os.environ.get("LOAD_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(os.environ["LOAD_SMTP_PORT"])

ESCALATED = {
    # The load test drives 200 clients through a handful of tokens' worth of mutations a
    # minute each: the default 120 per minute per caller would throttle it, which is not what
    # it measures. Raised here, and said so in bench/RESULTS.md.
    "MUTATION_RATE_LIMIT": {"PER_MINUTE": 1_000_000},
    # Likewise the hourly reply and file budgets of customers (each writes far more than 30
    # replies an hour here) and the sockets per client IP (every client is on loopback).
    "MESSAGE_RATE_LIMIT": {
        "REPLIES_PER_TICKET": 1_000_000,
        "REPLIES_PER_REQUESTER": 1_000_000,
        "ATTACHMENTS_PER_TICKET": 1_000_000,
        "ATTACHMENTS_PER_REQUESTER": 1_000_000,
    },
    "REALTIME_RATE_LIMIT": {"CONNECTIONS_PER_IP": 1_000_000, "CONNECTIONS_PER_USER": 1_000},
    # Every webhook event also goes to the loopback receiver.
    "WEBHOOK_URL": os.environ.get("LOAD_WEBHOOK_URL") or None,
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
    "WEBHOOK_REQUIRE_HTTPS": False,
    # Only the outbox worker sends, so killing it leaves claimed rows whose lease must run
    # out; a short lease makes that happen within the run.
    "OUTBOX": {"DELIVERY": "worker", "LEASE_SECONDS": 10, "RETRY_BASE_SECONDS": 1},
    # A new ticket emails every agent of its department (67 of them at 200 agents): that alone
    # would be most of the outbox. Off; every other email (to the requester, the assignee) and
    # every webhook stays on.
    "NOTIFICATIONS": {"TICKET_CREATED": False},
}

# channels_redis says at INFO when it drops messages for a full channel: shown, so a run that
# loses events says why.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"err": {"class": "logging.StreamHandler"}},
    "loggers": {"channels_redis": {"handlers": ["err"], "level": "INFO"}},
}
