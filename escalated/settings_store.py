"""Settings admins may change from the Settings page, layered over the host's configuration.

For a key in :data:`EDITABLE`, :data:`escalated.conf.escalated_settings` answers with the first
of: the value stored here (the database), the host's ``settings.ESCALATED``, the environment
variable named in the table (``ESCALATED_<KEY>``), the default. Every other key reads as before.

Cost and freshness: the stored values are read from the database once and kept in the process.
A change writes a new random token to the cache (ESCALATED's ``SETTINGS_STORE_CACHE``, a
shared cache in production, like the guest rate limit's); each process compares its token with
the cache's at the first read of a request (and at most once a second outside requests), so a
request costs at most one cache lookup, and no SQL unless the values changed. The process that
made the change sees it at once.

Secrets are stored encrypted (Fernet: AES-128-CBC with an HMAC-SHA256, from the maintained
``cryptography`` package), with a key derived from ``SECRET_KEY`` by HKDF, so there is no new
key to keep; ``SECRET_KEY_FALLBACKS`` still decrypt after a key rotation. A secret is never
sent back to a page or the API: they learn only whether it is set.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_started
from django.db import DatabaseError, connection, transaction

from escalated.conf import Option, _value


def _boolean(raw: Any) -> Any:
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "on", "yes"):
            return True
        if lowered in ("0", "false", "off", "no", ""):
            return False
    return raw


def _integer_or_none(raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw)
    return raw


def _integer(raw: Any) -> Any:
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw)
    return raw


def _text(raw: Any) -> Any:
    return raw.strip() if isinstance(raw, str) else raw


def _text_or_none(raw: Any) -> Any:
    """Optional text: an empty field clears it."""
    text = _text(raw)
    return None if text == "" else text


@dataclass(frozen=True)
class Editable:
    """One admin-editable key: its ESCALATED name, the Settings page's field, how a posted or
    environment value becomes a setting (checked afterwards by the option's own check), and
    whether it is a secret."""

    name: str
    form: str
    coerce: Callable[[Any], Any]
    secret: bool = False

    @property
    def env(self) -> str:
        return f"ESCALATED_{self.name}"


# Adding an editable key is one line here (the option itself lives in escalated.conf).
EDITABLE: dict[str, Editable] = {
    e.name: e
    for e in (
        Editable("GUEST_TICKETS_ENABLED", "guest_tickets_enabled", _boolean),
        Editable("ALLOW_CUSTOMER_CLOSE", "allow_customer_close", _boolean),
        Editable(
            "AUTO_CLOSE_RESOLVED_AFTER_DAYS", "auto_close_resolved_after_days", _integer_or_none
        ),
        Editable("MAX_ATTACHMENTS", "max_attachments_per_reply", _integer),
        Editable("MAX_ATTACHMENT_SIZE_KB", "max_attachment_size_kb", _integer),
        Editable("REFERENCE_PREFIX", "ticket_reference_prefix", _text),
        Editable("SHOW_POWERED_BY", "show_powered_by", _boolean),
        Editable("INBOUND_EMAIL_ENABLED", "inbound_email_enabled", _boolean),
        Editable("INBOUND_EMAIL_ADAPTER", "inbound_email_adapter", _text),
        Editable("INBOUND_EMAIL_ADDRESS", "inbound_email_address", _text_or_none),
        Editable("MAILGUN_SIGNING_KEY", "mailgun_signing_key", _text_or_none, secret=True),
        Editable("POSTMARK_INBOUND_TOKEN", "postmark_inbound_token", _text_or_none, secret=True),
        Editable("SES_REGION", "ses_region", _text_or_none),
        Editable("SES_TOPIC_ARN", "ses_topic_arn", _text_or_none),
        Editable("IMAP_HOST", "imap_host", _text_or_none),
        Editable("IMAP_PORT", "imap_port", _integer),
        Editable("IMAP_ENCRYPTION", "imap_encryption", _text),
        Editable("IMAP_USERNAME", "imap_username", _text_or_none),
        Editable("IMAP_PASSWORD", "imap_password", _text_or_none, secret=True),
        Editable("IMAP_MAILBOX", "imap_mailbox", _text),
    )
}

# Fields the Settings page sends for features this project does not have (chat, the widget,
# the knowledge base): accepted and ignored; the page shows them off.
UNSUPPORTED_PREFIXES = ("widget_", "chat_", "knowledge_base_")

CACHE_TOKEN_KEY = "escalated:settings-store:token"
RECHECK_SECONDS = 1.0
SECRET_MASK = "••••••••"  # what a page shows for a secret that is set; posting it back keeps it


def by_form_field() -> dict[str, Editable]:
    return {e.form: e for e in EDITABLE.values()}


def is_unsupported(field: str) -> bool:
    return field.startswith(UNSUPPORTED_PREFIXES)


# --- encryption -------------------------------------------------------------------------------


def _fernet() -> Any:
    from cryptography.fernet import Fernet, MultiFernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def key(secret: str | bytes) -> Fernet:
        material = secret.encode() if isinstance(secret, str) else secret
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"escalated settings store"
        ).derive(material)
        return Fernet(base64.urlsafe_b64encode(derived))

    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([key(k) for k in keys])


def encrypt(value: str) -> str:
    return str(_fernet().encrypt(value.encode()).decode())


def decrypt(token: str) -> str:
    return str(_fernet().decrypt(token.encode()).decode())


# --- the in-process copy ------------------------------------------------------------------------


class _Copy:
    """The stored values as this process last read them, and the cache token they match."""

    def __init__(self) -> None:
        self.values: dict[str, Any] | None = None
        self.token: Any = None
        self.checked_at = float("-inf")
        self.stale = True

    def reset(self, values: dict[str, Any] | None = None) -> None:
        """Forget what was read (None), or adopt ``values`` as matching the cache's token."""
        self.values = values
        self.token = self._cache_token() if values is not None else None
        self.checked_at = time.monotonic()
        self.stale = values is None

    @staticmethod
    def _cache() -> Any:
        from escalated.conf import escalated_settings

        return caches[escalated_settings.SETTINGS_STORE_CACHE]

    def _cache_token(self) -> Any:
        return self._cache().get(CACHE_TOKEN_KEY)

    def announce(self) -> None:
        """Tell every process the values changed."""
        self._cache().set(CACHE_TOKEN_KEY, secrets.token_hex(8), timeout=None)

    def current(self) -> dict[str, Any]:
        now = time.monotonic()
        if self.values is not None and not self.stale and now - self.checked_at < RECHECK_SECONDS:
            return self.values
        if _in_event_loop():
            # No blocking SQL on an event loop: keep what we have until a sync caller reloads.
            return self.values or {}
        token = self._cache_token()
        if self.values is None or token != self.token:
            loaded = _load()
            if loaded is None:
                return {}
            self.values, self.token = loaded, token
        self.checked_at, self.stale = now, False
        return self.values


_copy = _Copy()


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _load() -> dict[str, Any] | None:
    """Every stored row as ``{key: value}`` (secrets decrypted), or None when the table cannot
    be read yet (before ``migrate``)."""
    from django.apps import apps

    if not apps.ready:
        return None
    from escalated.models import StoredSetting

    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                rows = list(StoredSetting.objects.values_list("key", "value", "ciphertext"))
        else:
            rows = list(StoredSetting.objects.values_list("key", "value", "ciphertext"))
    except DatabaseError:
        return None
    values: dict[str, Any] = {}
    for key, value, ciphertext in rows:
        if key in EDITABLE:
            values[key] = decrypt(ciphertext) if ciphertext else value
    return values


def _mark_stale(**_kwargs: Any) -> None:
    _copy.stale = True


request_started.connect(_mark_stale, dispatch_uid="escalated.settings_store")


@cache
def _environment() -> dict[str, str]:
    """The editable keys' environment variables, read once: the environment does not change
    under a running process, and os.environ is slow to ask on every read of a setting. A key whose
    option parses its own ``ESCALATED_<KEY>`` is left to escalated.conf (see :func:`configured`)."""
    from escalated.conf import OPTIONS

    return {
        name: os.environ[e.env]
        for name, e in EDITABLE.items()
        if e.env in os.environ and (name not in OPTIONS or OPTIONS[name].env is None)
    }


def forget() -> None:
    """Drop the in-process copy and the environment read (tests, and the process that changed
    the values)."""
    _environment.cache_clear()
    _copy.reset(None)


def assume_empty() -> None:
    """Take the store as empty at the cache's current token, without asking the database (a test
    starting on a fresh, rolled-back database)."""
    _environment.cache_clear()
    _copy.reset({})


def changed() -> None:
    """After a write: this process rereads at once, the others at their next check."""
    forget()
    transaction.on_commit(_copy.announce)


# --- reading through the layers ----------------------------------------------------------------


def source_and_value(name: str, option: Option, user: Mapping[str, Any]) -> tuple[str, Any]:
    """Where ``name``'s value comes from ("database", "settings", "environment", "default")
    and the value."""
    if name in EDITABLE:
        stored = _copy.current()
        if name in stored:
            return "database", stored[name]
    return configured(name, option, user)


def configured(name: str, option: Option, user: Mapping[str, Any]) -> tuple[str, Any]:
    """``name`` as the host configures it, whatever is stored: ESCALATED, the environment
    variable (for an editable key; ignored unless it passes the option's check), the default."""
    editable = EDITABLE.get(name)
    if name in user:
        return "settings", _value(option, user, name)
    if editable is None or option.env is not None:
        # An option that parses its own ESCALATED_<KEY> (escalated.conf) keeps that one rule.
        from_env = option.env is not None and f"ESCALATED_{name}" in os.environ
        return ("environment" if from_env else "default"), _value(option, user, name)
    raw = _environment().get(name)
    if raw is not None:
        value = editable.coerce(raw)
        if option.check(value) is None:
            return "environment", value
    return "default", option.default


def layered_value(name: str, option: Option, user: Mapping[str, Any]) -> Any:
    return source_and_value(name, option, user)[1]
