"""A self-hosted site moving to the hub, with two real instances (the hub its own server and
worker processes, each its own database; the site's export command its own process): after the
export the hub holds the same tickets, replies, notes, statuses, priorities and tags; a re-run
changes nothing; a run killed, or cut off by the hub going down, is finished by the next, with
every event applied exactly once; a wrong or revoked key exports nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hosted.instances import Pair, site_and_hub, wait_for
from tests.outbox.peers import SmtpSink

pytestmark = pytest.mark.django_db(transaction=True)

TICKETS = 16  # and one guest ticket
EXPORT = "escalated_export_to_hub"
HUB_COUNT = "{ tickets(first: 1) { totalCount } }"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(request: Any, tmp_path: Path, smtp: SmtpSink) -> Iterator[Pair]:
    name = os.environ.get("ESCALATED_TEST_DB_NAME", "test_escalated") + "_export"
    with site_and_hub(tmp_path, smtp.port, request.param, name, site_mode="self_hosted") as both:
        both.site.run("history", str(TICKETS))
        yield both


def _export(pair: Pair, *args: str) -> subprocess.CompletedProcess[str]:
    return pair.site.command(EXPORT, *args)


def _events_to_send(pair: Pair) -> int:
    done = _export(pair, "--dry-run")
    assert done.returncode == 0, done.stderr
    found = re.search(r"would send (\d+) events of (\d+) tickets", done.stdout)
    assert found is not None, done.stdout
    assert int(found[2]) == TICKETS + 1
    return int(found[1])


def _summary(done: subprocess.CompletedProcess[str]) -> tuple[int, ...]:
    found = re.search(
        r"Tickets: (\d+) exported, (\d+) already present, (\d+) failed, of (\d+) read\. "
        r"Events: (\d+) applied, (\d+) already applied\.",
        done.stdout,
    )
    assert found is not None, (done.stdout, done.stderr)
    return tuple(int(n) for n in found.groups())


def _hub_tickets(pair: Pair) -> int:
    data = pair.hub.graphql(pair.hub_people["agent"], HUB_COUNT)
    return int(data["tickets"]["totalCount"])


def _assert_same(pair: Pair, events: int) -> None:
    site, hub = pair.site.run("digest"), pair.hub.run("digest")
    assert len(site["state"]) == TICKETS + 1
    assert site["state"] == hub["state"]
    assert site["digest"] == hub["digest"]
    assert hub["received"] == events, "an event was lost or applied twice"
    on_site = pair.site.run("requesters")["requesters"]
    assert pair.hub.run("requesters")["requesters"] == on_site
    assert len(set(on_site.values())) == 3, "two customers and a guest"


def test_the_hub_gets_every_ticket_once_and_a_rerun_changes_nothing(pair: Pair) -> None:
    events = _events_to_send(pair)

    wrong = _export(pair, "--key", "esk_000000000000_not-the-key")
    assert wrong.returncode == 2
    assert "refused the site key" in wrong.stderr
    assert _hub_tickets(pair) == 0

    done = _export(pair, "--batch-size", "5")
    assert done.returncode == 0, done.stderr
    assert _summary(done) == (TICKETS + 1, 0, 0, TICKETS + 1, events, 0)
    _assert_same(pair, events)
    site = pair.site.run("digest")["state"]
    closed = [s for s in site.values() if s["status"] == "closed"]
    assert closed and any(["note 0", True] in s["replies"] for s in site.values())

    again = _export(pair)
    assert again.returncode == 0, again.stderr
    assert _summary(again) == (0, TICKETS + 1, 0, TICKETS + 1, 0, events)
    _assert_same(pair, events)

    pair.hub.run("revoke")
    revoked = _export(pair)
    assert revoked.returncode == 2
    assert "refused the site key" in revoked.stderr
    _assert_same(pair, events)


def test_a_killed_run_and_a_hub_outage_are_finished_by_the_next_run_exactly_once(
    pair: Pair,
) -> None:
    events = _events_to_send(pair)

    first = _export(pair, "--limit", "3")
    assert first.returncode == 0, first.stderr
    assert _summary(first)[:4] == (3, 0, 0, 3)
    assert _hub_tickets(pair) == 3

    running = pair.site.start_command(EXPORT, "--batch-size", "2")
    wait_for(lambda: _hub_tickets(pair) >= 6, 300, "the export to pass the first run's tickets")
    running.send_signal(signal.SIGKILL)  # in the middle of a ticket, perhaps of an event
    running.wait()
    assert _hub_tickets(pair) < TICKETS + 1, "the run finished before it was killed"

    pair.hub.stop_server()
    down = _export(pair, "--retries", "1")
    assert down.returncode == 2
    assert "unreachable" in down.stderr and "run the command again" in down.stderr

    pair.hub.start_server()
    resumed = _export(pair)
    assert resumed.returncode == 0, resumed.stderr
    exported, present, failed, read, applied, duplicates = _summary(resumed)
    assert (failed, read) == (0, TICKETS + 1)
    assert present >= 3 and exported >= 1
    assert 0 < applied < events and applied + duplicates == events
    _assert_same(pair, events)
