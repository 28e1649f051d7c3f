"""Django settings for the queue benchmarks: the test suite's, on a PostgreSQL database named by
``BENCH_DB`` (kept between runs, so seeding happens once per size)."""

import os

from tests.settings import *  # noqa: F403

DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "NAME": os.environ.get("BENCH_DB", "bench_escalated_queue"),
    }
}
