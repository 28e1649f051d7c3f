"""IMAP polling: ``poll_imap`` makes one pass, ``poll_imap --continuous`` keeps passing.

A pass reads unseen messages with ``BODY.PEEK[]`` (which leaves them unseen), stores each one
(:func:`escalated.mail.store.inbound_store`, committed), and only then flags the batch
``\\Seen``. A crash or a dropped connection before the flag leaves the messages unseen, so the
next pass reads them again and the store, finding their Message-IDs, changes nothing: nothing
is lost and nothing is doubled.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from escalated.conf import escalated_settings
from escalated.mail.processing import STUCK_AFTER, inbound_process_pending
from escalated.mail.store import inbound_store
from escalated.models import InboundProvider

logger = logging.getLogger(__name__)

FETCH_BATCH = 50
TIMEOUT_SECONDS = 60
MAX_BACKOFF_SECONDS = 300
# How long one IDLE wait lasts before the loop looks at its stop flag again.
IDLE_SLICE_SECONDS = 1.0
CONNECTION_ERRORS = (IMAPClientError, OSError)


@dataclass
class PassReport:
    seen: int = 0  # unseen messages read
    stored: int = 0  # of which new (the rest were stored before)


def imap_connect() -> IMAPClient:
    """Log in to the configured server and select the configured mailbox."""
    s = escalated_settings
    context = ssl.create_default_context()
    client = IMAPClient(
        s.IMAP_HOST,
        port=s.IMAP_PORT,
        ssl=s.IMAP_ENCRYPTION == "ssl",
        ssl_context=context,
        timeout=TIMEOUT_SECONDS,
    )
    try:
        if s.IMAP_ENCRYPTION == "starttls":
            client.starttls(context)
        client.login(s.IMAP_USERNAME, s.IMAP_PASSWORD)
        client.select_folder(s.IMAP_MAILBOX)
    except BaseException:
        with contextlib.suppress(OSError):  # a failed STARTTLS leaves no socket to close
            client.shutdown()
        raise
    return client


def imap_pass(client: IMAPClient) -> PassReport:
    """Store every unseen message of the selected mailbox, then flag it seen."""
    report = PassReport()
    uids = sorted(client.search(["UNSEEN", "NOT", "DELETED"]))
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        fetched = client.fetch(batch, ["BODY.PEEK[]"])
        done = []
        for uid in batch:
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if raw is None:
                continue  # expunged meanwhile
            report.seen += 1
            report.stored += inbound_store(provider=InboundProvider.IMAP, raw=bytes(raw)).created
            done.append(uid)
        if done:
            client.add_flags(done, [b"\\Seen"])
    return report


def imap_poll_once() -> PassReport:
    """One pass over the mailbox on a fresh connection; also finishes any stuck message."""
    client = imap_connect()
    try:
        report = imap_pass(client)
    finally:
        _close(client)
    inbound_process_pending(older_than=STUCK_AFTER)
    return report


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except CONNECTION_ERRORS:
        client.shutdown()


def _wait_for_mail(client: IMAPClient, stop: threading.Event, interval: float) -> None:
    """Until new mail, ``interval`` seconds or ``stop``: IDLE where the server offers it."""
    if not client.has_capability("IDLE"):
        stop.wait(interval)
        return
    client.idle()
    try:
        waited = 0.0
        while not stop.is_set() and waited < interval:
            if client.idle_check(timeout=IDLE_SLICE_SECONDS):
                break
            waited += IDLE_SLICE_SECONDS
    finally:
        client.idle_done()


def imap_run(
    stop: threading.Event,
    *,
    interval: float = 60.0,
    on_pass: Callable[[PassReport], None] | None = None,
) -> None:
    """Pass after pass until ``stop`` is set; a lost connection is retried with a doubling
    delay (1 s up to MAX_BACKOFF_SECONDS), reset by the next good connection."""
    backoff = 1.0
    while not stop.is_set():
        try:
            client = imap_connect()
        except CONNECTION_ERRORS as error:
            logger.warning("IMAP connection failed (%s); retrying in %.0f s", error, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        backoff = 1.0
        try:
            while not stop.is_set():
                report = imap_pass(client)
                inbound_process_pending(older_than=STUCK_AFTER)
                if on_pass is not None:
                    on_pass(report)
                _wait_for_mail(client, stop, interval)
        except CONNECTION_ERRORS as error:
            logger.warning("IMAP connection lost (%s); reconnecting", error)
            stop.wait(backoff)
        finally:
            _close(client)
