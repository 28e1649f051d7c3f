"""Bearer secrets (API tokens, guest links): issued once in clear, stored as a hash, found by a
visible prefix and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# How much of a secret after its prefix is kept in clear, for lookups and for people.
VISIBLE_RANDOM_CHARS = 8


def hash_token(raw: str) -> str:
    # The secrets carry 256 bits of randomness, so a fast hash is enough: there is nothing to
    # guess that a slow hash would protect.
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedSecret:
    raw: str = ""
    visible: str = ""
    hashed: str = ""


def secret_issue(prefix: str) -> IssuedSecret:
    raw = prefix + secrets.token_urlsafe(32)
    return IssuedSecret(
        raw=raw, visible=raw[: len(prefix) + VISIBLE_RANDOM_CHARS], hashed=hash_token(raw)
    )


def secret_visible_part(raw: str, prefix: str) -> str | None:
    """The clear part to look candidates up by, or None when ``raw`` cannot be one of ours."""
    visible = len(prefix) + VISIBLE_RANDOM_CHARS
    if not raw.startswith(prefix) or not visible <= len(raw) <= 256:
        return None
    return raw[:visible]


def secret_match(raw: str, candidates: Iterable[tuple[T, str | None]]) -> T | None:
    """The candidate whose stored hash is ``raw``'s. Every candidate is compared, each with
    :func:`hmac.compare_digest`, so timing says nothing about which one, or how much, matched."""
    digest = hash_token(raw)
    match = None
    for candidate, stored in candidates:
        if stored is not None and hmac.compare_digest(stored, digest):
            match = candidate
    return match
