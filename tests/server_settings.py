"""Settings for real server processes the live tests start (uvicorn serving asgi.py): the test
settings, on a SQLite file the test prepares, with the channel layer the test asks for."""

import os

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["ESCALATED_SERVER_DB"],
        # Two server processes may write at once: wait for the lock rather than fail.
        "OPTIONS": {"timeout": 20},
    }
}

if os.environ.get("ESCALATED_SERVER_REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["ESCALATED_SERVER_REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

if os.environ.get("ESCALATED_GC_LOG"):
    from tests.realtime.collector_log import record_collections

    record_collections(os.environ["ESCALATED_GC_LOG"])
