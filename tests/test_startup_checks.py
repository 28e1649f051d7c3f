"""A bad setting stops the server, not only manage.py: uvicorn serving the project's asgi.py
exits at start-up with the same lines `manage.py check` prints, one message per problem."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from tests.realtime.servers import ROOT


def _env(escalated: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.startup_settings",
        "ESCALATED_STARTUP_SETTINGS": json.dumps(escalated),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def _serve(env: dict[str, str], *, wait: float = 60) -> tuple[int | None, str]:
    """Start uvicorn on asgi:application; return (exit code or None if it serves, its stderr).

    A server that comes up answers one HTTP request and is then stopped."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "asgi:application", "--fd", str(listener.fileno())],
        pass_fds=[listener.fileno()],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return process.returncode, process.stderr.read()  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("uvicorn neither served nor exited")
    finally:
        if process.poll() is None:
            process.terminate()
    _, err = process.communicate(timeout=20)
    return None, err


def _check(env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _lines(output: str, code: str) -> list[str]:
    return [line for line in output.splitlines() if f"({code})" in line]


@pytest.mark.parametrize(
    ("escalated", "code", "says"),
    [
        ({"MODEE": "synced"}, "escalated.E001", "ESCALATED['MODEE'] is not a known setting"),
        ({"MODE": "clooud"}, "escalated.E001", "ESCALATED['MODE'] must be one of"),
        (
            {"ROLE_RESOLVER": "nowhere.roles.role_for"},
            "escalated.E001",
            "ESCALATED['ROLE_RESOLVER'] 'nowhere.roles.role_for' cannot be imported",
        ),
        (
            {"GUEST_CLAIM_EMAIL_VERIFIED": "os.path.sep"},
            "escalated.E001",
            "ESCALATED['GUEST_CLAIM_EMAIL_VERIFIED'] 'os.path.sep' is not callable",
        ),
        (
            {"ATTACHMENT_STORAGE": "s3"},
            "escalated.E001",
            "ESCALATED['ATTACHMENT_STORAGE'] is 's3', which is not a storage in STORAGES",
        ),
        (
            {"GUEST_RATE_LIMIT": {"CACHE": "redis"}},
            "escalated.E001",
            "ESCALATED['GUEST_RATE_LIMIT']['CACHE'] is 'redis', which is not a cache in CACHES",
        ),
        (
            {"ROUTE_PREFIX": "help"},
            "escalated.E003",
            "ESCALATED['ROUTE_PREFIX'] is 'help', but the GraphQL endpoint is mounted at "
            "'/support/graphql/'",
        ),
    ],
)
def test_a_bad_setting_stops_uvicorn_with_the_message_of_manage_py_check(
    escalated: dict[str, Any], code: str, says: str
) -> None:
    env = _env(escalated)

    served, server_says = _serve(env)
    checked, check_says = _check(env)

    assert served not in (None, 0), server_says
    assert checked != 0
    [line] = _lines(check_says, code)  # one message per problem
    assert says in line
    assert _lines(server_says, code) == [line]
    assert "escalated.E002" not in check_says + server_says


def test_a_missing_channel_layer_is_a_warning_that_says_what_live_queues_need() -> None:
    env = _env({}, ESCALATED_STARTUP_NO_CHANNEL_LAYERS="1")

    served, server_says = _serve(env)
    checked, check_says = _check(env)

    assert served is None, server_says  # it serves
    assert checked == 0
    [line] = _lines(check_says, "escalated.W002")
    assert "CHANNEL_LAYERS is not set, so GraphQL subscriptions" in line
    assert _lines(server_says, "escalated.W002") == [line]


def test_values_that_turn_something_off_start_cleanly() -> None:
    env = _env({"SLA": {"WARNING_THRESHOLD_MINUTES": 0}, "MAX_ATTACHMENTS": 0})

    served, server_says = _serve(env)
    checked, check_says = _check(env)

    assert served is None, server_says
    assert checked == 0, check_says
    assert "escalated." not in server_says + check_says
