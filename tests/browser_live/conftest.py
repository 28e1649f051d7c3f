"""Live pages in a real browser: Playwright driving Debian's chromium against the demo project
(built frontend with `setupEscalated(app, { realtime: true })`) under uvicorn, on its own SQLite
file. Each person is a separate browser context signed in by their own session cookie.

Like the other browser tests they run with ESCALATED_TEST_BROWSER=1 (`make test-browser`, CI);
then a missing chromium or frontend build fails them rather than skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

# The browser tests' own switches and browser: skipped unless ESCALATED_TEST_BROWSER=1, Debian's
# chromium, the built demo frontend.
from tests.browser.conftest import (  # noqa: F401
    LOGO,
    browser,
    built_frontend,
    chromium_path,
)
from tests.realtime.servers import ROOT, python_json, server

SETTINGS = "tests.browser_live.server_settings"


@dataclass
class Site:
    base: str
    address: str
    world: dict[str, Any]

    def ticket(self, **match: Any) -> dict[str, Any]:
        """The first seeded ticket whose fields equal ``match``."""
        return next(t for t in self.world["tickets"] if match.items() <= t.items())


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, built_frontend: Path) -> Iterator[Site]:  # noqa: F811
    db = tmp_path_factory.mktemp("live-site") / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "ESCALATED_SERVER_DB": str(db),
        "PYTHONPATH": str(ROOT),
    }
    world = python_json(["-m", "tests.browser_live.seed"], env, timeout=300)
    with server(db, settings=SETTINGS) as served:
        yield Site(base=f"http://{served.address}", address=served.address, world=world)


@dataclass
class Person:
    page: Page
    errors: list[str]
    site: Site

    def goto(self, path: str, *, live: bool = True) -> None:
        """Open ``path``; for a page with live channels, wait until its socket is connected."""
        response = self.page.goto(self.site.base + path)
        assert response is not None and response.status == 200, (path, response)
        if live:
            self.page.wait_for_function("() => !!window.Echo && !!window.Echo.socketId()")


@pytest.fixture
def person(browser: Browser, site: Site) -> Iterator[Callable[[str], Person]]:  # noqa: F811
    """A fresh browser context signed in as ``customer``, ``agent`` or ``admin``."""
    contexts = []

    def open_as(name: str) -> Person:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route(
            "https://escalated.dev/**",
            lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=LOGO),
        )
        cookie = {"name": site.world["cookie"], "value": site.world["sessions"][name]}
        context.add_cookies([{**cookie, "url": site.base}])
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        return Person(page=page, errors=errors, site=site)

    yield open_as
    for context in contexts:
        context.close()
