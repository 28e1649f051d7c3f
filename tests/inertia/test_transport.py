"""What the pages' client relies on besides props: the route table, the CSRF headers it
sends, partial reloads, and the head tag a layout loads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from escalated.models import Reply
from tests.conftest import World
from tests.inertia.helpers import INERTIA, client_for, visit

pytestmark = pytest.mark.django_db

# Every name a page in scope calls through route() (contract §0.3).
CONTRACT_ROUTES = [
    "escalated.customer.tickets.index",
    "escalated.customer.tickets.create",
    "escalated.customer.tickets.show",
    "escalated.customer.tickets.store",
    "escalated.customer.tickets.close",
    "escalated.customer.tickets.reopen",
    "escalated.customer.tickets.rate",
    "escalated.customer.tickets.reply",
    "escalated.guest.tickets.store",
    "login",
    "escalated.guest.tickets.reply",
    "escalated.guest.tickets.rate",
    "escalated.agent.tickets.show",
    "escalated.agent.tickets.index",
    "escalated.agent.tickets.bulk",
    "escalated.agent.tickets.status",
    "escalated.agent.tickets.priority",
    "escalated.agent.tickets.assign",
    "escalated.agent.tickets.follow",
    "escalated.agent.tickets.macro",
    "escalated.agent.tickets.reply",
    "escalated.agent.tickets.note",
    "escalated.agent.tickets.presence",
    "escalated.agent.tickets.pin",
    "escalated.admin.reports",
    "escalated.admin.reports.dashboard",
    "escalated.admin.reports.agents",
    "escalated.admin.reports.sla",
    "escalated.admin.reports.csat",
    "escalated.admin.departments.create",
    "escalated.admin.departments.edit",
    "escalated.admin.departments.destroy",
    "escalated.admin.departments.store",
    "escalated.admin.departments.update",
    "escalated.admin.sla-policies.create",
    "escalated.admin.sla-policies.edit",
    "escalated.admin.sla-policies.destroy",
    "escalated.admin.sla-policies.store",
    "escalated.admin.sla-policies.update",
    "escalated.admin.escalation-rules.create",
    "escalated.admin.escalation-rules.edit",
    "escalated.admin.escalation-rules.destroy",
    "escalated.admin.escalation-rules.store",
    "escalated.admin.escalation-rules.update",
    "escalated.admin.tags.store",
    "escalated.admin.tags.update",
    "escalated.admin.tags.destroy",
    "escalated.admin.canned-responses.store",
    "escalated.admin.canned-responses.destroy",
    "escalated.admin.settings.update",
    "escalated.attachments.download",
    "escalated.admin.webhooks.create",
    "escalated.admin.webhooks.edit",
    "escalated.admin.webhooks.destroy",
    "escalated.admin.webhooks.deliveries",
    "escalated.admin.macros.store",
    "escalated.admin.macros.update",
    "escalated.admin.macros.destroy",
    "escalated.admin.business-hours.create",
    "escalated.admin.business-hours.edit",
    "escalated.admin.business-hours.destroy",
    "escalated.admin.business-hours.store",
    "escalated.admin.business-hours.update",
]


def test_the_route_table_names_every_route_the_pages_call(world: World) -> None:
    table = client_for().get("/support/routes.json").json()

    assert set(CONTRACT_ROUTES) <= set(table["routes"])
    assert table["url"] == "http://testserver"
    assert table["port"] is None
    assert table["routes"]["escalated.customer.tickets.show"] == {
        "uri": "support/tickets/{ticket}/",
        "methods": ["GET", "HEAD"],
        "parameters": ["ticket"],
    }
    assert table["routes"]["escalated.agent.tickets.pin"]["parameters"] == ["ticket", "reply"]
    assert table["routes"]["escalated.admin.departments.update"]["methods"] == ["PUT", "PATCH"]
    assert table["routes"]["escalated.admin.departments.destroy"]["methods"] == ["DELETE"]
    assert not [name for name in table["routes"] if name.startswith("escalated:")]


@pytest.mark.urls("tests.inertia.urls_help")
def test_everything_follows_where_the_host_mounts_the_urls(world: World) -> None:
    client = client_for(world.customer)

    table = client.get("/help/routes.json").json()
    page = visit(client, "/help/")

    assert table["routes"]["escalated.customer.tickets.index"]["uri"] == "help/"
    assert table["routes"]["login"]["uri"] == "signin/"
    assert all(r["uri"].startswith(("help/", "signin/")) for r in table["routes"].values())
    assert page["props"]["escalated"]["prefix"] == "help"
    assert page["props"]["tickets"]["data"][0]["reference"] == world.ticket.reference


def test_the_head_tag_writes_the_csrf_meta_and_the_route_table(world: World) -> None:
    client = client_for(world.customer)

    html = client.get("/support/").content.decode()

    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert token is not None
    routes = re.search(
        r'<script id="escalated-routes" type="application/json">(.*?)</script>', html, re.S
    )
    assert routes is not None
    assert json.loads(routes.group(1)) == client.get("/support/routes.json").json()
    assert '<script data-page="app" type="application/json">' in html


# --- CSRF ------------------------------------------------------------------------------------


def _csrf_client(world: World) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.customer)
    html = client.get("/support/").content.decode()
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match is not None
    return client, match.group(1)


def _reply(client: Client, world: World, **headers: str) -> Any:
    return client.post(
        f"/support/tickets/{world.ticket.reference}/reply/",
        {"body": "With a token"},
        content_type="application/json",
        headers={**INERTIA, **headers},
    )


def test_a_post_without_a_csrf_token_is_refused(world: World) -> None:
    client, _token = _csrf_client(world)
    assert _reply(client, world).status_code == 403
    assert not Reply.objects.filter(body__contains="With a token").exists()


@pytest.mark.parametrize("header", ["X-CSRFToken", "X-CSRF-TOKEN", "X-XSRF-TOKEN"])
def test_each_header_the_pages_send_passes_the_csrf_check(header: str, world: World) -> None:
    client, meta_token = _csrf_client(world)
    # Inertia 3's default pair reads the XSRF-TOKEN cookie; Django's reads csrftoken.
    token = {
        "X-CSRFToken": client.cookies["csrftoken"].value,
        "X-CSRF-TOKEN": meta_token,
        "X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"].value,
    }[header]

    assert _reply(client, world, **{header: token}).status_code == 303
    assert Reply.objects.filter(body__contains="With a token").exists()


def test_a_wrong_token_in_the_pages_header_is_refused(world: World) -> None:
    client, _token = _csrf_client(world)
    assert _reply(client, world, **{"X-CSRF-TOKEN": "x" * 64}).status_code == 403


# --- partial reloads -----------------------------------------------------------------------


def _partial(client: Client, url: str, component: str, only: str) -> dict[str, Any]:
    return visit(
        client,
        url,
        **{"X-Inertia-Partial-Component": component, "X-Inertia-Partial-Data": only},
    )


def test_a_partial_reload_of_the_ticket_runs_only_its_fields(
    world: World, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.agent)
    url = f"/support/agent/tickets/{world.ticket.reference}/"
    visit(client, url)  # the session and the like, once
    with CaptureQueriesContext(connection) as full:
        visit(client, url)
    with CaptureQueriesContext(connection) as partial:
        page = _partial(client, url, "Escalated/Agent/TicketShow", "ticket")

    assert set(page["props"]) == {"ticket", "errors", "flash"}
    assert page["props"]["ticket"]["reference"] == world.ticket.reference
    assert len(partial) < len(full)
    assert not any("canned" in q["sql"] or "macro" in q["sql"] for q in partial.captured_queries)


def test_a_partial_reload_of_the_queue_sends_only_the_tickets(world: World) -> None:
    page = _partial(
        client_for(world.agent), "/support/agent/tickets/", "Escalated/Agent/TicketIndex", "tickets"
    )
    assert set(page["props"]) == {"tickets", "errors", "flash"}
    assert page["props"]["tickets"]["data"][0]["reference"] == world.ticket.reference


def test_a_partial_reload_for_another_component_is_a_full_page(world: World) -> None:
    page = _partial(
        client_for(world.agent), "/support/agent/tickets/", "Escalated/Agent/TicketShow", "ticket"
    )
    assert {"tickets", "departments", "tags", "filters"} <= set(page["props"])


def test_every_operation_of_the_door_is_valid_against_the_schema() -> None:
    from graphql import parse, validate

    from escalated.graphql.schema import schema
    from escalated.inertia.execute import document, operation_names

    names = operation_names()
    assert len(names) > 40
    for name in names:
        assert validate(schema._schema, parse(document(name))) == [], name
