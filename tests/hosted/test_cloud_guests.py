"""The guest pages of a cloud-mode site run on the hub (a real hub process behind a real site
process): a visitor opens a ticket on the site's guest page, follows its link and answers on
it; the ticket is the site's on the hub (the site's agents see it), the site's tables stay
untouched. A bad link, and the link of a ticket that is not the site's, open nothing: a 404
page, not "the helpdesk is unreachable"."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hosted.instances import Helpdesk, helpdesk
from tests.hosted.test_cloud_pages import _fetch, _page
from tests.inertia.helpers import INERTIA

pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r"^/support/guest/([\w-]{32,})/$")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helpdesk]:
    tmp: Path = tmp_path_factory.mktemp("cloud_guests")
    with helpdesk("cloud", tmp, "sqlite", "unused", both={"GUEST_TICKETS_ENABLED": True}) as desk:
        yield desk


def _guest_page(desk: Helpdesk, path: str) -> tuple[int, Any]:
    status, _headers, body = _fetch(desk.front, path, headers=INERTIA)
    return status, json.loads(body) if status == 200 else body


def test_a_visitor_opens_follows_and_answers_a_ticket_through_the_site(desk: Helpdesk) -> None:
    tables_before = desk.front.run("tables")

    status, headers, body = _fetch(
        desk.front,
        "/support/guest/",
        body={
            "guest_name": "Gina Guest",
            "guest_email": "gina@example.com",
            "subject": "Where is my order?",
            "description": "I ordered last week.",
        },
        headers=INERTIA,
    )
    assert status == 303, body[:500]
    link = headers["Location"]
    assert LINK.match(link), link

    status, page = _guest_page(desk, link)
    assert status == 200, page
    assert page["component"] == "Escalated/Guest/Show"
    assert page["props"]["ticket"]["subject"] == "Where is my order?"

    status, headers, body = _fetch(
        desk.front, f"{link}reply/", body={"body": "The order number is 5512."}, headers=INERTIA
    )
    assert status == 303 and headers["Location"] == link, body[:500]
    _status, page = _guest_page(desk, link)
    assert "The order number is 5512." in json.dumps(page["props"]["ticket"])

    # The ticket is the site's on the hub: the site's agent works it, its customers do not.
    assert "Where is my order?" in json.dumps(_page(desk, "alan", "/support/agent/tickets/"))
    assert _page(desk, "otto", "/support/")["props"]["tickets"]["data"] == []
    assert desk.front.run("tables") == tables_before, "the cloud-mode site wrote its tables"


def test_a_bad_link_opens_nothing_and_says_so(desk: Helpdesk) -> None:
    status, _page_body = _guest_page(desk, "/support/guest/esg_" + "x" * 40 + "/")
    assert status == 404

    status, _headers, body = _fetch(
        desk.front,
        "/support/graphql/",
        body={"query": "{ viewer { role } }"},
        headers={"X-Escalated-Guest-Token": "esg_" + "x" * 40},
    )
    assert status == 401, body[:500]
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_link_of_a_ticket_that_is_not_the_sites_opens_nothing_through_it(
    desk: Helpdesk,
) -> None:
    assert desk.hub is not None
    # A visitor of the hub's own guest page: the ticket is the hub's, no site's.
    mutation = """mutation {
      guestTicketCreate(input: {name: "Hugo", email: "hugo@example.com",
                                subject: "Opened on the hub", description: "Hi."}) {
        guestToken errors { message }
      }
    }"""
    request = urllib.request.Request(
        desk.hub.url("/support/graphql/"),
        data=json.dumps({"query": mutation}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        made = json.loads(response.read())["data"]["guestTicketCreate"]
    assert made["errors"] == []
    token = made["guestToken"]

    status, _body = _guest_page(desk, f"/support/guest/{token}/")
    assert status == 404
    status, _headers, body = _fetch(
        desk.front,
        "/support/graphql/",
        body={"query": "{ viewer { role } }"},
        headers={"X-Escalated-Guest-Token": token},
    )
    assert status == 401, body[:500]
    assert "Opened on the hub" not in body.decode()
