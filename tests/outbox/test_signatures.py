"""The receiving helper: a good signature passes; tampering, staleness and junk are refused."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from escalated import signatures
from escalated.signatures import SignatureError, sign, verify

SECRET = "whsec-0123456789abcdef"
BODY = b'{"event":"ticket.created","deliveryId":"abc"}'
NOW = 1_800_000_000


def test_a_signature_verifies_within_the_window() -> None:
    header = sign(SECRET, BODY, timestamp=NOW)

    assert header.startswith(f"t={NOW},v1=")
    assert verify(SECRET, BODY, header, now=NOW + 299) == NOW
    assert verify(SECRET, BODY, header, now=NOW - 299) == NOW


def test_the_signature_is_hmac_sha256_of_time_dot_body() -> None:
    import hashlib

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(SECRET, BODY, timestamp=NOW) == f"t={NOW},v1={expected}"


@pytest.mark.parametrize(
    ("body", "header", "now", "reason"),
    [
        (BODY + b" ", None, NOW, "does not match"),  # tampered body
        (BODY, f"t={NOW + 1},v1=SIG", NOW, "does not match"),  # tampered time
        (BODY, None, NOW + 301, "outside the tolerance"),  # stale: a replay
        (BODY, None, NOW - 301, "outside the tolerance"),  # from the future
        (BODY, "", NOW, "missing"),
        (BODY, "v1=abc", NOW, "needs t="),
        (BODY, f"t={NOW}", NOW, "needs t="),
        (BODY, "t=soon,v1=abc", NOW, "not a number"),
        (BODY, f"t={NOW},v1=é", NOW, "does not match"),
    ],
)
def test_bad_signatures_are_refused(body: bytes, header: str | None, now: int, reason: str) -> None:
    good = sign(SECRET, BODY, timestamp=NOW)
    if header is None:
        header = good
    header = header.replace("SIG", good.split("v1=")[1])

    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, body, header, now=now)


def test_the_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify("another-secret-entirely", BODY, sign(SECRET, BODY, timestamp=NOW), now=NOW)


def test_any_matching_v1_passes_so_secrets_can_roll_over() -> None:
    new = sign(SECRET, BODY, timestamp=NOW)
    header = f"t={NOW},v1={'0' * 64},{new.split(',')[1]}"

    assert verify(SECRET, BODY, header, now=NOW) == NOW


def test_comparison_is_constant_time(monkeypatch: Any) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    header = f"t={NOW},v1={'0' * 64},{sign(SECRET, BODY, timestamp=NOW).split(',')[1]}"

    verify(SECRET, BODY, header, now=NOW)

    assert len(calls) == 2, "every candidate is compared with hmac.compare_digest"
