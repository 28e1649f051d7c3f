"""The hub's side of cloud mode: who a cloud-mode site's forwarded operation runs as.

A site's signed viewer assertion (:mod:`escalated.cloud.assertion`) names the site's own user;
the hub keeps one user per (site, user id) (:class:`escalated.models.SitePerson`, the same rows
synced mode makes for a site's customers), made on first sight and kept up to date with what
the site says (name, email, role). Each assertion is spent once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from escalated.access import Role, bind_to_site
from escalated.models import Site, SitePerson, SpentAssertion

# A site's admin works the site's tickets as its agents do: the hub's own administration
# (departments, rules, other sites) is the hub's admins' alone.
_HUB_ROLE = {"customer": SitePerson.Role.CUSTOMER, "agent": SitePerson.Role.AGENT}
_HUB_ROLE["admin"] = SitePerson.Role.AGENT


def assertion_spend(*, site: Site, jti: str, expires: int) -> bool:
    """Note that ``site`` used the assertion ``jti``; False when it had been used (a replay).

    Spent assertions that have expired are deleted here: an expired one is refused before it
    gets this far, so its row no longer guards anything."""
    now = timezone.now()
    SpentAssertion.objects.filter(expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            SpentAssertion.objects.create(
                site=site, jti=jti, expires_at=datetime.fromtimestamp(expires, tz=UTC)
            )
    except IntegrityError:
        return False
    return True


def _names(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first[:150], last.strip()[:150]


def site_viewer(*, site: Site, sub: str, name: str, email: str, role: str) -> Any:
    """The hub user acting for the site's user ``sub`` in this request, bound to the site in
    the asserted role (see :func:`escalated.access.bind_to_site`); made on first sight."""
    hub_role = _HUB_ROLE[role]
    first, last = _names(name)
    email = email[:254]
    person = SitePerson.objects.select_related("user").filter(site=site, remote_id=sub).first()
    if person is None:
        person = _person_create(
            site=site, sub=sub, first=first, last=last, email=email, role=hub_role
        )
    else:
        _person_refresh(person, first=first, last=last, email=email, role=hub_role)
    user = person.user
    bind_to_site(user, site_id=site.pk, role=Role(hub_role))
    return user


def _person_create(
    *, site: Site, sub: str, first: str, last: str, email: str, role: str
) -> SitePerson:
    try:
        with transaction.atomic():
            user = get_user_model().objects.create(
                username=f"site{site.pk}-{uuid.uuid4().hex[:16]}",
                first_name=first,
                last_name=last,
                email="",  # the hub writes to nobody through a site's person
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            return SitePerson.objects.create(
                site=site, remote_id=sub, user=user, email=email, role=role
            )
    except IntegrityError:
        # A concurrent first request of the same person made the row: use theirs.
        return SitePerson.objects.select_related("user").get(site=site, remote_id=sub)


def _person_refresh(person: SitePerson, *, first: str, last: str, email: str, role: str) -> None:
    """Keep the hub's copy as the site last described the person (one write when it changed)."""
    if (person.email, person.role) != (email, role):
        person.email, person.role = email, role
        person.save(update_fields=["email", "role"])
    user = person.user
    if (user.first_name, user.last_name) != (first, last):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
