"""A visitor without an account opens a ticket on the guest page and follows it by its link."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Session

pytestmark = pytest.mark.browser


def test_guest_opens_a_ticket_and_answers_it_through_its_link(
    visit: Callable[[str | None], Session],
) -> None:
    session = visit(None)
    page = session.page
    session.goto("/support/guest/create/")
    form = page.locator("form")
    form.locator("input[type=text]").nth(0).fill("Gina Guest")
    form.locator("input[type=email]").fill("gina@example.com")
    form.locator("input[type=text]").nth(1).fill("Where is my order?")
    form.locator("textarea").fill("I ordered last week and heard nothing since.")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/support/guest/[\w-]{32,}/$"))
    expect(page.get_by_text("I ordered last week and heard nothing since.")).to_be_visible()
    link = page.url
    session.shot("guest-show")

    page.get_by_placeholder("Write your reply...").fill("The order number is 5512.")
    page.get_by_role("button", name="Send Reply").click()
    expect(page.get_by_text("The order number is 5512.")).to_be_visible()

    again = visit(None)
    again.page.goto(link)
    expect(again.page.get_by_text("The order number is 5512.")).to_be_visible()
    assert session.console.errors == [] and again.console.errors == []
