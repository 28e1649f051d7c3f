"""GraphiQL works offline: strawberry's page, with every file it loads served by Escalated
(byte for byte what the CDN serves, checked against the page's own integrity hashes)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
from django.test import Client

from escalated.graphql.graphiql import replacements
from tests.conftest import CHROMIUM
from tests.realtime.servers import graphql_post, server, world_database

GRAPHIQL_ON = {"GRAPHIQL": True}
REPLY = "mutation($input: TicketReplyInput!) { ticketReply(input: $input) { errors { code } } }"


def _page(client: Client) -> str:
    response = client.get("/support/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    return response.content.decode()


def _loaded(page: str) -> list[tuple[str, str]]:
    """(URL, integrity) of every script and stylesheet the page loads."""
    return re.findall(r'(?:src|href)="([^"]+)"\s+integrity="([^"]+)"', page)


def test_the_page_loads_every_file_from_the_app_and_each_matches_its_hash(
    client: Client, settings: Any
) -> None:
    settings.ESCALATED = GRAPHIQL_ON
    page = _page(client)

    assert "unpkg.com" not in page and "https://" not in page.split("<script>")[0]
    loaded = _loaded(page)
    assert len(loaded) == len(replacements()) == 7
    for url, integrity in loaded:
        assert url.startswith("/support/graphql/assets/"), url
        response = client.get(url)
        assert response.status_code == 200
        content = response.content
        assert "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode() == (
            integrity
        )
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        assert response["Content-Type"].startswith(kind)
        assert "immutable" in response["Cache-Control"]


def test_the_cdn_stays_a_choice(client: Client, settings: Any) -> None:
    settings.ESCALATED = {**GRAPHIQL_ON, "GRAPHIQL_ASSETS": "cdn"}
    loaded = _loaded(_page(client))

    assert loaded and all(url.startswith("https://unpkg.com/") for url, _ in loaded)


def test_only_the_vendored_files_are_served_and_only_with_graphiql_on(
    client: Client, settings: Any
) -> None:
    name = next(iter(replacements().values()))
    settings.ESCALATED = GRAPHIQL_ON
    assert client.get(f"/support/graphql/assets/{name}").status_code == 200
    assert client.get("/support/graphql/assets/assets.json").status_code == 404
    assert client.get("/support/graphql/assets/README.md").status_code == 404

    settings.ESCALATED = {"GRAPHIQL": False}
    assert client.get(f"/support/graphql/assets/{name}").status_code == 404


@contextmanager
def _offline_browser(elsewhere: list[str]) -> Iterator[Any]:
    """A chromium page that can reach loopback only; every other request is recorded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Belt and braces: no name but loopback resolves, and the route below refuses the rest.
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        page = browser.new_page()

        def only_loopback(route: Any) -> None:
            if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_loopback)
        try:
            yield page
        finally:
            browser.close()


def _run_in_graphiql(page: Any, address: str, query: str) -> None:
    page.goto(f"http://{address}/support/graphql/?q={quote(query)}")
    page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    page.click(".graphiql-execute-button")


def _wait_for_result(page: Any, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('.result-window')"
        " && document.querySelector('.result-window').innerText.includes(text)",
        arg=text,
        timeout=30_000,
    )


@pytest.mark.browser
def test_graphiql_renders_and_runs_a_query_with_no_network_but_loopback(tmp_path: Path) -> None:
    db = tmp_path / "world.sqlite3"
    world_database(db)
    elsewhere: list[str] = []
    with (
        server(db, ESCALATED_SERVER_SETTINGS='{"GRAPHIQL": true}') as live,
        _offline_browser(elsewhere) as page,
    ):
        _run_in_graphiql(page, live.address, "{ viewer { role } }")
        _wait_for_result(page, "ANONYMOUS")
        page.screenshot(path=str(tmp_path / "graphiql.png"))
        assert "Loading..." not in page.inner_text("#graphiql")

    assert elsewhere == []


@pytest.mark.browser
def test_graphiql_runs_a_subscription_over_the_websocket_offline(tmp_path: Path) -> None:
    """The page's subscriptions fetcher (graphql-ws, bundled in graphiql.min.js) connects to
    the same path with the browser session, and shows an event as it happens."""
    db = tmp_path / "world.sqlite3"
    world = world_database(db)
    elsewhere: list[str] = []
    subscription = f'subscription {{ ticketEvents(ticketId: "{world["ticket"]}") {{ kind reply {{ body }} }} }}'
    with (
        server(db, ESCALATED_SERVER_SETTINGS='{"GRAPHIQL": true}') as live,
        _offline_browser(elsewhere) as page,
    ):
        page.goto(f"http://{live.address}/admin/login/")
        page.fill("#id_username", "ada")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        _run_in_graphiql(page, live.address, subscription)
        reply = {"input": {"ticketId": world["ticket"], "body": "<p>Heard live</p>"}}

        def replied() -> bool:
            graphql_post(live.address, world["tokens"]["agent"], REPLY, reply)
            try:
                _wait_for_result(page, "Heard live")
            except Exception:
                return False  # the socket was not subscribed yet: reply again
            return True

        assert any(replied() for _ in range(3))
        page.screenshot(path=str(tmp_path / "subscription.png"))

    assert elsewhere == []
