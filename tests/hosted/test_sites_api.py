"""The hub's sites in GraphQL (hub admins only), Ticket.site and the site filter (staff), and a
synced site's syncStatus (site admins)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.utils import timezone

from escalated.models import Delivery, DeliveryKind, DeliveryStatus, Site
from escalated.services import sites
from tests.conftest import data_of, gid, make_user
from tests.hosted.test_hub import created, post

CREATE = """
mutation($input: SiteCreateInput!) {
  siteCreate(input: $input) {
    site { id name slug keyPrefix webhookUrl active department { name } }
    key signingSecret errors { field code message }
  }
}"""
SITES = "query { sites { totalCount edges { node { name keyPrefix active } } } }"


def test_a_hub_admin_registers_a_site_and_sees_its_key_once(hub: dict[str, Any], gql: Any) -> None:
    variables = {
        "input": {
            "name": "Store front",
            "webhookUrl": "http://127.0.0.1:8999/support/cloud/webhook/",
            "departmentId": gid(hub["inbox"]),
        }
    }

    made = data_of(gql(CREATE, variables, user=hub["admin"]))["siteCreate"]

    assert made["errors"] == []
    key = made["key"]
    site = Site.objects.get(slug="store-front")
    assert site.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (site.key_hash, site.key_prefix) and made["site"]["keyPrefix"] in key
    assert made["signingSecret"] == site.signing_secret
    assert made["site"]["department"] == {"name": "Apps"}
    listed = data_of(gql(SITES, user=hub["admin"]))["sites"]
    assert listed["totalCount"] == 3
    assert "key" not in str(listed).replace("keyPrefix", "")
    assert sites.site_authenticate(f"Bearer {key}") == site


def test_the_site_key_is_compared_in_constant_time(
    hub: dict[str, Any], compare_digest_calls: list[Any]
) -> None:
    assert sites.site_authenticate(f"Bearer {hub['shop_key']}") == hub["shop"]
    assert compare_digest_calls, "the key's hash was not compared with hmac.compare_digest"


def test_only_hub_admins_manage_sites(hub: dict[str, Any], gql: Any, settings: Any) -> None:
    customer = make_user("cora")
    variables = {"input": {"name": "Intruder"}}
    for person in (hub["agent"], customer, None):
        result = gql(CREATE, variables, user=person)
        assert result.get("errors") or result["data"]["siteCreate"] is None, result
        listed = gql(SITES, user=person)
        assert listed.get("errors"), listed
    settings.ESCALATED = {**settings.ESCALATED, "HUB": {"ENABLED": False}}
    not_a_hub = gql(CREATE, variables, user=hub["admin"])
    assert not_a_hub.get("errors") and "not a hub" in not_a_hub["errors"][0]["message"]
    assert not Site.objects.filter(name="Intruder").exists()


def test_rotating_and_revoking_a_key_stop_the_old_one(hub: dict[str, Any], gql: Any) -> None:
    update = """mutation($id: ID!) { siteUpdate(input: {id: $id, rotateKey: true, name: "Shop 2"})
                 { site { name } key errors { message } } }"""
    revoke = """mutation($id: ID!) { siteRevoke(input: {id: $id})
                 { site { active revokedAt } errors { message } } }"""
    shop = gid(hub["shop"])

    rotated = data_of(gql(update, {"id": shop}, user=hub["admin"]))["siteUpdate"]

    assert rotated["site"] == {"name": "Shop 2"} and rotated["key"]
    assert sites.site_authenticate(f"Bearer {hub['shop_key']}") is None
    assert post(created(), hub["shop_key"]).status_code == 401
    assert post(created(), rotated["key"]).status_code == 200

    refused = gql(revoke, {"id": shop}, user=hub["agent"])
    assert refused.get("errors")
    revoked = data_of(gql(revoke, {"id": shop}, user=hub["admin"]))["siteRevoke"]
    assert revoked["site"]["active"] is False
    assert post(created("ESC-00002"), rotated["key"]).status_code == 401


TICKETS = """query($site: ID) { tickets(filter: {site: $site}) {
  edges { node { subject site { reference site { name } } } } } }"""


def test_staff_see_and_filter_by_the_site_customers_do_not(hub: dict[str, Any], gql: Any) -> None:
    post(created("ESC-00001"), hub["shop_key"])
    post(created("ESC-00009"), hub["blog_key"])

    shop_only = data_of(gql(TICKETS, {"site": gid(hub["shop"])}, user=hub["agent"]))["tickets"]

    assert [e["node"]["site"] for e in shop_only["edges"]] == [
        {"reference": "ESC-00001", "site": {"name": "Shop"}}
    ]
    everything = data_of(gql(TICKETS, {"site": None}, user=hub["agent"]))["tickets"]
    assert len(everything["edges"]) == 2
    customer = make_user("cora")
    refused = gql(TICKETS, {"site": gid(hub["shop"])}, user=customer)
    assert refused.get("errors") or not refused["data"]["tickets"]["edges"]


SYNC_STATUS = """query { syncStatus { mode hubUrl lastSuccessAt backlog failed
                  oldestPendingAt } }"""


def test_sync_status_reports_backlog_failures_and_last_success(
    gql: Any, settings: Any, db: Any
) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MODE": "synced",
        "HOSTED_API_URL": "https://hub.example.com/support/hub/api/v1",
    }
    admin = make_user("root", is_superuser=True, is_staff=True)
    now = timezone.now()
    rows = [
        Delivery(kind=DeliveryKind.HUB, event="e", recipient="x", status=status, delivered_at=at)
        for status, at in (
            (DeliveryStatus.DELIVERED, now - timedelta(minutes=5)),
            (DeliveryStatus.PENDING, None),
            (DeliveryStatus.SENDING, None),
            (DeliveryStatus.FAILED, None),
        )
    ]
    Delivery.objects.bulk_create(rows)

    status = data_of(gql(SYNC_STATUS, user=admin))["syncStatus"]

    assert status["mode"] == "synced" and status["hubUrl"].endswith("/api/v1")
    assert (status["backlog"], status["failed"]) == (2, 1)
    assert status["lastSuccessAt"] is not None and status["oldestPendingAt"] is not None
    assert gql(SYNC_STATUS, user=make_user("cora")).get("errors")
    assert gql(SYNC_STATUS, user=None).get("errors")
