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
import urllib.error
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


@dataclass(frozen=True)
class Placement:
    """Where an instance's processes run, so one machine can stand in for two: the PostgreSQL
    server its database lives on (``pg_port``; None: the environment's PGPORT), the CPUs its
    server and worker may use (None: any), and their niceness."""

    pg_port: int | None = None
    cpus: frozenset[int] | None = None
    nice: int = 0


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
    # The benchmark's co-located hub stands in for one on another machine: its own CPU and
    # PostgreSQL server, or a lower priority than the site's processes.
    placement: Placement = field(default_factory=Placement)
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
            **({"PGPORT": str(self.placement.pg_port)} if self.placement.pg_port else {}),
        }

    def run(self, *args: str, timeout: float = 600) -> Any:
        """``python -m tests.hosted.instance_db <args>`` on this instance; its JSON."""
        return python_json(["-m", "tests.hosted.instance_db", *args], self.env(), timeout)

    def command(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``python -m django <args>`` on this instance (a management command); its outcome."""
        return subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_command(self, *args: str) -> subprocess.Popen[bytes]:
        """``python -m django <args>`` on this instance, left running (its output in the logs)."""
        return subprocess.Popen(
            [sys.executable, "-m", "django", *args],
            env=self.env(),
            cwd=ROOT,
            stdout=self._log(args[0]),
            stderr=subprocess.STDOUT,
        )

    def _log(self, what: str) -> Any:
        return open(self.logs / f"{self.name}-{what}.log", "ab")

    def start_server(self) -> None:
        if self._listener is None:  # restarting: the same port again
            self._listener = _listener(self.port)
        fd = self._listener.fileno()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "asgi:application", "--fd", str(fd), *QUIET],
            pass_fds=[fd],
            preexec_fn=self._placed,
            env=self.env(),
            cwd=ROOT,
            stdout=self._log("server"),
            stderr=subprocess.STDOUT,
        )
        self._listener.close()
        self._listener = None

    def _placed(self) -> None:
        if self.placement.nice:
            os.nice(self.placement.nice)
        if self.placement.cpus is not None:
            os.sched_setaffinity(0, self.placement.cpus)

    def stop_server(self) -> None:
        _stop(self.server)
        self.server = None

    def start_worker(self, *args: str) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "django", "escalated_worker", "--interval", "0.2", *args],
            preexec_fn=self._placed,
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
        status, body = self.post(token, query, variables)
        assert status == 200 and "errors" not in body, body
        return body["data"]

    def post(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """POST an operation with a bearer token; the HTTP status and the JSON answer."""
        request = urllib.request.Request(
            self.url("/support/graphql/"),
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


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
    *,
    site_mode: str = "synced",
    prepared: tuple[dict[str, Any], dict[str, Any]] | None = None,
    hub_placement: Placement | None = None,
    site_placement: Placement | None = None,
) -> Iterator[Pair]:
    """A hub with one registered site, and that site in ``site_mode``, both running (a
    self-hosted site runs no processes: it only has a database for its commands). With
    ``prepared`` (the hub's and the site's people, as made before), the databases are kept as
    they are (the benchmark restores them from a saved copy) instead of made again. The
    placements say where each instance's processes and database run (default: anywhere, on the
    environment's PostgreSQL server)."""

    def database(role: str) -> str:
        return f"{db_name}_{role}" if engine == "postgres" else str(tmp / f"{role}.sqlite3")

    hub = Instance(
        "hub", database("hub"), engine, smtp_port, tmp, placement=hub_placement or Placement()
    )
    site = Instance(
        "site", database("site"), engine, smtp_port, tmp, placement=site_placement or Placement()
    )
    try:
        hub.settings = {"HUB": {"ENABLED": True}, "OUTBOX": OUTBOX, **LOOPBACK}
        if prepared is None:
            hub_people = hub.run("hub", site.url("/support/cloud/webhook/"))
        else:
            hub_people = prepared[0]
        site.settings = {
            "MODE": site_mode,
            "GUEST_TICKETS_ENABLED": True,
            "HOSTED_API_URL": hub.url("/support/hub/api/v1"),
            "HOSTED_API_KEY": hub_people["key"],
            "HOSTED_SIGNING_SECRET": hub_people["secret"],
            "OUTBOX": OUTBOX,
            **LOOPBACK,
        }
        site_people = site.run("site") if prepared is None else prepared[1]
        for instance in (hub,) if site_mode == "self_hosted" else (hub, site):
            instance.start_server()
            instance.start_worker()
        yield Pair(site, hub, site_people, hub_people)
    finally:
        site.stop()
        hub.stop()


@dataclass
class Helpdesk:
    """Where the acceptance flow runs: ``front`` is the instance its people talk to (a
    self-hosted helpdesk, or a cloud-mode site), ``hub`` the hub behind a cloud-mode site."""

    mode: str
    front: Instance
    people: dict[str, Any]
    hub: Instance | None = None
    # The hub's site key, signing secret and its own agent's token (instance_db hub).
    hub_people: dict[str, Any] = field(default_factory=dict)


@contextmanager
def helpdesk(
    mode: str, tmp: Path, engine: str, db_name: str, *, both: dict[str, Any] | None = None
) -> Iterator[Helpdesk]:
    """A running self-hosted helpdesk, or a cloud-mode site in front of a running hub; either
    way with the people of ``instance_db people`` (an agent, a customer, another customer).
    ``both``: more ESCALATED settings for the front and the hub alike."""

    def database(role: str) -> str:
        return f"{db_name}_{role}" if engine == "postgres" else str(tmp / f"{role}.sqlite3")

    front = Instance(mode, database(mode), engine, 25, tmp)
    hub = Instance("hub", database("hub"), engine, 25, tmp) if mode == "cloud" else None
    keys: dict[str, Any] = {}
    try:
        if hub is not None:
            hub.settings = {"HUB": {"ENABLED": True}, **LOOPBACK, **(both or {})}
            keys = hub.run("hub", "")
            front.settings = {
                **(both or {}),
                "MODE": "cloud",
                "HOSTED_API_URL": hub.url("/support/hub/api/v1"),
                "HOSTED_API_KEY": keys["key"],
                "HOSTED_SIGNING_SECRET": keys["secret"],
                "HOSTED_TIMEOUT_SECONDS": 30,
            }
            hub.start_server()
        elif both:
            front.settings = dict(both)
        people = front.run("people")
        front.start_server()
        yield Helpdesk(mode, front, people, hub, keys)
    finally:
        front.stop()
        if hub is not None:
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
