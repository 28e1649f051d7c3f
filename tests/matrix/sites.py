"""The hub's sites (hub admins only) and a synced site's status (admins only)."""

from __future__ import annotations

from escalated.access import SystemActor
from escalated.models import Site
from escalated.services import sites
from tests.conftest import World, gid
from tests.matrix import ADMIN_ONLY, Op, payload_mutation

HUB = {"HUB": {"ENABLED": True}}


def _site(w: World) -> None:
    sites.site_create(actor=SystemActor("test"), name="Shop")


def _site_gid(w: World) -> str:
    return gid(Site.objects.get())


MUTATIONS = [
    Op(
        "siteCreate",
        payload_mutation("siteCreate", "SiteCreateInput", "site { id } key signingSecret"),
        lambda w: {"input": {"name": "Store"}},
        ADMIN_ONLY,
        settings=HUB,
    ),
    Op(
        "siteUpdate",
        payload_mutation("siteUpdate", "SiteUpdateInput", "site { id } key"),
        lambda w: {"input": {"id": _site_gid(w), "rotateKey": True}},
        ADMIN_ONLY,
        setup=_site,
        settings=HUB,
    ),
    Op(
        "siteRevoke",
        payload_mutation("siteRevoke", "SiteRevokeInput", "site { active }"),
        lambda w: {"input": {"id": _site_gid(w)}},
        ADMIN_ONLY,
        setup=_site,
        settings=HUB,
    ),
]

QUERIES = [
    Op(
        "sites",
        "{ sites(first: 10) { totalCount edges { node { name keyPrefix } } } }",
        lambda w: {},
        ADMIN_ONLY,
        setup=_site,
        settings=HUB,
        count=lambda d: d["sites"]["totalCount"],
        expected_counts={"admin": 1},
    ),
    Op(
        "syncStatus",
        "{ syncStatus { mode backlog failed lastSuccessAt oldestPendingAt } }",
        lambda w: {},
        ADMIN_ONLY,
    ),
]
