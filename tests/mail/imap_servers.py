"""Real IMAP servers on loopback for the tests: pymap (pure Python, in-memory) by default, or the
Dovecot that .ci/run starts when ESCALATED_TEST_IMAP=dovecot (its address in
ESCALATED_TEST_IMAP_ADDRESS, ``host:port:user:password``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

PYMAP = Path(sys.executable).with_name("pymap")


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def settings(self) -> dict[str, object]:
        return {
            "INBOUND_EMAIL_ADAPTER": "imap",
            "IMAP_HOST": self.host,
            "IMAP_PORT": self.port,
            "IMAP_ENCRYPTION": "none",
            "IMAP_USERNAME": self.user,
            "IMAP_PASSWORD": self.password,
            "IMAP_MAILBOX": "INBOX",
        }

    def client(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, *raws: bytes) -> None:
        client = self.client()
        try:
            for raw in raws:
                client.append("INBOX", raw)
        finally:
            client.logout()

    def unseen(self) -> list[int]:
        client = self.client()
        try:
            client.select_folder("INBOX")
            return list(client.search(["UNSEEN"]))
        finally:
            client.logout()

    def empty(self) -> None:
        client = self.client()
        try:
            client.select_folder("INBOX")
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()
        finally:
            client.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the IMAP server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no IMAP server answered on 127.0.0.1:{port}")


def imap_server(*, tls: tuple[str, str] | None = None) -> Iterator[ImapServer]:
    """A server for one test; ``tls`` (certificate and key files) makes pymap offer STARTTLS
    (always pymap: the CI Dovecot speaks plain IMAP only)."""
    if tls is None and os.environ.get("ESCALATED_TEST_IMAP") == "dovecot":
        host, port, user, password = os.environ["ESCALATED_TEST_IMAP_ADDRESS"].split(":", 3)
        server = ImapServer(host, int(port), user, password)
        server.empty()
        yield server
        return
    port = _free_port()
    encryption = ["--cert", tls[0], "--key", tls[1]] if tls else ["--no-tls"]
    process = subprocess.Popen(
        [
            str(PYMAP),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *encryption,
            "--no-service",
            "admin",
            "dict",
            "--demo-user",
            "inbox",
            "--demo-password",
            "secret",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process)
        yield ImapServer("127.0.0.1", port, "inbox", "secret")
    finally:
        process.terminate()
        process.wait(timeout=10)
