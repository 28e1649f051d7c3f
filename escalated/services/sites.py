"""The hub's sites: registering them, their keys (shown once, stored hashed) and revoking them.

A key looks like ``esk_<prefix>_<secret>``; the prefix finds the row, and the SHA-256 of the
whole key is compared in constant time. Each site also gets a signing secret: the hub signs its
calls to the site's webhook with it, and the site's ``HOSTED_SIGNING_SECRET`` must hold it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from escalated.access import require_admin
from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode, NotAllowed, Problem, collect
from escalated.models import Department, Site
from escalated.safe_http import UnsafeTarget, check_url
from escalated.services.common import UNSET, Unset, active_department
from escalated.services.text import required_text
from escalated.services.webhooks import allow_private, require_https

KEY_SCHEME = "esk"


def hub_enabled() -> bool:
    return bool(escalated_settings.HUB["ENABLED"])


def require_hub_admin(actor: Any) -> None:
    """Sites exist only on a hub, and only its admins manage them."""
    require_admin(actor)
    if not hub_enabled():
        raise NotAllowed("This helpdesk is not a hub (ESCALATED['HUB']['ENABLED'] is False).")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def _url_problems(url: str) -> list[Problem]:
    if not url:
        return []
    if len(url) > 500:
        return [
            Problem("The URL is longer than 500 characters.", ErrorCode.TOO_LONG, "webhook_url")
        ]
    try:
        check_url(url, require_https=require_https(), allow_private=allow_private())
    except UnsafeTarget as error:
        return [Problem(str(error), ErrorCode.INVALID, "webhook_url")]
    return []


def _slug_problems(slug: str, site: Site | None) -> list[Problem]:
    if not slug:
        return [Problem("Give the site a name with letters or digits.", ErrorCode.REQUIRED, "slug")]
    others = Site.objects.filter(slug=slug)
    taken = (others.exclude(pk=site.pk) if site is not None else others).exists()
    if taken:
        return [Problem("Another site has this slug.", ErrorCode.DUPLICATE, "slug")]
    return []


def site_create(
    *,
    actor: Any,
    name: str | None,
    webhook_url: str = "",
    department: Department | None = None,
    slug: str = "",
) -> tuple[Site, str]:
    """Register a site; returns it and its key (shown only now: only its hash is kept)."""
    require_hub_admin(actor)
    name = (name or "").strip()
    slug = slugify(slug or name)[:60]
    webhook_url = (webhook_url or "").strip()
    collect(
        [
            *required_text(name, field="name", max_length=120),
            *_slug_problems(slug, None),
            *_url_problems(webhook_url),
            *active_department(department, field="department_id"),
        ]
    )
    prefix, key = _new_key()
    site = Site.objects.create(
        name=name,
        slug=slug,
        key_prefix=prefix,
        key_hash=_hash(key),
        signing_secret=secrets.token_urlsafe(32),
        webhook_url=webhook_url,
        department=department,
    )
    return site, key


def site_update(
    *,
    actor: Any,
    site: Site,
    name: str | Unset = UNSET,
    webhook_url: str | Unset = UNSET,
    department: Department | Unset | None = UNSET,
    rotate_key: bool = False,
) -> tuple[Site, str | None]:
    """Change a site. ``rotate_key`` replaces its key: the new one is returned (once), the old
    one stops working."""
    require_hub_admin(actor)
    problems: list[Problem] = []
    if name is not UNSET:
        name = name.strip()
        problems += required_text(name, field="name", max_length=120)
    if webhook_url is not UNSET:
        webhook_url = webhook_url.strip()
        problems += _url_problems(webhook_url)
    if department is not UNSET:
        problems += active_department(department, field="department_id")
    collect(problems)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        if site.revoked_at is not None:
            raise DomainError("This site was revoked.", code=ErrorCode.INVALID, field="id")
        values = {"name": name, "webhook_url": webhook_url, "department": department}
        changed = [field for field, value in values.items() if value is not UNSET]
        for field in changed:
            setattr(site, field, values[field])
        key = None
        if rotate_key:
            prefix, key = _new_key()
            site.key_prefix, site.key_hash = prefix, _hash(key)
            changed += ["key_prefix", "key_hash"]
        if changed:
            site.save(update_fields=[*changed, "updated_at"])
    return site, key


def site_revoke(*, actor: Any, site: Site) -> Site:
    """Revoke a site's key for good: its events are refused, nothing more is sent to it."""
    require_hub_admin(actor)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        if site.revoked_at is None:
            site.revoked_at = timezone.now()
            site.save(update_fields=["revoked_at", "updated_at"])
    return site


def site_authenticate(authorization: str | None) -> Site | None:
    """The active site whose key the ``Authorization: Bearer <key>`` header carries, or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    key = authorization[len("Bearer ") :].strip()
    scheme, _, rest = key.partition("_")
    prefix = rest.partition("_")[0]
    if scheme != KEY_SCHEME or not prefix:
        return None
    site = Site.objects.filter(key_prefix=prefix).first()
    # Compare even when no row matched, so timing does not tell a known prefix from another.
    expected = site.key_hash if site is not None else _hash("")
    if not hmac.compare_digest(expected.encode("ascii"), _hash(key).encode("ascii")):
        return None
    if site is None or site.revoked_at is not None:
        return None
    return site


SEEN_EVERY = timedelta(minutes=1)


def site_seen(site: Site) -> None:
    """Note that the site delivered an event (at most once a minute: one write, not one per
    event)."""
    now = timezone.now()
    if site.last_seen_at is not None and site.last_seen_at >= now - SEEN_EVERY:
        return  # fresh in the row just read: no statement at all
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - SEEN_EVERY)
    Site.objects.filter(stale, pk=site.pk).update(last_seen_at=now)
