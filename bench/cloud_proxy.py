"""Cloud mode's overhead: the agent queue page and a reply through a cloud-mode site, against the
same on the hub directly.

A real hub and a real cloud-mode site (tests/hosted/instances.py: each a uvicorn process on its
own SQLite database) with ``--tickets`` tickets opened through the site. Then, alternating site
and hub so both see the same machine load:

* the agent queue page (``GET /support/agent/tickets/`` as an Inertia visit): on the site as
  its agent (a site's agent on the hub: every ticket of the site), on the hub as the hub's agent
  of the site's department (the same tickets);
* a reply (``ticketReply`` over GraphQL with a bearer token) to one of those tickets.

    .venv/bin/python -m bench.cloud_proxy --tickets 50 --samples 100
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.hosted.instances import Instance, helpdesk

INERTIA = {"X-Inertia": "true", "X-Inertia-Version": "1.0"}
CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
  ticket { id } errors { code } } }"""
REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
  reply { id } errors { code } } }"""


def _timed_get(instance: Instance, path: str, session: dict[str, Any]) -> float:
    connection = http.client.HTTPConnection(instance.address, timeout=60)
    headers = {**INERTIA, "Cookie": f"{session['cookie']}={session['value']}"}
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    took = time.perf_counter() - started
    connection.close()
    assert response.status == 200, response.status
    return took


def _timed_post(instance: Instance, token: str, query: str, variables: dict[str, Any]) -> float:
    started = time.perf_counter()
    data = instance.graphql(token, query, variables)
    took = time.perf_counter() - started
    assert not next(iter(data.values()))["errors"], data
    return took


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, helpdesk("cloud", Path(tmp), "sqlite", "") as desk:
        assert desk.hub is not None
        site, hub = desk.front, desk.hub
        ids = []
        for n in range(args.tickets):
            made = site.graphql(desk.people["customer"], CREATE, {"input": {"subject": f"T{n}"}})
            ids.append(made["ticketCreate"]["ticket"]["id"])
        site_session = site.run("session", "alan")
        hub_session = hub.run("session", "hana")
        hub_agent = desk.hub_people["agent"]
        samples: dict[str, list[float]] = {
            k: [] for k in ("page_site", "page_hub", "reply_site", "reply_hub")
        }
        for _ in range(5):  # warm both servers
            _timed_get(site, "/support/agent/tickets/", site_session)
            _timed_get(hub, "/support/agent/tickets/", hub_session)
        for n in range(args.samples):
            samples["page_site"].append(_timed_get(site, "/support/agent/tickets/", site_session))
            samples["page_hub"].append(_timed_get(hub, "/support/agent/tickets/", hub_session))
            ticket = ids[n % len(ids)]
            body = {"input": {"ticketId": ticket, "body": f"reply {n}"}}
            samples["reply_site"].append(_timed_post(site, desk.people["agent"], REPLY, body))
            samples["reply_hub"].append(_timed_post(hub, hub_agent, REPLY, body))
        print(json.dumps({name: _summary(values) for name, values in samples.items()}, indent=2))


if __name__ == "__main__":
    main()
