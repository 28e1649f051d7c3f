"""The viewer assertion: who a cloud-mode site says is asking, signed with the site's secret.

Format (one header, ``X-Escalated-Viewer``)::

    v1.<claims>.<signature>

``claims`` is the base64url (no padding) of a JSON object::

    {"sub": "42" | null,          # the site's own id for the user (null: not signed in)
     "email": "...", "name": "...",
     "role": "customer" | "agent" | "admin" | "anonymous",  # what the site's role rule says
     "iat": 1765000000, "exp": 1765000060,                  # Unix seconds
     "jti": "<32 hex>"}                                      # unique: the hub spends it once

``signature`` is the base64url of HMAC-SHA256(secret, ``"escalated-viewer." + "v1." + claims``)
where the secret is the site's signing secret (``HOSTED_SIGNING_SECRET``, shown by
``siteCreate``). The prefix keeps these signatures apart from the hub's webhook signatures made
with the same secret. The hub refuses an assertion whose signature does not match (compared in
constant time), that has expired, that was issued more than :data:`SKEW` in the future, that
claims to live longer than :data:`MAX_LIFETIME`, or whose ``jti`` it has seen before.

Standard library only: both ends (the site and the hub) import this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

HEADER = "X-Escalated-Viewer"
VERSION = "v1"
_CONTEXT = b"escalated-viewer."
LIFETIME = 60
"""Seconds a site's assertion lives: one forwarded operation needs only a moment."""
MAX_LIFETIME = 120
"""The longest life the hub accepts (``exp - iat``)."""
SKEW = 30
"""How far the site's clock may run ahead of the hub's."""
ROLES = ("customer", "agent", "admin", "anonymous")
MAX_LENGTH = 4096


class AssertionRefused(ValueError):
    """The assertion is missing, malformed, forged, expired or otherwise not acceptable."""


@dataclass(frozen=True)
class Viewer:
    """The claims of a checked (or about to be signed) assertion."""

    sub: str | None
    email: str
    name: str
    role: str
    iat: int
    exp: int
    jti: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, signed: str) -> bytes:
    return hmac.new(
        secret.encode("utf-8"), _CONTEXT + signed.encode("ascii"), hashlib.sha256
    ).digest()


def issue(
    secret: str,
    *,
    sub: str | None,
    email: str,
    name: str,
    role: str,
    now: float | None = None,
    lifetime: int = LIFETIME,
) -> str:
    """A fresh assertion of this viewer, valid for ``lifetime`` seconds from ``now``."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}.")
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": sub,
        "email": email,
        "name": name,
        "role": role,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_hex(16),
    }
    body = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    signed = f"{VERSION}.{body}"
    return f"{signed}.{_b64(_signature(secret, signed))}"


def _text(claims: dict[str, object], name: str, limit: int) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise AssertionRefused(f"The assertion's {name!r} must be text of at most {limit}.")
    return value


def _seconds(claims: dict[str, object], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AssertionRefused(f"The assertion's {name!r} must be Unix seconds.")
    return value


def verify(secret: str, header: str | None, *, now: float | None = None) -> Viewer:
    """The viewer ``header`` asserts, signed with ``secret`` and live at ``now``; else
    :class:`AssertionRefused`. Whether its ``jti`` was already spent is the caller's check."""
    if not header:
        raise AssertionRefused(f"The {HEADER} header is missing.")
    if len(header) > MAX_LENGTH:
        raise AssertionRefused("The assertion is too long.")
    version, _, rest = header.strip().partition(".")
    body, _, signature = rest.partition(".")
    if version != VERSION or not body or not signature:
        raise AssertionRefused("The assertion is not 'v1.<claims>.<signature>'.")
    try:
        given = _unb64(signature)
        expected = _signature(secret, f"{version}.{body}")
    except (binascii.Error, ValueError, UnicodeEncodeError) as error:
        raise AssertionRefused("The assertion's signature is not base64url.") from error
    if not hmac.compare_digest(expected, given):
        raise AssertionRefused("The assertion's signature does not match.")
    try:
        claims = json.loads(_unb64(body))
    except (binascii.Error, ValueError) as error:
        raise AssertionRefused("The assertion's claims are not base64url JSON.") from error
    if not isinstance(claims, dict):
        raise AssertionRefused("The assertion's claims are not an object.")
    role = claims.get("role")
    if role not in ROLES:
        raise AssertionRefused(f"The assertion's role must be one of {', '.join(ROLES)}.")
    sub = claims.get("sub")
    if sub is not None:
        sub = _text(claims, "sub", 120)
        if not sub:
            raise AssertionRefused("The assertion's 'sub' is empty.")
    elif role != "anonymous":
        raise AssertionRefused("Only an anonymous viewer comes without a 'sub'.")
    issued, expires = _seconds(claims, "iat"), _seconds(claims, "exp")
    jti = _text(claims, "jti", 64)
    if len(jti) < 16:
        raise AssertionRefused("The assertion's 'jti' is too short to be unique.")
    moment = time.time() if now is None else now
    if expires <= moment:
        raise AssertionRefused("The assertion has expired.")
    if issued > moment + SKEW:
        raise AssertionRefused("The assertion was issued in the future.")
    if expires - issued > MAX_LIFETIME or expires < issued:
        raise AssertionRefused(f"The assertion may live at most {MAX_LIFETIME} seconds.")
    return Viewer(
        sub=sub,
        email=_text(claims, "email", 254),
        name=_text(claims, "name", 300),
        role=str(role),
        iat=issued,
        exp=expires,
        jti=jti,
    )
