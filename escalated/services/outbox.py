"""The outbox: deliveries written with the change that caused them, sent at least once.

Life of a delivery row::

    pending ──claim──▶ sending ──sent──▶ delivered
       ▲                  │
       └──failed, retry───┤ (after an exponential, jittered delay)
                          └──out of attempts, or a failure retrying cannot fix──▶ failed

* :func:`enqueue` writes rows inside the caller's transaction (so a rollback sends nothing) and,
  once it commits, hands their keys to the configured sender: this process's background sender
  thread (``OUTBOX["DELIVERY"] = "immediate"``; the request that made the change never waits
  on a mail server or a webhook), a Celery task (``"celery"``), or nobody but the worker
  (``"worker"``).
* :func:`claim` takes due rows for one worker: on PostgreSQL with ``SELECT … FOR UPDATE SKIP
  LOCKED``, so workers never wait on or take each other's rows; everywhere with a claim token
  set by a guarded UPDATE, so two workers can never both own a row. A claim is a lease: a worker
  that dies mid-send leaves rows that are due again when the lease ends, which is what makes
  delivery at-least-once rather than at-most-once.
* :func:`deliver` sends claimed rows through their channel (email, webhook), each built once and
  resent unchanged on retries, and records the outcome only while it still holds the claim.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from escalated.access import require_admin
from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode
from escalated.models import Delivery, DeliveryKind, DeliveryStatus

logger = logging.getLogger(__name__)

Content = dict[str, Any]

# Each kind's sender, by dotted path (the channel modules import this one). Doors add theirs
# with :func:`register_channel` when the app loads.
CHANNELS = {
    DeliveryKind.EMAIL: "escalated.services.notifications.EMAIL",
    DeliveryKind.WEBHOOK: "escalated.services.webhooks.WEBHOOK",
}


def register_channel(kind: str, path: str) -> None:
    """Name the sender (a :class:`Channel`, by dotted path) of a kind a door delivers."""
    CHANNELS[DeliveryKind(kind)] = path


# In "immediate" mode, a commit whose own deliveries all went out also sends up to this many
# older due rows (retries), so an embedded install heals without a worker while its peers are up.
RETRIES_PER_COMMIT = 5


@dataclass(frozen=True)
class Channel:
    """How one kind of delivery is built (once, at its first attempt) and sent."""

    build: Callable[[Delivery], Content]
    # Returns the peer's status code where there is one (HTTP), else None.
    send: Callable[[Delivery, Content], int | None]
    # Whether the built content is stored before the first send, so every retry sends the same
    # bytes. A channel whose build is a pure function of the row's fixed payload (the hub's
    # events) needs no stored copy, and saves a write per delivery.
    stores_content: bool = True
    # Whether the receiver drops a repeat of an idempotency key it applied before (the hub and
    # a synced site do, by event_id). Then a batch's successes are recorded with one UPDATE at
    # the end of the batch rather than one each: a worker that dies in between only makes the
    # receiver see a few repeats. Email is not: each success is recorded as soon as it is sent.
    receiver_deduplicates: bool = False


class DeliveryError(Exception):
    """A failed attempt. ``permanent``: retrying cannot help (e.g. a refused address)."""

    def __init__(
        self, message: str, *, status_code: int | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.permanent = permanent


@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    keys: list[str] = field(default_factory=list)
    # Seconds spent waiting on the peers' answers (the mail server, the hub): time in which
    # this process used no CPU, which the worker's pacing does not count as work.
    waited: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)  # rows attempted, by kind

    def share_of(self, kinds: Iterable[str]) -> float:
        """The share of the attempted rows that are of these kinds."""
        if not self.attempted:
            return 0.0
        return sum(self.kinds.get(kind, 0) for kind in kinds) / self.attempted

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def add(self, other: Report) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.keys += other.keys
        self.waited += other.waited
        for kind, count in other.kinds.items():
            self.kinds[kind] = self.kinds.get(kind, 0) + count


def _options() -> dict[str, Any]:
    return dict(escalated_settings.OUTBOX)


# --- writing ----------------------------------------------------------------------------------


def enqueue(rows: Iterable[Delivery]) -> list[str]:
    """Write ``rows`` in the current transaction and send them once it commits.

    A row whose idempotency key is already taken is skipped, so enqueuing the same thing twice
    (with an explicit key) sends it once. Returns the keys written or skipped.
    """
    rows = list(rows)
    if not rows:
        return []
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.idempotency_key for row in rows]
    transaction.on_commit(lambda: dispatch(keys), robust=True)
    return keys


def dispatch(keys: list[str]) -> None:
    """Hand committed deliveries to whoever sends them in the configured mode."""
    mode = _options()["DELIVERY"]
    if mode == "immediate":
        connection = transaction.get_connection()
        if connection.in_atomic_block or not writes_beside_requests(connection):
            # Only a wrapping transaction that never commits (Django's TestCase) runs commit
            # callbacks inside one: no other connection, so no other thread, sees the rows.
            send_committed(keys)
        else:
            background.submit(keys)
    elif mode == "celery":
        from escalated.tasks import deliver_outbox  # celery is an optional extra

        deliver_outbox.delay(keys)


def writes_beside_requests(connection: Any) -> bool:
    """Whether a sender thread may write while requests run their transactions.

    SQLite's default (deferred) transactions fail at once with "database is locked" when a
    reader turns writer while another connection writes, so a second writing thread would make
    requests fail; transactions that take the write lock as they begin (``"transaction_mode":
    "IMMEDIATE"``) wait for it instead. An in-memory database is this connection's alone.
    """
    if connection.vendor != "sqlite":
        return True
    if connection.is_in_memory_db():
        return False
    mode = str(connection.settings_dict.get("OPTIONS", {}).get("transaction_mode", ""))
    return mode.upper() in ("IMMEDIATE", "EXCLUSIVE")


def send_committed(keys: list[str]) -> None:
    """Send these committed rows now, and a few due retries when they all went out."""
    report = deliver(keys=keys)
    if report.retrying == report.failed == 0:
        deliver(limit=RETRIES_PER_COMMIT)


class BackgroundSender:
    """The "immediate" mode's sender: one daemon thread per process, fed the keys of each
    commit, so that no request waits on a mail server or a webhook.

    It also keeps out of the requests' way: building and sending an email is some 15 ms of
    Python, and a thread doing it beside a request takes the interpreter's lock from it for
    as long. So a batch waits while this process is serving a request (the one that made the
    change is still answering when its commit hands the keys over), for at most
    ``IDLE_WAIT_SECONDS`` after it was handed over: a process that is never idle still sends
    everything, that much later, at the pace it always did.

    Nothing is lost when the process dies mid-send: the rows are in the database, a row being
    sent holds a lease that runs out (``LEASE_SECONDS``), and the next commit, the next
    ``escalated_worker --once`` or a worker sends it then.
    """

    # A process that ends (a cron command, a stopping server) first lets its sender finish,
    # for at most this long; what is left stays in the outbox for the next sender.
    EXIT_WAIT_SECONDS = 60
    # The longest a batch waits for the process to be between requests.
    IDLE_WAIT_SECONDS = 2.0

    def __init__(self) -> None:
        self._pending: list[tuple[float, list[str]]] = []  # (handed over at, keys)
        self._busy = 0  # batches handed over and not yet sent
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._requests = 0  # requests this process is serving now
        self._idle = threading.Condition()

    def request_started(self, **kwargs: Any) -> None:
        """Receiver of Django's ``request_started`` (connected when the app loads)."""
        with self._idle:
            self._requests += 1

    def request_finished(self, **kwargs: Any) -> None:
        """Receiver of Django's ``request_finished``."""
        with self._idle:
            # Never below zero: a request that began before the receivers were connected.
            self._requests = max(0, self._requests - 1)
            if not self._requests:
                self._idle.notify_all()

    def _wait_for_idle(self, until: float) -> None:
        with self._idle:
            while self._requests:
                left = until - time.monotonic()
                if left <= 0:
                    return
                self._idle.wait(left)

    def submit(self, keys: list[str]) -> None:
        with self._changed:
            self._pending.append((time.monotonic(), keys))
            self._busy += 1
            self._changed.notify_all()
            # A forked child inherits the list but not the thread: start its own.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                if self._pid != os.getpid():
                    atexit.register(self.wait, self.EXIT_WAIT_SECONDS)
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="escalated-outbox", daemon=True
                )
                self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Until everything handed over so far was attempted; False if ``timeout`` ran out."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                handed_over, keys = self._pending.pop(0)
            try:
                self._wait_for_idle(handed_over + self.IDLE_WAIT_SECONDS)
                send_committed(keys)
            except Exception:
                # The rows stay due; a later commit or a worker sends them.
                logger.exception("Sending outbox deliveries %s raised", keys)
            finally:
                connections.close_all()  # this thread's connections only
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()


background = BackgroundSender()


# --- claiming and sending ---------------------------------------------------------------------


def claim(
    *,
    keys: Iterable[str] | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    skip_kinds: Iterable[str] = (),
) -> list[Delivery]:
    """Take up to ``limit`` due rows (of ``keys``, if given; none of ``skip_kinds``) for this
    worker, oldest due first."""
    now = now or timezone.now()
    options = _options()
    limit = limit or options["BATCH_SIZE"]
    token = uuid.uuid4().hex
    due = Delivery.objects.filter(
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING), next_attempt_at__lte=now
    )
    if keys is not None:
        due = due.filter(idempotency_key__in=list(keys))
    skip_kinds = list(skip_kinds)
    if skip_kinds:
        due = due.exclude(kind__in=skip_kinds)
    due = due.exclude(_waits_for_predecessor())
    with transaction.atomic():
        ids = list(
            due.order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        # Guarded by the same conditions: where SKIP LOCKED does not exist (SQLite), the second
        # of two racing workers updates nothing.
        due.filter(pk__in=ids).update(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            next_attempt_at=now + timedelta(seconds=options["LEASE_SECONDS"]),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    # The recipient comes with the row: an email's build reads it (one statement per row saved).
    claimed = Delivery.objects.filter(claim_token=token).select_related("webhook", "recipient_user")
    return list(claimed.order_by("id"))


def _waits_for_predecessor() -> Exists:
    """A sequenced row (one ticket's ordered stream, e.g. events to a hub) is not due while an
    earlier row of its stream is undelivered: a ticket's events leave in the order they
    happened, and a failed one holds back those after it until it is retried."""
    earlier = Delivery.objects.filter(
        kind=OuterRef("kind"),
        ticket_id=OuterRef("ticket_id"),
        sequence__lt=OuterRef("sequence"),
        sequence__isnull=False,
    ).exclude(status=DeliveryStatus.DELIVERED)
    return Exists(earlier)


def deliver(
    *,
    keys: Iterable[str] | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    jitter: Callable[[], float] | None = None,
    skip_kinds: Iterable[str] = (),
) -> Report:
    """Claim one batch of due rows (none of ``skip_kinds``) and attempt each; report what
    happened."""
    report = Report()
    sent: dict[int | None, list[Delivery]] = {}  # successes recorded at the end, by status
    try:
        for row in claim(keys=keys, limit=limit, now=now, skip_kinds=skip_kinds):
            outcome = attempt(row, now=now, jitter=jitter, record=sent, report=report)
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.keys.append(row.idempotency_key)
            report.kinds[row.kind] = report.kinds.get(row.kind, 0) + 1
    finally:
        _record_sent(sent, now)
    return report


def _record_sent(sent: dict[int | None, list[Delivery]], now: datetime | None) -> None:
    """Mark rows delivered in one UPDATE per status code, each only while its claim stands."""
    at = now or timezone.now()
    for status_code, rows in sent.items():
        owned = Q()
        for row in rows:
            owned |= Q(pk=row.pk, claim_token=row.claim_token)
        Delivery.objects.filter(owned).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=at,
            last_status_code=status_code,
            last_error="",
            claim_token="",
            updated_at=at,
        )


def drain(*, now: datetime | None = None, limit: int | None = None) -> Report:
    """Deliver batch after batch until nothing is due (each row is attempted at most once)."""
    total = Report()
    while True:
        report = deliver(now=now, limit=limit)
        total.add(report)
        if not report.attempted:
            return total


def _channel(kind: str) -> Channel:
    channel: Channel = import_string(CHANNELS[DeliveryKind(kind)])
    return channel


def attempt(
    row: Delivery,
    *,
    now: datetime | None = None,
    jitter: Callable[[], float] | None = None,
    record: dict[int | None, list[Delivery]] | None = None,
    report: Report | None = None,
) -> str:
    """Send one claimed row; return "delivered", "retrying" or "failed". With ``record``, a
    success of a channel whose receiver deduplicates is added there (by status code) for the
    caller to record with the rest of its batch, instead of being recorded now. With
    ``report``, the time the send took is added to its ``waited``."""
    channel = _channel(row.kind)
    try:
        content = row.content
        if content is None:
            content = channel.build(row)
            if channel.stores_content:
                _owned(row).update(content=content)
        began = time.monotonic()
        try:
            status_code = channel.send(row, content)
        finally:
            if report is not None:
                report.waited += time.monotonic() - began
    except DeliveryError as error:
        return _failed(row, str(error), error.status_code, error.permanent, now, jitter)
    except Exception as error:
        logger.exception(
            "Delivery %s (%s) raised; it is retried like any failed attempt", row.pk, row.kind
        )
        return _failed(row, f"{type(error).__name__}: {error}", None, False, now, jitter)
    if record is not None and channel.receiver_deduplicates and not row.payload.get(REDACT):
        record.setdefault(status_code, []).append(row)
        return "delivered"
    at = now or timezone.now()
    _owned(row).update(
        status=DeliveryStatus.DELIVERED,
        delivered_at=at,
        last_status_code=status_code,
        last_error="",
        claim_token="",
        updated_at=at,
        **_delivered_fields(row),
    )
    return "delivered"


# A payload key: the row carries a secret (a guest's magic link), so once it is delivered its
# payload's "context" and its built content are wiped, and no copy of the secret stays at rest.
REDACT = "redact_after_send"


def _delivered_fields(row: Delivery) -> dict[str, Any]:
    if not row.payload.get(REDACT):
        return {}
    kept = {key: value for key, value in row.payload.items() if key != "context"}
    return {"payload": {**kept, "redacted": True}, "content": None}


def _owned(row: Delivery) -> Any:
    """The row, only while this worker's claim on it stands (a lapsed lease loses the write)."""
    return Delivery.objects.filter(pk=row.pk, claim_token=row.claim_token)


def retry_delay(attempts: int, *, jitter: float) -> timedelta:
    """Delay after the ``attempts``-th failed attempt: base x 2^(attempts-1), capped, then scaled
    into [50%, 100%] by ``jitter`` (0..1), so retries from one outage spread out."""
    options = _options()
    full = min(options["RETRY_MAX_SECONDS"], options["RETRY_BASE_SECONDS"] * 2 ** (attempts - 1))
    return timedelta(seconds=full * (0.5 + 0.5 * jitter))


_jitter = random.Random()  # noqa: S311  (spreading retries out needs no cryptographic quality)


def _failed(
    row: Delivery,
    error: str,
    status_code: int | None,
    permanent: bool,
    now: datetime | None,
    jitter: Callable[[], float] | None,
) -> str:
    at = now or timezone.now()
    give_up = permanent or row.attempts >= _options()["MAX_ATTEMPTS"]
    if give_up:
        status, next_at = DeliveryStatus.FAILED, at
    else:
        delay = retry_delay(row.attempts, jitter=(jitter or _jitter.random)())
        status, next_at = DeliveryStatus.PENDING, at + delay
    _owned(row).update(
        status=status,
        next_attempt_at=next_at,
        last_error=error[:2000],
        last_status_code=status_code,
        claim_token="",
        updated_at=at,
    )
    if give_up:
        logger.warning("Delivery %s (%s) failed for good: %s", row.pk, row.kind, error)
        return "failed"
    logger.warning(
        "Delivery %s (%s) attempt %s did not go through; retrying at %s: %s",
        row.pk,
        row.kind,
        row.attempts,
        next_at.isoformat(timespec="seconds"),
        error,
    )
    return "retrying"


# --- admin ------------------------------------------------------------------------------------


def delivery_retry(*, actor: Any, delivery: Delivery) -> Delivery:
    """Send a failed (or waiting) delivery again now. A failed row gets one more attempt."""
    require_admin(actor)
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == DeliveryStatus.DELIVERED:
            raise DomainError(
                "This delivery was already delivered.",
                code=ErrorCode.ALREADY_DELIVERED,
                field="id",
            )
        if delivery.status == DeliveryStatus.SENDING and delivery.next_attempt_at > now:
            raise DomainError("This delivery is being sent right now.", field="id")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.claim_token = ""
        delivery.save(update_fields=["status", "next_attempt_at", "claim_token", "updated_at"])
        keys = [delivery.idempotency_key]
        transaction.on_commit(lambda: dispatch(keys), robust=True)
    return delivery
