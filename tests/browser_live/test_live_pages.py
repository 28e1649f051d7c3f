"""Issue 18's browser checks: what one person does shows on another's open page, live, through
window.Echo over our GraphQL subscriptions, with no reload; and an internal note never does."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser_live.conftest import Person, Site
from tests.browser_live.live import (
    ASSIGN,
    NOTE,
    REPLY,
    gid,
    mark_document,
    not_reloaded,
    post_graphql,
)

pytestmark = pytest.mark.browser

LIVE = 15_000  # ms a live change may take to show, on a loaded 2-core machine


def agent_show(ref: str) -> str:
    return f"/support/agent/tickets/{ref}/"


def customer_show(ref: str) -> str:
    return f"/support/tickets/{ref}/"


def test_a_customer_reply_appears_on_the_agents_open_ticket(
    person: Callable[[str], Person], site: Site
) -> None:
    ticket = site.ticket(subject="How do I export my invoices?")
    agent, customer = person("agent"), person("customer")
    agent.goto(agent_show(ticket["reference"]))
    mark_document(agent.page)
    customer.goto(customer_show(ticket["reference"]))

    customer.page.get_by_placeholder("Type your reply...").fill("Found the export button, thanks!")
    customer.page.get_by_role("button", name="Send Reply").click()

    expect(agent.page.get_by_text("Found the export button, thanks!")).to_be_visible(timeout=LIVE)
    assert not_reloaded(agent.page)
    assert agent.errors == [] and customer.errors == []


def test_an_agents_public_reply_appears_on_the_customers_page_and_a_note_never_does(
    person: Callable[[str], Person], site: Site
) -> None:
    ticket = site.ticket(subject="How do I export my invoices?")
    agent, customer = person("agent"), person("customer")
    customer.goto(customer_show(ticket["reference"]))
    mark_document(customer.page)
    agent.goto(agent_show(ticket["reference"]))

    agent.page.get_by_role("button", name="Internal Note").click()
    agent.page.locator("textarea").first.fill("Internal: this customer churned once already.")
    agent.page.get_by_role("button", name="Add Note").click()
    expect(agent.page.get_by_text("this customer churned once already")).to_be_visible(timeout=LIVE)

    agent.page.get_by_role("button", name=re.compile("^Reply$")).click()
    agent.page.get_by_placeholder("Type your reply...").fill(
        "Settings, then Invoices, then Export."
    )
    agent.page.get_by_role("button", name="Send Reply").click()

    # The public reply came after the note: once it shows, the note had its chance to.
    expect(customer.page.get_by_text("Settings, then Invoices, then Export.")).to_be_visible(
        timeout=LIVE
    )
    expect(customer.page.get_by_text("this customer churned once already")).to_have_count(0)
    assert "churned" not in customer.page.content()
    assert not_reloaded(customer.page)
    assert agent.errors == [] and customer.errors == []


def test_a_new_ticket_appears_in_the_agents_queue(
    person: Callable[[str], Person], site: Site
) -> None:
    agent, customer = person("agent"), person("customer")
    agent.goto("/support/agent/tickets/")
    mark_document(agent.page)
    customer.goto("/support/tickets/create/", live=False)

    form = customer.page.locator("form")
    form.locator("input[type=text]").first.fill("Live queue: printer on fire")
    form.locator("textarea").fill("Smoke is coming out of the invoice printer.")
    department = form.locator("select").filter(
        has=customer.page.locator("option", has_text="Billing")
    )
    if department.count():
        department.first.select_option(label="Billing")
    form.get_by_role("button", name="Create Ticket").click()

    expect(agent.page.get_by_text("Live queue: printer on fire")).to_be_visible(timeout=LIVE)
    assert not_reloaded(agent.page)
    assert agent.errors == [] and customer.errors == []


def test_an_assignment_shows_in_the_assignees_list(
    person: Callable[[str], Person], site: Site
) -> None:
    ticket = site.ticket(subject="How do I export my invoices?")
    agent_id = site.world["users"]["agent"]["id"]
    agent, admin = person("agent"), person("admin")
    agent.goto(f"/support/agent/tickets/?assigned_to={agent_id}")
    expect(agent.page.get_by_text(ticket["subject"])).to_have_count(0)
    mark_document(agent.page)
    admin.goto(agent_show(ticket["reference"]))

    post_graphql(
        admin.page,
        ASSIGN,
        {"i": {"ticketId": gid("Ticket", ticket["id"]), "assigneeId": gid("User", agent_id)}},
    )

    expect(agent.page.get_by_text(ticket["subject"])).to_be_visible(timeout=LIVE)
    assert not_reloaded(agent.page)
    assert agent.errors == [] and admin.errors == []


def test_two_agents_see_each_other_in_the_presence_indicator(
    person: Callable[[str], Person], site: Site
) -> None:
    ticket = site.ticket(subject="Login page shows a blank screen")
    agent, admin = person("agent"), person("admin")
    agent.goto(agent_show(ticket["reference"]))
    admin.goto(agent_show(ticket["reference"]))
    names = site.world["users"]

    expect(agent.page.locator(f'[aria-label="{names["admin"]["name"]}"]')).to_be_visible(
        timeout=LIVE
    )
    expect(admin.page.locator(f'[aria-label="{names["agent"]["name"]}"]')).to_be_visible(
        timeout=LIVE
    )
    # And the admin leaving the ticket takes them off the agent's indicator.
    admin.page.goto(site.base + "/support/agent/tickets/")
    expect(agent.page.locator(f'[aria-label="{names["admin"]["name"]}"]')).to_have_count(
        0, timeout=LIVE
    )
    assert agent.errors == [] and admin.errors == []


def test_an_internal_note_never_reaches_the_customers_page(
    person: Callable[[str], Person], site: Site
) -> None:
    ticket = site.ticket(subject="Charged twice for my subscription")
    agent, customer = person("agent"), person("customer")
    customer.goto(customer_show(ticket["reference"]))
    agent.goto(agent_show(ticket["reference"]))
    customer.page.evaluate(
        """(id) => { window.__events = [];
            window.Echo.private('escalated.tickets.' + id)
                .listen('.reply.created', (e) => window.__events.push(e)); }""",
        ticket["id"],
    )
    body = {"ticketId": gid("Ticket", ticket["id"])}
    post_graphql(agent.page, NOTE, {"i": {**body, "body": "<p>Note: refund approved off-book</p>"}})
    post_graphql(agent.page, REPLY, {"i": {**body, "body": "<p>Your refund is on its way.</p>"}})

    expect(customer.page.get_by_text("Your refund is on its way.")).to_be_visible(timeout=LIVE)
    customer.page.wait_for_function("() => window.__events.length >= 1")
    events = customer.page.evaluate("() => window.__events")
    assert [e["is_internal_note"] for e in events] == [False]
    assert "off-book" not in customer.page.content()
    assert customer.errors == []
