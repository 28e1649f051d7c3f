"""Who a websocket connection acts as, decided once when the client sends ``connection_init``.

Authentication is a short ordered list of authenticators. Each looks at the handshake scope and
the ``connection_init`` payload and answers with an :class:`Identity`, with None when the
credential it knows is absent, or raises :class:`Refused` when that credential is present but
bad (a bad token is never silently downgraded to the session cookie). The first identity wins;
a connection nobody vouches for is refused, since every subscription needs someone signed in.

To accept another credential, write one function and add it to :data:`AUTHENTICATORS`, before
:func:`session`: credentials a client sends on purpose come before the ambient cookie.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from escalated.authentication import bearer_credentials
from escalated.hub.viewers import ViewerRefused, is_site_key, site_of_key, viewer_of
from escalated.models import ApiToken
from escalated.services.guests import guest_authenticate
from escalated.services.tokens import api_token_authenticate


@dataclass(frozen=True)
class Identity:
    user: Any
    # The API token the connection authenticated with, if any (its scopes still apply).
    token: ApiToken | None = None
    # The Django session the connection authenticated with, if any: re-read later, so that
    # signing out (or a password change elsewhere) also ends the socket.
    session_key: str | None = None


class Refused(Exception):
    """A credential was presented and is not good: the connection is refused."""


Scope = Mapping[str, Any]
Params = Mapping[str, Any]
Authenticator = Callable[[Scope, Params], Identity | None]


def site_viewer(scope: Scope, params: Params) -> Identity | None:
    """On a hub: ``{"authorization": "Bearer <site key>", "viewer": "<assertion>"}``, a
    cloud-mode site relaying its signed-in user's socket (:mod:`escalated.hub.viewers`)."""
    value = params.get("authorization", params.get("Authorization"))
    raw = bearer_credentials(value) if isinstance(value, str) else None
    if raw is None or not is_site_key(raw):
        return None
    try:
        user = viewer_of(site_of_key(value), params.get("viewer"))
    except ViewerRefused as refusal:
        raise Refused(str(refusal)) from refusal
    if not user.is_authenticated:
        raise Refused("Sign in first: a subscription needs a signed-in viewer.")
    return Identity(user)


def bearer_token(scope: Scope, params: Params) -> Identity | None:
    """``{"authorization": "Bearer <token>"}`` in the connection_init payload."""
    value = params.get("authorization", params.get("Authorization"))
    if value is None:
        return None
    raw = bearer_credentials(value) if isinstance(value, str) else None
    token = api_token_authenticate(raw) if raw else None
    if token is None:
        raise Refused("Invalid, expired or revoked API token.")
    return Identity(token.user, token)


GUEST_TOKEN_KEYS = ("guestToken", "x-escalated-guest-token", "X-Escalated-Guest-Token")


def guest_token(scope: Scope, params: Params) -> Identity | None:
    """A guest's magic-link token, as ``{"guestToken": "<token>"}`` in the connection_init
    payload (the websocket twin of the ``X-Escalated-Guest-Token`` header)."""
    value = next((params[key] for key in GUEST_TOKEN_KEYS if key in params), None)
    if value is None:
        return None
    guest = guest_authenticate(value) if isinstance(value, str) else None
    if guest is None:
        raise Refused("Invalid or expired guest link.")
    return Identity(guest)


def session(scope: Scope, params: Params) -> Identity | None:
    """The Django session cookie of the handshake, read by channels' AuthMiddlewareStack."""
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Identity(user, session_key=getattr(scope.get("session"), "session_key", None))


AUTHENTICATORS: tuple[Authenticator, ...] = (site_viewer, bearer_token, guest_token, session)


def authenticate(scope: Scope, params: Params) -> Identity:
    """The connection's identity by the first authenticator that knows it (runs the ORM: call
    it from a thread)."""
    for authenticator in AUTHENTICATORS:
        identity = authenticator(scope, params)
        if identity is not None:
            return identity
    raise Refused("Sign in first: send a session cookie, an API token or a guest token.")
