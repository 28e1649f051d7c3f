"""Real server processes for the live tests: uvicorn serving the project's asgi.py on a port the
test binds (so nothing races for it), on a SQLite file holding a fresh World."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


SERVER_SETTINGS = "tests.server_settings"


def _env(
    db: Path, redis_url: str | None, settings: str = SERVER_SETTINGS, **extra: str
) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "ESCALATED_SERVER_DB": str(db),
        "ESCALATED_SERVER_REDIS_URL": redis_url or "",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def world_database(db: Path) -> dict[str, Any]:
    """Migrate ``db``, create the World in it, and return its ids and an API token per person."""
    result: dict[str, Any] = python_json(["-m", "tests.realtime.world_db"], _env(db, None))
    return result


def python_json(args: list[str], env: dict[str, str], timeout: float = 120) -> Any:
    """Run this Python with ``args`` in the repository root; the JSON its last line prints."""
    done = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@dataclass(frozen=True)
class Server:
    address: str  # host:port
    pid: int


@contextmanager
def server(
    db: Path, *, redis_url: str | None = None, settings: str = SERVER_SETTINGS, **env: str
) -> Iterator[Server]:
    """Run ``uvicorn asgi:application`` on 127.0.0.1 and an ephemeral port, with the Django
    settings module ``settings`` (the browser tests serve the demo project's; ``env``: more
    variables for tests.server_settings).

    The socket is bound and listening before uvicorn starts, so clients may connect at once
    (they wait in the backlog until the server is up)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "asgi:application",
            "--fd",
            str(listener.fileno()),
            "--log-level",
            "warning",
            "--no-access-log",
            # Events are a few hundred bytes: compressing each costs more than it saves.
            "--ws-per-message-deflate",
            "false",
        ],
        pass_fds=[listener.fileno()],
        env=_env(db, redis_url, settings, **env),
        cwd=ROOT,
    )
    listener.close()
    try:
        yield Server(f"127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def graphql_post(address: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    """POST an operation to the server's HTTP endpoint with a bearer token."""
    request = urllib.request.Request(
        f"http://{address}/support/graphql/",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


class Socket:
    """A real websocket client speaking graphql-transport-ws (the `websockets` library)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        await self.connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        return json.loads(await self.connection.recv())

    async def subscribe(self, op: str, query: str, variables: dict[str, Any]) -> None:
        message = {
            "id": op,
            "type": "subscribe",
            "payload": {"query": query, "variables": variables},
        }
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        import asyncio

        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))


def socket_url(address: str) -> str:
    return f"ws://{address}/support/graphql/"
