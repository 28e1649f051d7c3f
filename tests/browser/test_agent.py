"""An agent works the queue through the pages: filters it, answers a ticket, adds an internal
note, changes status and priority, applies a macro, and runs a bulk action. The customer's
view of the same ticket is checked too: the note never reaches it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Session

pytestmark = pytest.mark.browser

URGENT = "Login page shows a blank screen"  # seeded as urgent (demo/seed_demo.py)
HIGH = "Charged twice for my subscription"
WORKED = "Password reset email never arrives"
LOW_ONE = "How do I export my invoices?"


def select_with(page: Page, option: str) -> Locator:
    """The <select> offering ``option`` (the package's selects have no labels)."""
    return page.locator("select").filter(has=page.locator("option", has_text=option))


def row(page: Page, text: str) -> Locator:
    return page.locator("tr", has_text=text)


def test_agent_filters_the_queue(visit: Callable[[str | None], Session]) -> None:
    session = visit("agent")
    page = session.page
    session.goto("/support/agent/tickets/")
    expect(row(page, HIGH)).to_be_visible()

    select_with(page, "All Priorities").select_option("urgent")
    expect(page).to_have_url(re.compile(r"[?&]priority=urgent"))
    expect(row(page, URGENT)).to_be_visible()
    expect(row(page, HIGH)).to_have_count(0)

    page.reload()
    page.wait_for_load_state("networkidle")
    expect(select_with(page, "All Priorities")).to_have_value("urgent")
    expect(row(page, HIGH)).to_have_count(0)
    session.shot("agent-queue-filtered")
    assert session.console.errors == []


def test_agent_replies_notes_changes_status_and_priority_and_applies_a_macro(
    visit: Callable[[str | None], Session],
) -> None:
    session = visit("agent")
    page = session.page
    session.goto("/support/agent/tickets/")
    row(page, WORKED).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/support/agent/tickets/[A-Z]+-\d+/$"))
    ticket_url = page.url

    page.get_by_placeholder("Type your reply...").fill(
        "We have resent the email; please check spam."
    )
    page.get_by_role("button", name="Send Reply").click()
    expect(page.get_by_text("We have resent the email; please check spam.")).to_be_visible()

    page.get_by_role("button", name="Internal Note").click()
    composer = page.locator("textarea").first
    composer.fill("Mail provider bounced the first one: check the SPF record.")
    page.get_by_role("button", name="Add Note").click()
    expect(
        page.get_by_text("Mail provider bounced the first one: check the SPF record.")
    ).to_be_visible()

    select_with(page, "Change Status...").select_option("in_progress")
    expect(page.get_by_role("status", name="Status: In Progress").first).to_be_visible()
    select_with(page, "Change Priority...").select_option("urgent")
    expect(page.get_by_role("status", name="Priority: Urgent").first).to_be_visible()

    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("status", name="Status: In Progress").first).to_be_visible()
    expect(page.get_by_role("status", name="Priority: Urgent").first).to_be_visible()

    page.get_by_role("button", name="Apply macro").click()
    page.get_by_role("menuitem", name=re.compile("Refund and resolve")).click()
    expect(page.get_by_role("status", name="Status: Resolved").first).to_be_visible()
    expect(page.get_by_text("your refund is on its way").first).to_be_visible()
    session.shot("agent-show-after-work")
    assert session.console.errors == []

    customer = visit("customer")
    customer.goto(
        ticket_url.replace("/agent/tickets/", "/tickets/").removeprefix(session.site.base)
    )
    expect(
        customer.page.get_by_text("We have resent the email; please check spam.")
    ).to_be_visible()
    expect(customer.page.get_by_text("check the SPF record")).to_have_count(0)
    assert customer.console.errors == []


def test_agent_runs_a_bulk_action(visit: Callable[[str | None], Session]) -> None:
    session = visit("agent")
    page = session.page
    session.goto("/support/agent/tickets/")
    for subject in (HIGH, LOW_ONE):
        row(page, subject).locator("input[type=checkbox]").check()
    expect(page.get_by_text("2 tickets selected")).to_be_visible()
    select_with(page, "Priority...").select_option("critical")

    for subject in (HIGH, LOW_ONE):
        expect(row(page, subject).get_by_text("Critical", exact=True)).to_be_visible()
    page.reload()
    page.wait_for_load_state("networkidle")
    for subject in (HIGH, LOW_ONE):
        expect(row(page, subject).get_by_text("Critical", exact=True)).to_be_visible()
    expect(row(page, URGENT).get_by_text("Critical", exact=True)).to_have_count(0)
    session.shot("agent-queue-after-bulk")
    assert session.console.errors == []
