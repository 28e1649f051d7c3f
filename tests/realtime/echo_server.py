"""A real server for the frontend-adapter's vitest suite (``frontend-adapter/test/server.js``
runs it): ``python -m tests.realtime.echo_server <sqlite file>``.

It migrates the file, creates the World, prints one JSON line (the address, a session cookie and
an API token per person, the ids the tests need), then serves ``asgi:application`` under uvicorn
until its standard input closes. A ``restart`` line on standard input stops the server and starts
a new one on the same port (the reconnect test), answered by a ``restarted`` line.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import django

from tests.realtime.servers import ROOT, SERVER_SETTINGS

PEOPLE = ("admin", "agent", "outsider", "customer", "other_customer")


def seed() -> dict[str, object]:
    os.environ["DJANGO_SETTINGS_MODULE"] = SERVER_SETTINGS
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from escalated.services.tokens import api_token_create
    from tests.conftest import build_world

    call_command("migrate", verbosity=0)
    world = build_world()
    sessions, tokens, ids = {}, {}, {}
    for name in PEOPLE:
        user = world.person(name)
        client = Client()
        client.force_login(user)
        sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
        tokens[name] = api_token_create(actor=user, name="echo")[1]
        ids[name] = user.pk
    return {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "sessions": sessions,
        "tokens": tokens,
        "users": ids,
        "ticket": world.ticket.pk,
        "reference": world.ticket.reference,
        "sales_department": world.sales.pk,
        "billing_department": world.billing.pk,
    }


def start(port: int) -> subprocess.Popen[bytes]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    command = [sys.executable, "-m", "uvicorn", "asgi:application", "--fd", str(listener.fileno())]
    command += ["--log-level", "warning", "--no-access-log", "--ws-per-message-deflate", "false"]
    process = subprocess.Popen(command, pass_fds=[listener.fileno()], cwd=ROOT)
    listener.close()
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    os.environ["ESCALATED_SERVER_DB"] = sys.argv[1]
    os.environ.setdefault("ESCALATED_SERVER_REDIS_URL", "")
    world = seed()
    port = free_port()
    process = start(port)
    print(json.dumps({"address": f"127.0.0.1:{port}", **world}), flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "restart":
                stop(process)
                time.sleep(0.5)  # a real gap: connections are refused meanwhile
                process = start(port)
                print("restarted", flush=True)
    finally:
        stop(process)


if __name__ == "__main__":
    main()
