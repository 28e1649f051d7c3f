"""Every page renders for the people it is for, with props that match the contract's schema,
on the first full load and on an Inertia visit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from escalated.models import BusinessSchedule, EscalationRule, SlaPolicy, Webhook
from tests.conftest import World
from tests.inertia.helpers import assert_contract, client_for, first_load, furnish, visit

pytestmark = pytest.mark.django_db

Url = Callable[[World], str]

CUSTOMER_PAGES: list[tuple[str, Url]] = [
    ("Escalated/Customer/Index", lambda w: "/support/"),
    ("Escalated/Customer/Index", lambda w: "/support/tickets/"),
    ("Escalated/Customer/Create", lambda w: "/support/tickets/create/"),
    ("Escalated/Customer/Show", lambda w: f"/support/tickets/{w.ticket.reference}/"),
    ("EscalatedDjango/Unavailable", lambda w: "/support/kb/"),
]
AGENT_PAGES: list[tuple[str, Url]] = [
    ("Escalated/Agent/Dashboard", lambda w: "/support/agent/"),
    ("Escalated/Agent/TicketIndex", lambda w: "/support/agent/tickets/"),
    (
        "Escalated/Agent/TicketIndex",
        lambda w: (
            "/support/agent/tickets/?status=waiting_on_customer&priority=medium&department_id=1&following=1"
        ),
    ),
    ("Escalated/Agent/TicketShow", lambda w: f"/support/agent/tickets/{w.ticket.reference}/"),
]
ADMIN_PAGES: list[tuple[str, Url]] = [
    ("Escalated/Admin/Reports", lambda w: "/support/admin/reports/"),
    ("Escalated/Admin/Reports", lambda w: "/support/admin/reports/?days=7"),
    ("Escalated/Admin/Reports", lambda w: "/support/admin/reports/csat/"),
    ("Escalated/Admin/Departments/Index", lambda w: "/support/admin/departments/"),
    ("Escalated/Admin/Departments/Form", lambda w: "/support/admin/departments/create/"),
    ("Escalated/Admin/Departments/Form", lambda w: f"/support/admin/departments/{w.billing.pk}/edit/"),
    ("Escalated/Admin/SlaPolicies/Index", lambda w: "/support/admin/sla-policies/"),
    ("Escalated/Admin/SlaPolicies/Form", lambda w: "/support/admin/sla-policies/create/"),
    ("Escalated/Admin/SlaPolicies/Form", lambda w: f"/support/admin/sla-policies/{SlaPolicy.objects.get().pk}/edit/"),
    ("Escalated/Admin/EscalationRules/Index", lambda w: "/support/admin/escalation-rules/"),
    ("Escalated/Admin/EscalationRules/Form", lambda w: "/support/admin/escalation-rules/create/"),
    ("Escalated/Admin/EscalationRules/Form", lambda w: f"/support/admin/escalation-rules/{EscalationRule.objects.get().pk}/edit/"),
    ("Escalated/Admin/Tags/Index", lambda w: "/support/admin/tags/"),
    ("Escalated/Admin/CannedResponses/Index", lambda w: "/support/admin/canned-responses/"),
    ("Escalated/Admin/Settings", lambda w: "/support/admin/settings/"),
    ("Escalated/Admin/Webhooks/Index", lambda w: "/support/admin/webhooks/"),
    ("Escalated/Admin/Webhooks/Form", lambda w: "/support/admin/webhooks/create/"),
    ("Escalated/Admin/Webhooks/Form", lambda w: f"/support/admin/webhooks/{Webhook.objects.get().pk}/edit/"),
    ("Escalated/Admin/Macros/Index", lambda w: "/support/admin/macros/"),
    ("Escalated/Admin/ApiTokens/Index", lambda w: "/support/admin/api-tokens/"),
    ("Escalated/Admin/BusinessHours/Index", lambda w: "/support/admin/business-hours/"),
    ("Escalated/Admin/BusinessHours/Form", lambda w: "/support/admin/business-hours/create/"),
    ("Escalated/Admin/BusinessHours/Form", lambda w: f"/support/admin/business-hours/{BusinessSchedule.objects.get().pk}/edit/"),
    *(
        ("EscalatedDjango/Unavailable", (lambda s: lambda w: f"/support/admin/{s}/")(slug))
        for slug in ("kb-articles", "workflows", "custom-fields", "statuses", "skills", "roles",
                     "users", "capacity", "audit-log", "custom-objects", "plugins", "import",
                     "newsletters")
    ),
]  # fmt: skip

CASES = (
    [("customer", c, u) for c, u in CUSTOMER_PAGES]
    + [("agent", c, u) for c, u in AGENT_PAGES + CUSTOMER_PAGES[:1]]
    + [("admin", c, u) for c, u in ADMIN_PAGES + AGENT_PAGES + CUSTOMER_PAGES[:1]]
)


@pytest.mark.parametrize(
    ("persona", "component", "url"),
    [pytest.param(p, c, u, id=f"{p}-{u.__code__.co_firstlineno}-{c}") for p, c, u in CASES],
)
def test_page_props_match_the_contract(
    persona: str, component: str, url: Url, world: World
) -> None:
    furnish(world)
    client = client_for(world.person(persona))

    page = visit(client, url(world))

    assert page["component"] == component
    assert_contract(page)
    assert page["props"]["auth"]["user"]["id"] == world.person(persona).pk


def test_first_load_embeds_the_same_page_for_inertia_3(world: World) -> None:
    client = client_for(world.customer)

    page = first_load(client, f"/support/tickets/{world.ticket.reference}/")

    assert page["component"] == "Escalated/Customer/Show"
    assert_contract(page)
    assert page == visit(client, f"/support/tickets/{world.ticket.reference}/")


def _guest_world(world: World, settings: Any) -> str:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    world.guest_headers()
    return str(world._guest_token)  # type: ignore[attr-defined]


def test_guest_pages_match_the_contract(world: World, settings: Any) -> None:
    token = _guest_world(world, settings)
    client = client_for()

    create = visit(client, "/support/guest/create/")
    show = visit(client, f"/support/guest/{token}/")

    assert_contract(create)
    assert_contract(show)
    assert show["props"]["ticket"]["subject"] == "My parcel"
    assert show["props"]["token"] == token
    assert show["props"]["auth"]["user"] is None


def test_guest_create_is_a_404_while_guest_tickets_are_off(world: World) -> None:
    assert (
        client_for().get("/support/guest/create/", headers={"X-Inertia": "true"}).status_code == 404
    )


def test_a_made_up_guest_token_finds_nothing(world: World, settings: Any) -> None:
    _guest_world(world, settings)
    response = client_for().get("/support/guest/" + "x" * 64 + "/", headers={"X-Inertia": "true"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("customer", "/support/agent/"),
        ("customer", "/support/agent/tickets/"),
        ("customer", "/support/agent/tickets/{ref}/"),
        ("customer", "/support/admin/reports/"),
        ("agent", "/support/admin/reports/"),
        ("agent", "/support/admin/departments/"),
        ("agent", "/support/admin/settings/"),
        ("agent", "/support/admin/plugins/"),
    ],
)
def test_pages_refuse_whom_they_are_not_for(persona: str, url: str, world: World) -> None:
    response = client_for(world.person(persona)).get(
        url.format(ref=world.ticket.reference), headers={"X-Inertia": "true"}
    )
    assert response.status_code == 403


def test_someone_not_signed_in_is_sent_to_sign_in(world: World) -> None:
    response = client_for().get("/support/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/support/")


def test_another_customers_ticket_is_not_found(world: World) -> None:
    client = client_for(world.other_customer)
    response = client.get(
        f"/support/tickets/{world.ticket.reference}/", headers={"X-Inertia": "true"}
    )
    assert response.status_code == 404


def test_the_customer_list_shows_only_the_viewers_own_tickets_even_for_staff(world: World) -> None:
    page = visit(client_for(world.agent), "/support/")
    assert page["props"]["tickets"]["data"] == []


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("customer", "/support/tickets/{ref}/"),
        ("customer", "/support/"),
        ("guest", "/support/guest/{token}/"),
    ],
)
def test_an_internal_note_never_reaches_a_customer_or_guest(
    persona: str, url: str, world: World, settings: Any
) -> None:
    from escalated.services import tickets

    token = _guest_world(world, settings)
    tickets.ticket_note_add(
        ticket=world.guest_ticket,  # type: ignore[attr-defined]
        author=world.agent,
        body="Secret: refund pending approval",
    )
    client = client_for(world.person(persona))

    page = visit(client, url.format(ref=world.ticket.reference, token=token))

    text = json.dumps(page)
    assert "refund pending approval" not in text
    assert "Secret" not in text


def test_the_agent_sees_the_note_and_its_pin(world: World) -> None:
    from escalated.services import tickets

    tickets.ticket_note_pin(reply=world.note, actor=world.agent, pinned=True)

    ticket = visit(client_for(world.agent), f"/support/agent/tickets/{world.ticket.reference}/")[
        "props"
    ]["ticket"]

    assert [n["body"] for n in ticket["pinned_notes"]] == ["Secret: refund pending approval"]
    assert any(a["description"] for a in ticket["activities"])


def test_a_long_thread_shows_its_newest_replies(world: World) -> None:
    # Given a thread longer than the page's 100 replies
    from escalated.models import Reply

    Reply.objects.bulk_create(
        Reply(ticket=world.ticket, author=world.customer, body=f"Follow-up {n}") for n in range(120)
    )

    # When the customer opens it
    ticket = visit(client_for(world.customer), f"/support/tickets/{world.ticket.reference}/")[
        "props"
    ]["ticket"]

    # Then the newest replies are there, the oldest beyond the page are not
    bodies = [r["body"] for r in ticket["replies"]]
    assert len(bodies) == 100
    assert "Follow-up 119" in bodies
    assert "Follow-up 0" not in bodies
