"""API tokens: issued once in clear, stored as a hash, checked in constant time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from escalated.access import Role, require_signed_in, role_of
from escalated.conf import escalated_settings
from escalated.errors import ErrorCode, NotAllowed, Problem, collect
from escalated.models import ApiToken, TokenScope
from escalated.services.secrets import secret_issue, secret_match, secret_visible_part
from escalated.services.text import required_text

TOKEN_PREFIX = "esc_"
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_create(
    *,
    actor: Any,
    name: str,
    user: Any = None,
    scopes: Iterable[str] = (TokenScope.READ, TokenScope.WRITE),
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for ``user`` (default: the actor). Returns the row and the clear token,
    which is shown this once and never stored."""
    require_signed_in(actor)
    user = user or actor
    if user.pk != actor.pk and role_of(actor) not in (Role.ADMIN, Role.SYSTEM):
        raise NotAllowed("Only helpdesk admins can issue tokens for other people.")
    scopes = sorted(set(scopes))
    problems = required_text(name, field="name", max_length=120)
    unknown = [s for s in scopes if s not in TokenScope.values]
    if unknown or not scopes:
        problems.append(
            Problem(
                f"Scopes must be chosen from {', '.join(TokenScope.values)}.",
                ErrorCode.INVALID,
                "scopes",
            )
        )
    now = timezone.now()
    if expires_at is None and escalated_settings.API_TOKEN_EXPIRY_DAYS:
        expires_at = now + timedelta(days=escalated_settings.API_TOKEN_EXPIRY_DAYS)
    if expires_at is not None and expires_at <= now:
        problems.append(
            Problem("The expiry must be in the future.", ErrorCode.INVALID, "expires_at")
        )
    collect(problems)
    secret = secret_issue(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        name=name.strip(),
        user=user,
        prefix=secret.visible,
        token_hash=secret.hashed,
        scopes=scopes,
        expires_at=expires_at,
    )
    return token, secret.raw


def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Revoke a token; revoking twice is harmless."""
    require_signed_in(actor)
    if token.user_id != actor.pk and role_of(actor) not in (Role.ADMIN, Role.SYSTEM):
        raise NotAllowed("Only helpdesk admins can revoke other people's tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The live token matching ``raw``, or None. Candidates are found by their visible prefix
    and compared by hash in constant time."""
    visible = secret_visible_part(raw, TOKEN_PREFIX)
    if visible is None:
        return None
    candidates = ApiToken.objects.select_related("user").filter(prefix=visible)
    match = secret_match(raw, ((c, c.token_hash) for c in candidates))
    if match is None or not match.is_usable or not match.user.is_active:
        return None
    now = timezone.now()
    # A cloud-mode site writes none of the helpdesk's tables, so it does not note the use.
    stale = match.last_used_at is None or now - match.last_used_at > LAST_USED_RESOLUTION
    if stale and escalated_settings.MODE != "cloud":
        ApiToken.objects.filter(pk=match.pk).update(last_used_at=now)
        match.last_used_at = now
    return match
