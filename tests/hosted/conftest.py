"""Fixtures for synced mode: a site pointed at a real HTTP receiver, and a hub with a site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from escalated.access import SystemActor
from escalated.models import Department, Site
from escalated.services import sites
from tests.conftest import make_user
from tests.outbox.peers import HttpReceiver

SECRET = "hub-signing-secret-0123456789"
KEY = "esk_site_key"


@pytest.fixture
def hub_receiver(settings: Any) -> Iterator[HttpReceiver]:
    """A site in synced mode whose hub is a real HTTP receiver on loopback."""
    server = HttpReceiver()
    server.start()
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MODE": "synced",
        "HOSTED_API_URL": server.url,
        "HOSTED_API_KEY": "esk_site_key",
        "HOSTED_SIGNING_SECRET": SECRET,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def receiver(settings: Any) -> Iterator[HttpReceiver]:
    """A self-hosted site, and a real HTTP receiver standing for its hub (the export's tests)."""
    server = HttpReceiver()
    server.start()
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MODE": "self_hosted",
        "HOSTED_API_URL": server.url,
        "HOSTED_API_KEY": KEY,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hub(settings: Any, db: Any) -> dict[str, Any]:
    """This helpdesk as a hub, with two registered sites and an agent in the sites' department."""
    settings.ESCALATED = {
        **settings.ESCALATED,
        "HUB": {"ENABLED": True},
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    inbox = Department.objects.create(name="Apps", slug="apps")
    agent = make_user("hana", first="Hana", last="Hub")
    inbox.agents.add(agent)
    admin = make_user("root", is_superuser=True, is_staff=True)
    shop, shop_key = sites.site_create(
        actor=SystemActor("test"), name="Shop", department=inbox, webhook_url=""
    )
    blog, blog_key = sites.site_create(actor=SystemActor("test"), name="Blog", department=inbox)
    return {
        "inbox": inbox,
        "agent": agent,
        "admin": admin,
        "shop": shop,
        "shop_key": shop_key,
        "blog": blog,
        "blog_key": blog_key,
    }


def site_of(hub: dict[str, Any], name: str) -> Site:
    return Site.objects.get(pk=hub[name].pk)


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """``with commit(): …`` runs the block, then its after-commit work, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
