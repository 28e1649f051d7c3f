"""Shared pieces of the support UI's tests: a fuller helpdesk, and Inertia requests."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from django.test import Client

from escalated.access import SystemActor
from escalated.models import BusinessSchedule, Tag
from escalated.services import macros, organisation, sla_admin, tickets, webhooks
from escalated.services.escalation import rules
from tests.conftest import World
from tests.inertia.schemas import PAGES

SEEDER = SystemActor("test:inertia")
INERTIA = {"X-Inertia": "true", "X-Inertia-Version": "1.0"}


def furnish(world: World) -> None:
    """Give every admin list something to show: a policy, a rule, a canned response, a macro,
    a webhook, a schedule, and a tag on the ticket."""
    sla_admin.sla_policy_create(
        actor=SEEDER,
        name="Standard",
        is_default=True,
        first_response_hours={"low": 24, "medium": 8, "high": 4, "urgent": 1, "critical": 1},
        resolution_hours={"low": 72, "medium": 24, "high": 8, "urgent": 4, "critical": 2},
    )
    rules.escalation_rule_create(
        actor=SEEDER,
        name="Stale",
        trigger="time_based",
        conditions=[{"field": "age_hours", "value": 24}],
        actions=[{"type": "escalate", "value": "old"}],
    )
    organisation.canned_response_create(actor=world.admin, title="Thanks", body="Thank you!")
    macros.macro_create(
        actor=world.admin,
        name="Close politely",
        actions=[macros.MacroAction(type="set_status", status="resolved")],
    )
    webhooks.webhook_create(
        actor=world.admin, url="https://hooks.example.com/x", events=["ticket.created"]
    )
    BusinessSchedule.objects.create(
        name="Office",
        intervals=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)],
    )
    tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[Tag.objects.get()])


def client_for(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def visit(client: Client, url: str, **headers: str) -> dict[str, Any]:
    """The Inertia page object of ``url`` (as the client's XHR visits get it)."""
    response = client.get(url, headers={**INERTIA, **headers})
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    assert response["X-Inertia"] == "true"
    return response.json()


def first_load(client: Client, url: str) -> dict[str, Any]:
    """The page object embedded in the first, full HTML load of ``url``."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    start = html.index('<script data-page="app" type="application/json">') + len(
        '<script data-page="app" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def assert_contract(page: dict[str, Any]) -> None:
    jsonschema.validate(page, PAGES[page["component"]])


def errors_after(client: Client, url: str) -> dict[str, str]:
    """The errors the page shows after a refused form sent the browser back to it."""
    return visit(client, url)["props"]["errors"]
