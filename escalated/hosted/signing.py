"""The signature of a hub's call to a site: ``X-Escalated-Signature: sha256=<hex HMAC-SHA256 of
the raw body with the site's signing secret>`` (the format the product's hosted hub sends).

The body carries an ``event_id``; a receiver keeps the ids it applied, so a replayed call (same
body, same signature) changes nothing. Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Escalated-Signature"
MIN_SECRET_LENGTH = 16
_SCHEME = "sha256="


class SignatureError(ValueError):
    """The signature is missing, malformed or does not match the body."""


def sign(secret: str, body: bytes) -> str:
    return _SCHEME + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` (constant-time compare)."""
    if not header or not header.startswith(_SCHEME):
        raise SignatureError(f"The {HEADER} header must be 'sha256=<hex HMAC>'.")
    if not hmac.compare_digest(sign(secret, body).encode("ascii"), header.strip().encode("utf-8")):
        raise SignatureError("The signature does not match the body.")
