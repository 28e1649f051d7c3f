"""Live pages benchmark: the time from a reply's POST to its text being visible on the other
person's open page, in chromium, through window.Echo over our GraphQL subscriptions.

    .venv/bin/python -m bench.live_pages --replies 50

The demo project (built frontend, seed) runs under uvicorn on a SQLite file, as in the browser
tests. Two browser contexts: the agent on the ticket's agent page (Agent/TicketShow, which listens
itself) and the customer on their page (Customer/Show, followed by the adapter). Each reply is
POSTed from one page (the GraphQL mutation, with that person's session) and timed until a
MutationObserver on the other page sees its text: both stamps are Date.now() of one browser on
one machine. Replies go one at a time, alternately in each direction, each direction on its own
ticket (a ticket page lists its first 100 replies only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser_live.live import POST_FROM_PAGE, REPLY, gid
from tests.realtime.servers import ROOT, python_json, server

SETTINGS = "tests.browser_live.server_settings"

# Sets window.__seen to Date.now() at the moment `text` is first in the page's visible text.
WATCH = """(text) => {
    window.__seen = null;
    const check = () => document.body.innerText.includes(text);
    const observer = new MutationObserver(() => {
        if (check()) { observer.disconnect(); window.__seen = Date.now(); }
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def record(warnings: list[str], who: str, message: ConsoleMessage) -> None:
    if message.type in ("warning", "error"):
        warnings.append(f"{who}: {message.text}")


def one_reply(sender: Page, receiver: Page, ticket_id: int, text: str) -> float | None:
    """Milliseconds from the POST to the text showing; None if it did not show in 30 s."""
    receiver.evaluate(WATCH, text)
    sent = sender.evaluate(
        POST_FROM_PAGE, [REPLY, {"i": {"ticketId": gid("Ticket", ticket_id), "body": text}}]
    )["sent"]
    try:
        receiver.wait_for_function("() => window.__seen !== null", timeout=30_000)
    except PlaywrightTimeout:
        return None
    return float(receiver.evaluate("() => window.__seen")) - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=50, help="replies in each direction")
    args = parser.parse_args()
    chromium = os.environ.get("ESCALATED_CHROMIUM") or shutil.which("chromium")
    assert chromium, "chromium is not installed (apt-get install chromium)"
    folder = Path(tempfile.mkdtemp(prefix="escalated-live-pages-"))
    db = folder / "db.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "ESCALATED_SERVER_DB": str(db)}
    env["PYTHONPATH"] = str(ROOT)
    world: dict[str, Any] = python_json(["-m", "tests.browser_live.seed"], env, timeout=300)
    # One ticket per direction: a ticket page lists its first 100 replies only.
    open_tickets = [t for t in world["tickets"] if t["status"] not in ("closed", "resolved")]
    to_agent, to_customer = open_tickets[0], open_tickets[1]
    results: dict[str, list[float | None]] = {"customer → agent": [], "agent → customer": []}
    warnings: list[str] = []
    with server(db, settings=SETTINGS) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        base = f"http://{served.address}"
        pages = {}
        for name, path in (
            ("agent", f"/support/agent/tickets/{to_agent['reference']}/"),
            ("customer", f"/support/tickets/{to_customer['reference']}/"),
        ):
            context = browser.new_context()
            context.route("https://escalated.dev/**", lambda route: route.fulfill(status=204))
            context.add_cookies(
                [{"name": world["cookie"], "value": world["sessions"][name], "url": base}]
            )
            page = context.new_page()
            page.on("console", lambda m, who=name: record(warnings, who, m))
            page.goto(base + path)
            page.wait_for_function("() => !!window.Echo && !!window.Echo.socketId()")
            pages[name] = page
        agent, customer = pages["agent"], pages["customer"]
        # One round trip each way first, so the subscriptions are surely registered.
        one_reply(customer, agent, to_agent["id"], "warm-up one")
        one_reply(agent, customer, to_customer["id"], "warm-up two")
        for n in range(args.replies):
            results["customer → agent"].append(
                one_reply(customer, agent, to_agent["id"], f"c2a reply {n}.")
            )
            results["agent → customer"].append(
                one_reply(agent, customer, to_customer["id"], f"a2c reply {n}.")
            )
        browser.close()
    shutil.rmtree(folder, ignore_errors=True)
    summary: dict[str, Any] = {}
    for direction, measured in results.items():
        times = [t for t in measured if t is not None]
        summary[direction] = {
            "replies": len(measured),
            "not_shown_in_30s": len(measured) - len(times),
            "p50_ms": round(statistics.median(times)) if times else None,
            "p95_ms": round(percentile(times, 0.95)) if times else None,
            "max_ms": round(max(times)) if times else None,
        }
    summary["page_warnings"] = warnings
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
