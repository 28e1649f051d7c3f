"""Each page costs a constant number of SQL statements, whatever the amount of data (the
house pattern of tests/test_query_counts.py: the same page measured at two sizes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.access import SystemActor
from escalated.models import Department, Tag
from escalated.services import macros, organisation, ratings, sla_admin, tickets, webhooks
from escalated.services.escalation import rules
from tests.conftest import World, make_user
from tests.inertia.helpers import INERTIA, client_for, furnish

pytestmark = pytest.mark.django_db

SEEDER = SystemActor("test:sizes")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def grow(world: World, n: int) -> None:
    """``n`` more of everything a page lists: tickets with replies, notes, files, tags and
    ratings; departments, tags, policies, rules, canned responses, macros, webhooks."""
    for i in range(n):
        # Half the new tickets are the world's customer's, so their list grows too.
        customer = world.customer if i % 2 else make_user(f"c{n}_{i}")
        department = Department.objects.create(name=f"Dept {n}.{i}", slug=f"dept-{n}-{i}")
        department.agents.add(world.agent)
        tag = Tag.objects.create(name=f"Tag {n}.{i}", slug=f"tag-{n}-{i}")
        ticket = tickets.ticket_create(
            actor=world.agent,
            requester=customer,
            subject=f"T{i}",
            department=world.billing,
            assignee=world.agent,
            tags=[tag, world.urgent],
        )
        tickets.ticket_reply(ticket=ticket, author=world.agent, body=f"Reply {i}")
        # On the world's ticket, the pages that show one ticket grow too.
        tickets.ticket_reply(
            ticket=world.ticket,
            author=world.customer,
            body=f"More {n}.{i}",
            attachments=[SimpleUploadedFile(f"f{i}.png", PNG, content_type="image/png")],
        )
        tickets.ticket_note_add(ticket=world.ticket, author=world.agent, body=f"Note {i}")
        tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[tag])
        tickets.ticket_resolve(ticket=ticket, actor=world.agent)
        ratings.ticket_rate(ticket=ticket, actor=customer, rating=1 + i % 5)
        organisation.canned_response_create(actor=world.admin, title=f"R{n}.{i}", body="b")
        macros.macro_create(
            actor=world.admin,
            name=f"M{n}.{i}",
            actions=[macros.MacroAction(type="set_status", status="resolved")],
        )
        webhooks.webhook_create(
            actor=world.admin, url=f"https://h{n}-{i}.example.com/", events=["ticket.created"]
        )
        sla_admin.sla_policy_create(
            actor=SEEDER,
            name=f"P{n}.{i}",
            first_response_hours={"low": 1},
            resolution_hours={"low": 2},
        )
        rules.escalation_rule_create(
            actor=SEEDER,
            name=f"Rule {n}.{i}",
            trigger="time_based",
            conditions=[{"field": "age_hours", "value": 24 + i}],
            actions=[{"type": "escalate", "value": ""}],
        )


Url = Callable[[World], str]

PAGES: list[tuple[str, Url]] = [
    ("customer", lambda w: "/support/"),
    ("customer", lambda w: "/support/tickets/create/"),
    ("customer", lambda w: f"/support/tickets/{w.ticket.reference}/"),
    ("agent", lambda w: "/support/agent/"),
    ("agent", lambda w: "/support/agent/tickets/"),
    ("agent", lambda w: f"/support/agent/tickets/{w.ticket.reference}/"),
    ("admin", lambda w: "/support/admin/reports/"),
    ("admin", lambda w: "/support/admin/departments/"),
    ("admin", lambda w: "/support/admin/sla-policies/"),
    ("admin", lambda w: "/support/admin/escalation-rules/"),
    ("admin", lambda w: "/support/admin/tags/"),
    ("admin", lambda w: "/support/admin/canned-responses/"),
    ("admin", lambda w: "/support/admin/settings/"),
    ("admin", lambda w: "/support/admin/webhooks/"),
    ("admin", lambda w: "/support/admin/macros/"),
    ("admin", lambda w: "/support/admin/api-tokens/"),
    ("admin", lambda w: "/support/admin/business-hours/"),
]  # fmt: skip


def _statements(world: World, persona: str, url: Url) -> tuple[int, Any]:
    client = client_for(world.person(persona))
    client.get(url(world), headers=INERTIA)  # the session's first touch is not the page's
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(world), headers=INERTIA)
    assert response.status_code == 200
    return len(queries), response.json()["props"]


@pytest.mark.parametrize(
    ("persona", "url"),
    [pytest.param(p, u, id=f"{p}-{u.__code__.co_firstlineno}") for p, u in PAGES],
)
def test_a_page_costs_the_same_statements_at_two_sizes(
    persona: str, url: Url, world: World
) -> None:
    furnish(world)
    grow(world, 2)  # every kind of row at least once, so only the amount differs below
    small, small_props = _statements(world, persona, url)
    grow(world, 4)
    large, large_props = _statements(world, persona, url)

    assert large == small, f"{url(world)}: {small} statements with less data, {large} with more"
    if persona != "admin":  # the admin pages' lists grow by rows the props do not all show
        assert len(str(large_props)) > len(str(small_props))
