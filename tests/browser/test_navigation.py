"""Every link of the admin sidebar and the agent's top bar answers with a page inside the
layout, including the links to features this project does not have: never an error status, a
blank page or a console error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HUB_ADMINISTRATION, Session, Site, self_hosted_only

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("role", "start", "links"),
    [
        ("admin", "/support/admin/reports/", "aside a[href^='/support/']"),
        ("agent", "/support/agent/", "nav a[href^='/support']"),
    ],
)
def test_every_navigation_link_answers_with_a_page(
    visit: Callable[[str | None], Session], site: Site, role: str, start: str, links: str
) -> None:
    if role == "admin":
        self_hosted_only(site, HUB_ADMINISTRATION)
    session = visit(role)
    page = session.page
    session.goto(start)
    hrefs = sorted({a.get_attribute("href") or "" for a in page.locator(links).all()})
    assert len(hrefs) >= 3, hrefs

    for href in hrefs:
        response = page.goto(session.site.url(href))
        assert response is not None and response.status == 200, (href, response and response.status)
        page.wait_for_load_state("networkidle")
        expect(page.locator("main")).not_to_be_empty()
        assert page.locator("main").inner_text().strip(), href
        assert session.console.errors == [], (href, session.console.errors)
