"""Django settings for the queue benchmarks: the test suite's PostgreSQL settings, on a database
named by ``BENCH_DB`` (kept between runs, so seeding happens once per size)."""

import os

os.environ["ESCALATED_TEST_DB"] = "postgres"

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB", "bench_escalated_queue")
