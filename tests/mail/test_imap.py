"""IMAP polling against a real server on loopback (pymap here, Dovecot in CI): store first,
flag seen after, nothing lost or doubled across crashes and dropped connections."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from escalated.mail import imap
from escalated.models import InboundEmail, InboundStatus, Ticket
from tests.conftest import World
from tests.mail.imap_servers import ImapServer, imap_server, tls_front
from tests.mail.messages import message

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[ImapServer]:
    yield from imap_server()


@pytest.fixture
def mailbox(helpdesk: World, server: ImapServer, settings: Any) -> ImapServer:
    settings.ESCALATED = {**settings.ESCALATED, **server.settings()}
    return server


def _mails(count: int, prefix: str = "imap") -> list[bytes]:
    return [
        bytes(message(subject=f"{prefix} {n}", message_id=f"<{prefix}-{n}@mail.example.com>"))
        for n in range(count)
    ]


def test_one_pass_stores_processes_and_flags_seen(mailbox: ImapServer, commit: Any) -> None:
    mailbox.append(*_mails(3))

    with commit():
        report = imap.imap_poll_once()

    assert (report.seen, report.stored) == (3, 3)
    rows = InboundEmail.objects.order_by("pk")
    assert [r.provider for r in rows] == ["imap"] * 3
    assert {r.status for r in rows} == {InboundStatus.PROCESSED}
    assert sorted(r.ticket.subject for r in rows) == ["imap 0", "imap 1", "imap 2"]
    assert mailbox.unseen() == []

    with commit():
        again = imap.imap_poll_once()
    assert (again.seen, again.stored) == (0, 0)


def test_raw_eight_bit_iso_8859_1_is_decoded(mailbox: ImapServer, commit: Any) -> None:
    raw = (
        "From: cora@example.com\r\nTo: support@help.example.com\r\n"
        "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\nMessage-ID: <latin1@mail.example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nSchöne Grüße aus Köln.\r\n"
    ).encode("iso-8859-1")
    mailbox.append(raw)

    with commit():
        imap.imap_poll_once()

    ticket = InboundEmail.objects.get().ticket
    assert ticket.subject == "Grüße"
    assert "Schöne Grüße aus Köln." in ticket.description


def test_a_crash_mid_pass_loses_nothing_and_doubles_nothing(
    mailbox: ImapServer, commit: Any, monkeypatch: Any
) -> None:
    mailbox.append(*_mails(3, "crash"))
    tickets = Ticket.objects.count()
    real = imap.inbound_store
    calls = []

    def dies_on_the_second(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(**kwargs)

    monkeypatch.setattr(imap, "inbound_store", dies_on_the_second)
    with commit(), pytest.raises(RuntimeError):
        imap.imap_poll_once()
    assert InboundEmail.objects.count() == 1
    assert len(mailbox.unseen()) == 3  # nothing flagged: the batch never finished

    monkeypatch.setattr(imap, "inbound_store", real)
    with commit():
        report = imap.imap_poll_once()

    assert (report.seen, report.stored) == (3, 2)
    assert InboundEmail.objects.count() == 3
    assert Ticket.objects.count() == tickets + 3
    assert mailbox.unseen() == []


def test_a_connection_dropped_mid_pass_loses_and_doubles_nothing(
    mailbox: ImapServer, commit: Any, monkeypatch: Any
) -> None:
    mailbox.append(*_mails(3, "drop"))
    monkeypatch.setattr(imap, "FETCH_BATCH", 1)
    client = imap.imap_connect()
    real = imap.inbound_store

    def then_drop(**kwargs: Any) -> Any:
        stored = real(**kwargs)
        client.shutdown()  # the socket really closes: the next command fails
        return stored

    monkeypatch.setattr(imap, "inbound_store", then_drop)
    with commit(), pytest.raises(imap.CONNECTION_ERRORS):
        imap.imap_pass(client)
    assert InboundEmail.objects.count() == 1

    monkeypatch.setattr(imap, "inbound_store", real)
    with commit():
        report = imap.imap_poll_once()

    assert (report.seen, report.stored) == (3, 2)
    assert InboundEmail.objects.filter(status=InboundStatus.PROCESSED).count() == 3
    assert mailbox.unseen() == []


def test_the_command_makes_one_pass(mailbox: ImapServer, commit: Any, capsys: Any) -> None:
    mailbox.append(*_mails(2, "cmd"))

    with commit():
        call_command("poll_imap")

    assert "read 2 messages, 2 new" in capsys.readouterr().out
    assert InboundEmail.objects.count() == 2


def test_the_command_refuses_without_imap(helpdesk: World) -> None:
    with pytest.raises(CommandError, match="not 'imap'"):
        call_command("poll_imap")


def test_a_bad_password_fails_the_pass(mailbox: ImapServer, settings: Any) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "IMAP_PASSWORD": "wrong"}
    with pytest.raises(CommandError, match="IMAP pass failed"):
        call_command("poll_imap")


def test_the_daemon_backs_off_while_the_server_is_down(helpdesk: World, settings: Any) -> None:
    with socket_closed_port() as port:
        settings.ESCALATED = {
            **settings.ESCALATED,
            **ImapServer("127.0.0.1", port, "u", "p").settings(),
        }
        waits: list[float] = []

        class Recording(threading.Event):
            def wait(self, timeout: float | None = None) -> bool:
                waits.append(float(timeout or 0))
                if len(waits) == 5:
                    self.set()
                return self.is_set()

        imap.imap_run(Recording(), interval=1)

    assert waits == [1, 2, 4, 8, 16]


class socket_closed_port:
    """A loopback port nothing listens on, while the block runs."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: Any) -> None:
        self.sock.close()


def test_continuous_polling_picks_up_mail_and_stops_cleanly_on_sigterm(
    server: ImapServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "ESCALATED_SERVER_DB": str(tmp_path / "db.sqlite3"),
        # The environment fallbacks of the inbound settings (tests.settings sets none of them).
        "ESCALATED_INBOUND_EMAIL_ENABLED": "true",
        "ESCALATED_INBOUND_EMAIL_ADAPTER": "imap",
        "ESCALATED_IMAP_HOST": server.host,
        "ESCALATED_IMAP_PORT": str(server.port),
        "ESCALATED_IMAP_ENCRYPTION": "none",
        "ESCALATED_IMAP_USERNAME": server.user,
        "ESCALATED_IMAP_PASSWORD": server.password,
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=tmp_path, check=True, timeout=120)
    daemon = subprocess.Popen(
        [*manage, "poll_imap", "--continuous", "--interval", "0.5"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        assert "polling" in daemon.stdout.readline()
        server.append(*_mails(2, "daemon"))
        # One pass, or two when IDLE wakes the daemon between the two appends (under load).
        new = 0
        while new < 2:
            line = daemon.stdout.readline()
            found = re.search(r"read (\d+) messages?, (\d+) new", line)
            assert found is not None, f"unexpected output: {line!r}"
            new += int(found.group(2))
        assert new == 2
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
        assert "stopped" in daemon.stdout.read()
    finally:
        if daemon.poll() is None:
            daemon.kill()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        rows = db.execute("SELECT status, reason FROM escalated_inbound_emails").fetchall()
    # Processed after the store: strangers, and guest tickets are off in that database.
    assert rows == [("ignored", "unknown sender, and guest tickets are off")] * 2
    assert server.unseen() == []


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: Any) -> Iterator[tuple[ImapServer, Path]]:
    """pymap offering STARTTLS with a certificate from a CA made here; the CA's file is what
    the test trusts (OpenSSL's SSL_CERT_FILE)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    yield from (
        (server, tmp_path / "ca.pem")
        for server in imap_server(tls=(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")))
    )


def test_starttls_verifies_the_servers_certificate(
    helpdesk: World,
    tls_server: tuple[ImapServer, Path],
    settings: Any,
    commit: Any,
    monkeypatch: Any,
) -> None:
    server, ca_file = tls_server
    settings.ESCALATED = {**settings.ESCALATED, **server.settings(), "IMAP_ENCRYPTION": "starttls"}

    with pytest.raises(ssl.SSLCertVerificationError):  # a certificate nobody here trusts
        imap.imap_poll_once()

    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server.append(*_mails(1, "tls"))  # plain here: pymap does not require STARTTLS to log in
    with commit():
        report = imap.imap_poll_once()
    assert (report.seen, report.stored) == (1, 1)


@dataclass
class ImplicitTls:
    tls: ImapServer  # where poll_imap connects, TLS from the first byte
    plain: ImapServer  # the same mailbox in plain IMAP, for the test to fill
    ca: Path  # the CA that signed the server's certificate


@pytest.fixture
def implicit_tls(tmp_path: Path) -> Iterator[ImplicitTls]:
    """IMAPS: Dovecot's own TLS port in CI (ESCALATED_TEST_IMAPS_PORT), else pymap behind a TLS
    front with a certificate from a CA made here (trustme)."""
    if os.environ.get("ESCALATED_TEST_IMAPS_PORT"):
        for plain in imap_server():
            port = int(os.environ["ESCALATED_TEST_IMAPS_PORT"])
            tls = ImapServer(plain.host, port, plain.user, plain.password)
            yield ImplicitTls(tls, plain, Path(os.environ["ESCALATED_TEST_IMAP_CA"]))
        return
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    for plain in imap_server(pymap=True):
        with tls_front(plain, str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")) as tls:
            yield ImplicitTls(tls, plain, tmp_path / "ca.pem")


def test_implicit_tls_verifies_the_certificate_then_polls(
    helpdesk: World, implicit_tls: ImplicitTls, settings: Any, commit: Any, monkeypatch: Any
) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        **implicit_tls.tls.settings(),
        "IMAP_ENCRYPTION": "ssl",
    }
    implicit_tls.plain.append(*_mails(2, "imaps"))

    with pytest.raises(ssl.SSLCertVerificationError):  # signed by a CA nobody here trusts
        imap.imap_poll_once()
    assert InboundEmail.objects.count() == 0
    assert len(implicit_tls.plain.unseen()) == 2

    monkeypatch.setenv("SSL_CERT_FILE", str(implicit_tls.ca))
    with commit():
        report = imap.imap_poll_once()

    assert (report.seen, report.stored) == (2, 2)
    assert implicit_tls.plain.unseen() == []
    assert {r.status for r in InboundEmail.objects.all()} == {InboundStatus.PROCESSED}
    assert sorted(
        Ticket.objects.filter(subject__startswith="imaps").values_list("subject", flat=True)
    ) == ["imaps 0", "imaps 1"]
