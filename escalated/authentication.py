"""Who an HTTP request acts as, for every Escalated endpoint (GraphQL, downloads, form posts).

In order: ``Authorization: Bearer <api token>`` (a user; no CSRF, since browsers never add the
header on their own), ``X-Escalated-Guest-Token: <token>`` (a guest; no CSRF, for the same
reason), else Django's session, whose POSTs must pass Django's CSRF check. On a hub, a bearer
site key with a viewer assertion is a cloud-mode site's user (:mod:`escalated.hub.viewers`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware

from escalated.hub.viewers import is_site_key, site_viewer_authenticate
from escalated.services.guests import guest_authenticate, guest_of_site
from escalated.services.tokens import api_token_authenticate

GUEST_TOKEN_HEADER = "X-Escalated-Guest-Token"


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def csrf_failure(request: HttpRequest) -> str | None:
    """Django's CSRF verdict for this request: None when it passes, else the reason."""
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    verdict: object = check.process_view(request, lambda _r: HttpResponse(), (), {})
    return verdict if isinstance(verdict, str) else None


def bearer_token(request: HttpRequest) -> str | None:
    return bearer_credentials(request.headers.get("Authorization", ""))


def bearer_credentials(value: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, or None for another scheme."""
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def refusal(message: str, code: str, status: int, **headers: str) -> JsonResponse:
    """A refusal in the shape of a GraphQL error, so every client parses one format."""
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status=status,
        headers=headers,
    )


def authenticate(request: HttpRequest) -> HttpResponse | None:
    """Settle who ``request`` acts as (see :func:`request_actor`); a response when it must be
    refused instead."""
    raw_bearer = bearer_token(request)
    raw_guest = request.headers.get(GUEST_TOKEN_HEADER)
    if raw_bearer is not None and is_site_key(raw_bearer):
        # A cloud-mode site forwarding its viewer's operation (the hub role).
        refused = site_viewer_authenticate(request, guest=raw_guest is not None)
        if refused is not None or raw_guest is None:
            return refused
        raw_bearer = None
    if raw_bearer is not None and raw_guest is not None:
        return refusal(
            f"Send either a bearer token or {GUEST_TOKEN_HEADER}, not both.", "BAD_REQUEST", 400
        )
    if raw_bearer is not None:
        token = api_token_authenticate(raw_bearer)
        if token is None:
            return refusal(
                "Invalid, expired or revoked API token.",
                "UNAUTHENTICATED",
                401,
                **{"WWW-Authenticate": 'Bearer realm="escalated"'},
            )
        request.user = token.user
        request.escalated_token = token  # type: ignore[attr-defined]
    elif raw_guest is not None:
        guest = guest_authenticate(raw_guest.strip())
        site = getattr(request, "escalated_site", None)
        if guest is not None and site is not None and not guest_of_site(guest, site):
            # Through a cloud-mode site's key, only that site's guests' links open anything.
            guest = None
        if guest is None:
            return refusal(
                "This guest link is invalid or has expired; ask the support team for a new one.",
                "UNAUTHENTICATED",
                401,
            )
        request.escalated_guest = guest  # type: ignore[attr-defined]
    elif request.method == "POST" and request.user.is_authenticated:
        reason = csrf_failure(request)
        if reason:
            return refusal(f"CSRF check failed: {reason}", "FORBIDDEN", 403)
    return None


def request_actor(request: HttpRequest) -> Any:
    """The actor :func:`authenticate` settled on: a guest, a user, or an AnonymousUser."""
    return getattr(request, "escalated_guest", None) or request.user
