"""Webhook signatures: how Escalated signs the calls it makes, and how a receiver checks them.

Every call carries::

    X-Escalated-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>

Signing the time with the body lets a receiver refuse a replayed call: :func:`verify` accepts a
signature only within ``tolerance`` seconds of its time. A receiver may accept several ``v1``
values (Escalated sends one; the format leaves room to roll a secret over).

Receiving Escalated's webhooks in any Python project::

    from escalated.signatures import SignatureError, verify

    def receive(request):
        try:
            verify(secret, request.body, request.headers.get("X-Escalated-Signature"))
        except SignatureError:
            return HttpResponse(status=400)
        event = json.loads(request.body)  # dedupe on event["deliveryId"]: delivery is at least once

This module uses only the standard library, so it can be copied into a project without Django.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Escalated-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature is missing, malformed, stale, or does not match the body."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for ``body`` signed with ``secret`` at ``timestamp`` (default: now)."""
    when = int(time.time()) if timestamp is None else timestamp
    return f"t={when},v1={_digest(secret, when, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            if not (value.isascii() and value.isdigit()):
                raise SignatureError("The signature's timestamp is not a number.")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("The signature header needs t=<time> and v1=<signature>.")
    return timestamp, signatures


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body``; return the signed timestamp, or raise
    :class:`SignatureError`.

    The comparison takes constant time. A signature more than ``tolerance`` seconds from ``now``
    (in either direction) is refused even when it matches, so a captured call cannot be replayed
    later.
    """
    if not header:
        raise SignatureError(f"The {HEADER} header is missing.")
    timestamp, candidates = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("The signature's timestamp is outside the tolerance window.")
    expected = _digest(secret, timestamp, body).encode("ascii")
    matched = False
    for candidate in candidates:
        # Check every candidate, so the time taken does not tell which one matched.
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8"))
    if not matched:
        raise SignatureError("The signature does not match the body.")
    return timestamp
