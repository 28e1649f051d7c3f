"""The load test (bench/load) at a small scale, on every CI pass with PostgreSQL and Redis: 20
clients for 20 seconds while 20 agents hold ``queueEvents``, one server and the outbox workers
killed half way; then the same proofs as the full run (bench/load/verify.py): every acknowledged
write in the database once, one activity row per action, every outbox row delivered once (a row
resent after the killed worker's lease counted apart), every subscriber every event it may see
and none it may not.

The run is its own processes (two uvicorn servers, two outbox workers, the driver) on its own
database, ``<ESCALATED_TEST_DB_NAME>_load``, made and dropped here; its Redis keys carry a prefix
of their own and are deleted after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_small_load_with_a_server_and_the_outbox_workers_killed_loses_and_doubles_nothing() -> (
    None
):
    name = os.environ.get("ESCALATED_TEST_DB_NAME", "test_escalated") + "_load"
    redis_url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load.run",
                *("--clients", "20", "--subscribers", "20", "--seconds", "20"),
                *("--think", "1", "--db", name, "--redis", redis_url),
                *("--settle-timeout", "120", "--drain-timeout", "120"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.stdout, done.stderr[-4000:]
        result = json.loads(done.stdout)
    finally:
        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    failed = {k: v["problems"] for k, v in result["proofs"].items() if not v["ok"]}
    assert not failed, failed
    assert done.returncode == 0
    # The run did what it says: every kind of write acknowledged, the kill in the middle, and
    # subscribers owed events (so the subscription proof had something to prove).
    acknowledged = {key.split(":")[0] for key, n in result["outcomes"].items() if "ack" in key}
    assert acknowledged >= {"create", "reply", "note", "assign", "resolve"}
    assert "kill" in result["timeline"]
    assert result["proofs"]["subscriptions"]["owed"] > 0
    assert result["proofs"]["outbox"]["rows"] > 0
