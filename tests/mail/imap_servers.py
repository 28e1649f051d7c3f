"""Real IMAP servers on loopback for the tests: pymap (pure Python, in-memory) by default, or the
Dovecot that .ci/run starts when ESCALATED_TEST_IMAP=dovecot (its address in
ESCALATED_TEST_IMAP_ADDRESS, ``host:port:user:password``; its implicit-TLS port in
ESCALATED_TEST_IMAPS_PORT, with the CA that signed its certificate in ESCALATED_TEST_IMAP_CA)."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import threading
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


def imap_server(*, tls: tuple[str, str] | None = None, pymap: bool = False) -> Iterator[ImapServer]:
    """A server for one test; ``tls`` (certificate and key files) makes pymap offer STARTTLS
    (always pymap, as is ``pymap``: the CI Dovecot's certificate is fixed by .ci/run)."""
    if tls is None and not pymap and os.environ.get("ESCALATED_TEST_IMAP") == "dovecot":
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


@contextlib.contextmanager
def tls_front(target: ImapServer, cert: str, key: str) -> Iterator[ImapServer]:
    """Implicit TLS (IMAPS) in front of a plain IMAP server, as stunnel or a load balancer puts
    it: pymap speaks STARTTLS only. Each connection's TLS handshake is real (the client checks
    the certificate); the bytes inside go to ``target`` unchanged."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def serve(raw: socket.socket) -> None:
        try:
            client = context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()  # a client that refused our certificate
            return
        upstream = socket.create_connection((target.host, target.port))
        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(10)
        client.close()
        upstream.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(None)
            worker = threading.Thread(target=serve, args=(raw,), daemon=True)
            worker.start()
            threads.append(worker)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        port = int(listener.getsockname()[1])
        yield ImapServer("127.0.0.1", port, target.user, target.password)
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
