"""A customer opens a ticket through the pages and answers it with a file attached."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Session

pytestmark = pytest.mark.browser

RECEIPT = b"Order 1234: charged twice, 2 x 9.99 EUR\n"


def test_customer_creates_a_ticket_and_replies_with_a_file(
    visit: Callable[[str | None], Session],
) -> None:
    session = visit("customer")
    page = session.page
    session.goto("/support/tickets/create/")

    form = page.locator("form")
    form.locator("input[type=text]").first.fill("The app logs me out every hour")
    form.locator("textarea").fill("Since Monday I have to sign in again every hour.")
    form.locator("select").first.select_option("high")
    form.get_by_role("button", name="Create Ticket").click()

    # The store redirects (303) to the new ticket's page.
    expect(page).to_have_url(re.compile(r"/support/tickets/[A-Z]+-\d+/$"))
    expect(page.get_by_text("The app logs me out every hour").first).to_be_visible()
    expect(page.get_by_text("Since Monday I have to sign in again every hour.")).to_be_visible()
    expect(page.get_by_text("High", exact=True).first).to_be_visible()

    page.get_by_placeholder("Type your reply...").fill("Here is the receipt from my bank.")
    page.locator("input[type=file]").set_input_files(
        {"name": "receipt.txt", "mimeType": "text/plain", "buffer": RECEIPT}
    )
    expect(page.get_by_text("receipt.txt").first).to_be_visible()
    page.get_by_role("button", name="Send Reply").click()

    expect(page.get_by_text("Here is the receipt from my bank.")).to_be_visible()
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Here is the receipt from my bank.")).to_be_visible()
    attachment = page.get_by_role("link", name=re.compile("receipt.txt"))
    expect(attachment).to_be_visible()
    download = page.request.get(session.site.url(attachment.get_attribute("href") or ""))
    assert download.status == 200
    assert download.body() == RECEIPT

    session.shot("customer-show-after-reply")
    assert session.console.errors == []
