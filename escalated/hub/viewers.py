"""The hub's GraphQL endpoint, called by a cloud-mode site: ``Authorization: Bearer <site key>``
plus ``X-Escalated-Viewer: <assertion>`` over HTTP, or ``{"authorization": "Bearer <site key>",
"viewer": "<assertion>"}`` as a websocket's connection_init payload (see
:mod:`escalated.cloud.assertion`).

The key names the site; the assertion, signed with the site's signing secret, names the site's
user, and the operation runs as the hub's person for them, bound to the site
(:func:`escalated.access.bind_to_site`). Over HTTP a guest's link (``X-Escalated-Guest-Token``)
may come instead of an assertion: the operation then runs as that guest.

Refused, with nothing written: a missing, wrong or revoked key; a missing, malformed, forged
(other secret, changed claims), expired, too long-lived or future assertion; an assertion seen
before (a replay); a person the hub's admins deactivated.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from escalated.cloud import assertion
from escalated.models import Site
from escalated.services import cloud_viewers, sites

logger = logging.getLogger(__name__)


class ViewerRefused(Exception):
    """The site's key or its viewer assertion is not good."""


def is_site_key(bearer: str) -> bool:
    return bearer.startswith(f"{sites.KEY_SCHEME}_")


def site_of_key(authorization: str | None) -> Site:
    if not sites.hub_enabled():
        raise ViewerRefused("This helpdesk is not a hub: a site key means nothing here.")
    site = sites.site_authenticate(authorization)
    if site is None:
        raise ViewerRefused("Invalid or revoked site key.")
    return site


def viewer_of(site: Site, header: str | None) -> Any:
    """The hub's user for the viewer ``header`` asserts (AnonymousUser for a signed-out one),
    bound to ``site``; the assertion is spent."""
    try:
        viewer = assertion.verify(site.signing_secret, header)
    except assertion.AssertionRefused as error:
        logger.warning("Refused a viewer assertion from site %s: %s", site.slug, error)
        raise ViewerRefused(f"Viewer assertion refused: {error}") from error
    if not cloud_viewers.assertion_spend(site=site, jti=viewer.jti, expires=viewer.exp):
        logger.warning("Refused a replayed viewer assertion from site %s", site.slug)
        raise ViewerRefused("Viewer assertion refused: it was used before.")
    sites.site_seen(site)
    if viewer.sub is None:
        return AnonymousUser()
    user = cloud_viewers.site_viewer(
        site=site, sub=viewer.sub, name=viewer.name, email=viewer.email, role=viewer.role
    )
    if not user.is_active:
        raise ViewerRefused("This person was deactivated on the helpdesk.")
    return user


def _refused(message: str) -> HttpResponse:
    from escalated.authentication import refusal

    return refusal(
        message, "UNAUTHENTICATED", 401, **{"WWW-Authenticate": 'Bearer realm="escalated"'}
    )


def site_viewer_authenticate(request: HttpRequest, *, guest: bool) -> HttpResponse | None:
    """Settle who a site's forwarded operation acts as, or the refusal. ``guest``: the request
    also carries a guest link, which the caller authenticates as it would any guest's."""
    try:
        site = site_of_key(request.headers.get("Authorization"))
        request.escalated_site = site  # type: ignore[attr-defined]
        if not guest:
            request.user = viewer_of(site, request.headers.get(assertion.HEADER))
    except ViewerRefused as error:
        return _refused(str(error))
    return None
