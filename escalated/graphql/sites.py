"""Synced mode in the API: the hub's sites (hub admins) and a site's sync status (site admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import Info, relay
from strawberry_django.relay import DjangoListConnection

from escalated import models
from escalated.access import Role, is_staff, require_admin, role_of
from escalated.graphql.context import viewer
from escalated.graphql.errors import UserError, admin_mutation_payload
from escalated.graphql.ids import load, load_optional
from escalated.graphql.mutations.organisation import _given
from escalated.graphql.queries import guard
from escalated.graphql.types import DepartmentNode
from escalated.hosted.status import SyncFigures, sync_figures
from escalated.services import sites
from escalated.services.common import UNSET

Errors = strawberry.field(default_factory=list)


def _is_admin(info: Info) -> bool:
    return role_of(viewer(info)) in (Role.ADMIN, Role.SYSTEM)


@strawberry_django.type(
    models.Site,
    name="Site",
    description="An app whose tickets this hub keeps (staff see its name; admins its settings).",
)
class SiteNode(relay.Node):
    name: str
    slug: str
    department: DepartmentNode | None
    revoked_at: datetime | None
    last_seen_at: datetime | None = strawberry_django.field(
        description="When the site last delivered an event."
    )
    created_at: datetime

    @strawberry_django.field(only=["revoked_at"])
    def active(self, root: models.Site) -> bool:
        return root.revoked_at is None

    @strawberry_django.field(
        only=["key_prefix"],
        description="The key's visible start, to recognise it (admins). The key itself is shown "
        "only by the mutation that makes it.",
    )
    def key_prefix(self, root: models.Site, info: Info) -> str | None:
        return root.key_prefix if _is_admin(info) else None

    @strawberry_django.field(only=["webhook_url"], description="Where hub changes go (admins).")
    def webhook_url(self, root: models.Site, info: Info) -> str | None:
        return root.webhook_url if _is_admin(info) else None

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[models.Site], info: Info, **kwargs: Any
    ) -> QuerySet[models.Site]:
        return queryset if is_staff(viewer(info)) else queryset.none()


@strawberry.type(name="TicketSite", description="Where a hub ticket came from.")
class TicketSite:
    site: SiteNode
    reference: str = strawberry.field(description="The ticket's reference on the site.")


def ticket_site(root: models.Ticket, info: Info) -> TicketSite | None:
    if root.site_id is None or not is_staff(viewer(info)):
        return None
    return TicketSite(site=root.site, reference=root.site_reference)


@strawberry.type(name="SyncStatus", description="How the push to the hub is going (synced mode).")
class SyncStatus:
    mode: str
    hub_url: str | None
    last_success_at: datetime | None = strawberry.field(
        description="When an event last reached the hub."
    )
    backlog: int = strawberry.field(description="Events still to deliver (waiting or retrying).")
    failed: int = strawberry.field(
        description="Events the hub refused for good; retry them with deliveryRetry."
    )
    oldest_pending_at: datetime | None = strawberry.field(
        description="When the oldest event still to deliver happened."
    )

    @staticmethod
    def of(figures: SyncFigures) -> SyncStatus:
        return SyncStatus(
            mode=figures.mode,
            hub_url=figures.hub_url,
            last_success_at=figures.last_success_at,
            backlog=figures.backlog,
            failed=figures.failed,
            oldest_pending_at=figures.oldest_pending_at,
        )


@strawberry.type
class SiteQueries:
    @strawberry_django.connection(
        DjangoListConnection[SiteNode], description="The sites syncing to this hub (hub admins)."
    )
    def sites(self, info: Info) -> QuerySet[models.Site]:
        guard(info, sites.require_hub_admin)
        return models.Site.objects.all()

    @strawberry.field(description="The push to the hub: backlog, failures, last success (admins).")
    def sync_status(self, info: Info) -> SyncStatus:
        guard(info, require_admin)
        return SyncStatus.of(sync_figures())


@strawberry.input
class SiteCreateInput:
    name: str | None = None
    slug: str | None = strawberry.field(default=None, description="Made from the name if omitted.")
    webhook_url: str | None = strawberry.field(
        default=None, description="The site's https://…/support/cloud/webhook/."
    )
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The department the site's tickets arrive in."
    )


@strawberry.input
class SiteUpdateInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    webhook_url: str | None = strawberry.UNSET
    department_id: relay.GlobalID | None = strawberry.UNSET
    rotate_key: bool = strawberry.field(
        default=False, description="Replace the key: the old one stops working at once."
    )


@strawberry.input
class SiteRevokeInput:
    id: relay.GlobalID


@strawberry.type
class SiteCreatePayload:
    site: SiteNode | None = None
    key: str | None = strawberry.field(
        default=None, description="The site's HOSTED_API_KEY. Shown only here: store it now."
    )
    signing_secret: str | None = strawberry.field(
        default=None, description="The site's HOSTED_SIGNING_SECRET, for the hub's calls to it."
    )
    errors: list[UserError] = Errors


@strawberry.type
class SiteUpdatePayload:
    site: SiteNode | None = None
    key: str | None = strawberry.field(default=None, description="The new key, when rotated.")
    errors: list[UserError] = Errors


@strawberry.type
class SiteRevokePayload:
    site: SiteNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class SiteMutations:
    @strawberry.mutation(description="Register a site (hub admins); its key is shown once.")
    @admin_mutation_payload
    def site_create(self, info: Info, input: SiteCreateInput) -> SiteCreatePayload:
        actor = viewer(info)
        sites.require_hub_admin(actor)
        site, key = sites.site_create(
            actor=actor,
            name=input.name,
            slug=input.slug or "",
            webhook_url=input.webhook_url or "",
            department=load_optional(
                info, input.department_id, DepartmentNode, field="department_id"
            ),
        )
        return SiteCreatePayload(site=site, key=key, signing_secret=site.signing_secret)

    @strawberry.mutation(description="Change a site, or rotate its key (hub admins).")
    @admin_mutation_payload
    def site_update(self, info: Info, input: SiteUpdateInput) -> SiteUpdatePayload:
        actor = viewer(info)
        sites.require_hub_admin(actor)
        department: Any = UNSET
        if input.department_id is not strawberry.UNSET:
            department = load_optional(
                info, input.department_id, DepartmentNode, field="department_id"
            )
        webhook_url = input.webhook_url
        site, key = sites.site_update(
            actor=actor,
            site=load(info, input.id, SiteNode, field="id"),
            name=_given(input.name),
            webhook_url=UNSET if webhook_url is strawberry.UNSET else (webhook_url or ""),
            department=department,
            rotate_key=input.rotate_key,
        )
        return SiteUpdatePayload(site=site, key=key)

    @strawberry.mutation(
        description="Revoke a site for good (hub admins): its key stops working, nothing more "
        "is sent to it; its tickets stay."
    )
    @admin_mutation_payload
    def site_revoke(self, info: Info, input: SiteRevokeInput) -> SiteRevokePayload:
        actor = viewer(info)
        sites.require_hub_admin(actor)
        site = sites.site_revoke(actor=actor, site=load(info, input.id, SiteNode, field="id"))
        return SiteRevokePayload(site=site)
