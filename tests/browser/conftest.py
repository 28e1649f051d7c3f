"""The browser tests: Playwright driving Debian's chromium against the demo project, served by
uvicorn on its own SQLite database with the seeded customer, agent and admin.

Every test runs twice, once per mode of the ``site`` fixture: ``self_hosted`` (the demo keeps
its tickets) and ``cloud`` (the demo is a cloud-mode site in front of a real hub process, which
keeps the same seeded organisation and tickets for the site's people: tests/browser/cloud_hub.py).
The assertions are the same; what a mode cannot offer is said where the test says it.

They need the built demo frontend (`make demo-frontend`) and chromium, so `make test` skips them;
they run with ESCALATED_TEST_BROWSER=1 (`make test-browser`, CI), and then a missing chromium or
build fails them. Screenshots go to artifacts/screenshots/ (ESCALATED_SCREENSHOTS to move it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.hosted.instances import LOOPBACK, Instance
from tests.realtime.servers import ROOT, python_json, server

SETTINGS = "tests.browser.server_settings"
MANIFEST = ROOT / "demo/frontend/dist/.vite/manifest.json"
SCREENSHOTS = Path(os.environ.get("ESCALATED_SCREENSHOTS", ROOT / "artifacts/screenshots"))
PASSWORDS = {"customer": "customer", "agent": "agent", "admin": "admin"}  # demo/seed_demo.py
# The package's "Powered by" badge hot-links its logo from its website, which this machine
# cannot reach; the test serves a local stand-in so the page's console stays clean.
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"></svg>'


@dataclass
class Site:
    """The running demo: its address, its route table and what the seed made."""

    base: str
    routes: dict[str, Any]
    world: dict[str, Any]
    mode: str = "self_hosted"

    def url(self, path: str) -> str:
        return self.base + path

    def path(self, name: str, *params: object) -> str:
        """The path of a named route, as the pages' route() builds it."""
        uri = self.routes[name]["uri"]
        for parameter, value in zip(self.routes[name]["parameters"], params, strict=True):
            uri = uri.replace("{" + parameter + "}", str(value))
        return "/" + uri


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("ESCALATED_CHROMIUM") or shutil.which("chromium")
    assert path, "chromium is not installed: apt-get install chromium (see .ci/run)"
    return path


@pytest.fixture(scope="session")
def built_frontend() -> Path:
    assert MANIFEST.exists(), f"the demo frontend is not built ({MANIFEST}): make demo-frontend"
    return MANIFEST


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


MODES = ["self_hosted", "cloud"]
# What the cloud run leaves to the self-hosted one, and why.
HUB_ADMINISTRATION = (
    "in cloud mode a site's admin works the site's tickets as its agents do; the hub's "
    "administration (departments, rules, settings shared by every site) is the hub admins' "
    "alone (escalated.services.cloud_viewers): test_admin checks the refusal instead"
)


def self_hosted_only(site: Site, why: str) -> None:
    """Skip the calling test in the modes that cannot offer what it walks through."""
    if site.mode != "self_hosted":
        pytest.skip(why)


@pytest.fixture(scope="session", params=MODES)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, built_frontend: Path
) -> Iterator[Site]:
    mode: str = request.param
    folder = tmp_path_factory.mktemp(f"browser-{mode}")
    db = folder / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "ESCALATED_SERVER_DB": str(db),
        "PYTHONPATH": str(ROOT),
    }
    hub: Instance | None = None
    try:
        if mode == "cloud":
            hub, env["ESCALATED_SERVER_SETTINGS"], world = _cloud_hub(folder, env)
        else:
            _manage(env, "migrate", "--noinput", "-v0")
            _manage(env, "seed_demo")
            world = json.loads(_manage(env, "shell", "-c", WORLD_QUERY).splitlines()[-1])
        with server(db, settings=SETTINGS, **_extra(env)) as served:
            base = f"http://{served.address}"
            with urllib.request.urlopen(f"{base}/support/routes.json", timeout=60) as response:
                routes = json.loads(response.read())["routes"]
            yield Site(base=base, routes=routes, world=world, mode=mode)
    finally:
        if hub is not None:
            hub.stop()


def _extra(env: dict[str, str]) -> dict[str, str]:
    return {"ESCALATED_SERVER_SETTINGS": env.get("ESCALATED_SERVER_SETTINGS", "{}")}


def _cloud_hub(folder: Path, env: dict[str, str]) -> tuple[Instance, str, dict[str, Any]]:
    """The demo's people on the site (which keeps nothing else), a running hub with the seed's
    organisation and tickets for them; the site's cloud settings and the WORLD (the hub's)."""
    hub = Instance("hub", str(folder / "hub.sqlite3"), "sqlite", 25, folder)
    hub.settings = {"HUB": {"ENABLED": True}, "GUEST_TICKETS_ENABLED": True, **LOOPBACK}
    # The two databases migrate side by side (the longest part of the setup).
    migrating = hub.start_command("migrate", "--noinput", "-v0")
    # Made before the site has its hub's key (its system checks ask for one in cloud mode).
    _manage(env, "migrate", "--noinput", "-v0")
    people = json.loads(_manage(env, "shell", "-c", SITE_PEOPLE).splitlines()[-1])
    assert migrating.wait(timeout=300) == 0, "the hub's migrate failed: see hub-migrate.log"
    made = python_json(["-m", "tests.browser.cloud_hub", json.dumps(people)], hub.env(), 300)
    hub.start_server()
    settings = {
        "MODE": "cloud",
        "HOSTED_API_URL": hub.url("/support/hub/api/v1"),
        "HOSTED_API_KEY": made["key"],
        "HOSTED_SIGNING_SECRET": made["secret"],
        "HOSTED_TIMEOUT_SECONDS": 30,
    }
    return hub, json.dumps(settings), made["world"]


# The demo's people on a cloud-mode site (the seed's own function makes them), as the hub's
# cloud_hub script needs them: the site's user id, name, email and role.
SITE_PEOPLE = """
import json
from demo.management.commands.seed_demo import PEOPLE, _person
from escalated.access import role_of
from escalated.events import display_name
people = {row[0]: _person(*row) for row in PEOPLE}
print(json.dumps({
    name: {"id": u.pk, "name": display_name(u), "email": u.email, "role": role_of(u).value}
    for name, u in people.items()
}))
"""


# Ids the tests need from the seeded data, printed as JSON by `manage.py shell -c`.
WORLD_QUERY = """
import json
from escalated.models import Department, Tag, Ticket
print(json.dumps({
    "tickets": {t.subject: t.reference for t in Ticket.objects.all()},
    "departments": {d.name: d.pk for d in Department.objects.all()},
    "tags": {t.name: t.pk for t in Tag.objects.all()},
}))
"""


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path)
        yield launched
        launched.close()


@dataclass
class Console:
    """Everything the page reported as an error: console.error lines and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def listen(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")


@dataclass
class Session:
    page: Page
    console: Console
    site: Site

    def goto(self, path: str) -> None:
        response = self.page.goto(self.site.url(path))
        assert response is not None and response.status == 200, (path, response and response.status)
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        # The window as a person sees it: the agent and admin layouts pin their bars with
        # `position: fixed`, which a stitched full-page capture draws in the wrong place.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if self.site.mode != "self_hosted":
            name = f"{self.site.mode}-{name}"
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(
        "https://escalated.dev/**",
        lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=LOGO),
    )
    return context


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, site: Site) -> Callable[[str], dict[str, Any]]:
    """Sign each role in once through the demo's sign-in page; the cookies are reused."""
    states: dict[str, dict[str, Any]] = {}

    def state(role: str) -> dict[str, Any]:
        if role not in states:
            context = _context(browser)
            page = context.new_page()
            page.goto(site.url("/login/"))
            page.fill("#id_username", role)
            page.fill("#id_password", PASSWORDS[role])
            page.click("button[type=submit]")
            page.wait_for_url(site.url("/support/"))
            states[role] = context.storage_state()
            context.close()
        return states[role]

    return state


@pytest.fixture
def visit(
    browser: Browser, site: Site, signed_in_state: Callable[[str], dict[str, Any]]
) -> Iterator[Callable[[str | None], Session]]:
    """A fresh browser context signed in as a role (None: signed out), its console watched."""
    contexts: list[BrowserContext] = []

    def open_as(role: str | None) -> Session:
        context = _context(browser)
        if role is not None:
            context.add_cookies(signed_in_state(role)["cookies"])
        contexts.append(context)
        page = context.new_page()
        console = Console()
        console.listen(page)
        return Session(page=page, console=console, site=site)

    yield open_as
    for context in contexts:
        context.close()
