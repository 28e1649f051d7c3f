"""Two real instances for the synced-mode tests: a site and a hub, each its own uvicorn server
process and outbox worker process on its own database, talking over loopback HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.realtime.servers import python_json

ROOT = Path(__file__).resolve().parents[2]

# Fast retries and a short lease, so an outage or a killed worker heals within seconds; workers
# that do not rest between batches (the benchmark passes its own --duty-cycle).
OUTBOX = {
    "DELIVERY": "worker",
    "RETRY_BASE_SECONDS": 1,
    "RETRY_MAX_SECONDS": 2,
    "MAX_ATTEMPTS": 10_000,
    "LEASE_SECONDS": 3,
    "WORKER_DUTY_CYCLE": 1,
}
QUIET = ("--log-level", "warning", "--no-access-log")
LOOPBACK = {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True, "WEBHOOK_REQUIRE_HTTPS": False}


def _listener(port: int = 0) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    return listener


@dataclass
class Instance:
    """One instance: its database, settings, port, and the processes running it."""

    name: str
    database: str
    engine: str
    smtp_port: int
    logs: Path
    settings: dict[str, Any] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    _listener: socket.socket | None = None

    def __post_init__(self) -> None:
        self._listener = _listener()
        self.port = self._listener.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.address}{path}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.hosted.instance_settings",
            "ESCALATED_INSTANCE_DB": self.database,
            "ESCALATED_INSTANCE_ENGINE": self.engine,
            "ESCALATED_INSTANCE_SETTINGS": json.dumps(self.settings),
            "ESCALATED_INSTANCE_SMTP_PORT": str(self.smtp_port),
            "ESCALATED_INSTANCE_MEDIA": str(self.logs / f"{self.name}-media"),
            "PYTHONPATH": str(ROOT),
        }

    def run(self, *args: str, timeout: float = 600) -> Any:
        """``python -m tests.hosted.instance_db <args>`` on this instance; its JSON."""
        return python_json(["-m", "tests.hosted.instance_db", *args], self.env(), timeout)

    def _log(self, what: str) -> Any:
        return open(self.logs / f"{self.name}-{what}.log", "ab")

    def start_server(self) -> None:
        if self._listener is None:  # restarting: the same port again
            self._listener = _listener(self.port)
        fd = self._listener.fileno()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "asgi:application", "--fd", str(fd), *QUIET],
            pass_fds=[fd],
            env=self.env(),
            cwd=ROOT,
            stdout=self._log("server"),
            stderr=subprocess.STDOUT,
        )
        self._listener.close()
        self._listener = None

    def stop_server(self) -> None:
        _stop(self.server)
        self.server = None

    def start_worker(self, *args: str) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "django", "escalated_worker", "--interval", "0.2", *args],
            env=self.env(),
            cwd=ROOT,
            stdout=self._log("worker"),
            stderr=subprocess.STDOUT,
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()
        self.worker = None

    def stop(self) -> None:
        _stop(self.worker)
        _stop(self.server)
        if self._listener is not None:
            self._listener.close()

    def graphql(self, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        """POST an operation with a bearer token; its data (an error fails the test)."""
        request = urllib.request.Request(
            self.url("/support/graphql/"),
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body
        return body["data"]


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Pair:
    site: Instance
    hub: Instance
    site_people: dict[str, Any]
    hub_people: dict[str, Any]


@contextmanager
def site_and_hub(
    tmp: Path,
    smtp_port: int,
    engine: str,
    db_name: str,
    prepared: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> Iterator[Pair]:
    """A hub with one registered site, and that site in synced mode, both running. With
    ``prepared`` (the hub's and the site's people, as made before), the databases are kept as
    they are (the benchmark restores them from a saved copy) instead of made again."""

    def database(role: str) -> str:
        return f"{db_name}_{role}" if engine == "postgres" else str(tmp / f"{role}.sqlite3")

    hub = Instance("hub", database("hub"), engine, smtp_port, tmp)
    site = Instance("site", database("site"), engine, smtp_port, tmp)
    try:
        hub.settings = {"HUB": {"ENABLED": True}, "OUTBOX": OUTBOX, **LOOPBACK}
        if prepared is None:
            hub_people = hub.run("hub", site.url("/support/cloud/webhook/"))
        else:
            hub_people = prepared[0]
        site.settings = {
            "MODE": "synced",
            "HOSTED_API_URL": hub.url("/support/hub/api/v1"),
            "HOSTED_API_KEY": hub_people["key"],
            "HOSTED_SIGNING_SECRET": hub_people["secret"],
            "OUTBOX": OUTBOX,
            **LOOPBACK,
        }
        site_people = site.run("site") if prepared is None else prepared[1]
        for instance in (hub, site):
            instance.start_server()
            instance.start_worker()
        yield Pair(site, hub, site_people, hub_people)
    finally:
        site.stop()
        hub.stop()


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
