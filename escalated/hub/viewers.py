"""The hub's GraphQL endpoint, called by a cloud-mode site: ``Authorization: Bearer <site key>``
plus ``X-Escalated-Viewer: <assertion>`` (see :mod:`escalated.cloud.assertion`).

The key names the site; the assertion, signed with the site's signing secret, names the site's
user, and the operation runs as the hub's person for them, bound to the site
(:func:`escalated.access.bind_to_site`). A guest's link (``X-Escalated-Guest-Token``) may come
instead of an assertion: the operation then runs as that guest.

Refused with 401 and nothing written: a missing, wrong or revoked key; a missing, malformed,
forged (other secret, changed claims), expired, too long-lived or future assertion; an
assertion seen before (a replay); a person the hub's admins deactivated.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from escalated.cloud import assertion
from escalated.services import cloud_viewers, sites

logger = logging.getLogger(__name__)


def is_site_key(bearer: str) -> bool:
    return bearer.startswith(f"{sites.KEY_SCHEME}_")


def _refused(message: str) -> HttpResponse:
    from escalated.authentication import refusal

    return refusal(
        message, "UNAUTHENTICATED", 401, **{"WWW-Authenticate": 'Bearer realm="escalated"'}
    )


def site_viewer_authenticate(request: HttpRequest, *, guest: bool) -> HttpResponse | None:
    """Settle who a site's forwarded operation acts as, or the refusal. ``guest``: the request
    also carries a guest link, which the caller authenticates as it would any guest's."""
    if not sites.hub_enabled():
        return _refused("This helpdesk is not a hub: a site key means nothing here.")
    site = sites.site_authenticate(request.headers.get("Authorization"))
    if site is None:
        return _refused("Invalid or revoked site key.")
    request.escalated_site = site  # type: ignore[attr-defined]
    if guest:
        return None
    try:
        viewer = assertion.verify(site.signing_secret, request.headers.get(assertion.HEADER))
    except assertion.AssertionRefused as error:
        logger.warning("Refused a viewer assertion from site %s: %s", site.slug, error)
        return _refused(f"Viewer assertion refused: {error}")
    if not cloud_viewers.assertion_spend(site=site, jti=viewer.jti, expires=viewer.exp):
        logger.warning("Refused a replayed viewer assertion from site %s", site.slug)
        return _refused("Viewer assertion refused: it was used before.")
    sites.site_seen(site)
    if viewer.sub is None:
        request.user = AnonymousUser()
        return None
    user = cloud_viewers.site_viewer(
        site=site, sub=viewer.sub, name=viewer.name, email=viewer.email, role=viewer.role
    )
    if not user.is_active:
        return _refused("This person was deactivated on the helpdesk.")
    request.user = user
    return None
