"""No request waits on mail: with the default "immediate" delivery, a mutation answers at once
while the mail server accepts the connection and never says a word; the email is then tried on
the process's background sender, within a bounded wait, and kept for a retry."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path

from tests.outbox.peers import wait_until
from tests.realtime.servers import graphql_post, server, world_database

REPLY = "mutation($input: TicketReplyInput!) { ticketReply(input: $input) { errors { code } } }"


class SilentMailServer:
    """A socket on loopback that accepts every connection, holds it, and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


def _emails(db: Path) -> list[tuple[str, int, str]]:
    """The emails not yet delivered (building the world sent its own)."""
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT status, attempts, last_error FROM escalated_deliveries"
            " WHERE kind = 'email' AND status != 'delivered'"
        ).fetchall()


def test_a_mutation_answers_while_the_mail_server_never_does(tmp_path: Path) -> None:
    db = tmp_path / "world.sqlite3"
    world = world_database(db)
    silent = SilentMailServer()
    try:
        with server(
            db,
            ESCALATED_SERVER_SMTP_PORT=str(silent.port),
            ESCALATED_SERVER_SETTINGS='{"OUTBOX": {"SMTP_TIMEOUT_SECONDS": 4}}',
        ) as live:
            graphql_post(live.address, world["tokens"]["agent"], "{ viewer { role } }", {})
            started = time.monotonic()
            data = graphql_post(
                live.address,
                world["tokens"]["agent"],
                REPLY,
                {"input": {"ticketId": world["ticket"], "body": "<p>On it.</p>"}},
            )
            answered = time.monotonic() - started

            assert data["ticketReply"]["errors"] == []
            # Well under the bounded wait of 4 s, let alone Django's unbounded default.
            assert answered < 2, answered
            # Meanwhile the server is at the mail server's door, and the row is being sent.
            assert wait_until(lambda: len(silent.held) >= 1, timeout=10)
            assert [status for status, *_ in _emails(db)] == ["sending"]
            # The bounded wait runs out: a retry, not a failure, and the row stays to be sent.
            assert wait_until(lambda: _emails(db)[0][0] == "pending", timeout=15), _emails(db)
            [(status, attempts, error)] = _emails(db)
            assert (status, attempts) == ("pending", 1)
            assert "timed out" in error
    finally:
        silent.close()
