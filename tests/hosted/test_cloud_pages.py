"""The support pages of a cloud-mode site run their operations on the hub (a real hub process
behind a real site process): a form post opens the ticket on the hub, the customer's and the
agent's pages show it, the site's tables stay untouched; with the hub down the pages say the
helpdesk is unreachable inside the host's layout, and the site's other pages are unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.hosted.instances import Helpdesk, Instance, helpdesk
from tests.inertia.helpers import INERTIA
from tests.realtime.servers import Socket, socket_url

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "c" * 32  # a token of the client's choosing: Django compares the cookie and the header


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helpdesk]:
    tmp: Path = tmp_path_factory.mktemp("cloud_pages")
    with helpdesk("cloud", tmp, "sqlite", "unused") as running:
        yield running


def _fetch(
    instance: Instance,
    path: str,
    *,
    session: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed: status, headers, body."""
    cookies = [f"csrftoken={CSRF}"]
    if session is not None:
        cookies.append(f"{session['cookie']}={session['value']}")
    sent = {"Cookie": "; ".join(cookies), **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent.update({"Content-Type": "application/json", "X-CSRFToken": CSRF})
    connection = http.client.HTTPConnection(instance.address, timeout=60)
    try:
        connection.request("POST" if body is not None else "GET", path, body=data, headers=sent)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _page(desk: Helpdesk, who: str, path: str) -> dict[str, Any]:
    status, _headers, body = _fetch(
        desk.front, path, session=desk.front.run("session", who), headers=INERTIA
    )
    assert status == 200, (status, body[:500])
    page: dict[str, Any] = json.loads(body)
    return page


def test_the_pages_run_on_the_hub(desk: Helpdesk) -> None:
    tables_before = desk.front.run("tables")
    customer = desk.front.run("session", "cora")

    status, _headers, body = _fetch(
        desk.front,
        "/support/tickets/",
        session=customer,
        body={"subject": "Opened from the page", "description": "Hello.", "priority": "low"},
        headers=INERTIA,
    )

    assert status == 303, body[:500]
    mine = _page(desk, "cora", "/support/")
    assert mine["component"] == "Escalated/Customer/Index"
    assert [row["subject"] for row in mine["props"]["tickets"]["data"]] == ["Opened from the page"]
    queue = _page(desk, "alan", "/support/agent/tickets/")
    assert queue["component"] == "Escalated/Agent/TicketIndex"
    assert "Opened from the page" in json.dumps(queue["props"])
    assert _page(desk, "otto", "/support/")["props"]["tickets"]["data"] == []
    assert desk.hub is not None
    [kept] = desk.hub.run("digest")["state"].values()
    assert kept["subject"] == "Opened from the page"
    assert desk.front.run("tables") == tables_before, "the cloud-mode site wrote its tables"


def test_with_the_hub_down_the_pages_say_so_inside_the_layout(desk: Helpdesk) -> None:
    assert desk.hub is not None
    customer = desk.front.run("session", "cora")
    desk.hub.stop_server()
    try:
        status, _headers, body = _fetch(desk.front, "/support/", session=customer)
        assert status == 503
        page = body.decode()
        assert "The helpdesk is unreachable" in page
        assert '<meta name="csrf-token"' in page, "not inside the host's layout"
        assert "Traceback" not in page

        status, _, body = _fetch(
            desk.front, "/support/graphql/", session=customer, body={"query": "{ viewer { role } }"}
        )
        assert status == 503
        assert json.loads(body)["errors"][0]["extensions"]["code"] == "HUB_UNAVAILABLE"

        status, _, _ = _fetch(desk.front, "/admin/login/")
        assert status == 200, "the site's own pages depend on the hub"
    finally:
        desk.hub.start_server()
    assert _page(desk, "cora", "/support/")["component"] == "Escalated/Customer/Index"


EVENTS = """subscription($id: ID!) { ticketEvents(ticketId: $id) { kind reply { body } } }"""
CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
  ticket { id } errors { code } } }"""
PRIORITY = """mutation($input: TicketPriorityChangeInput!) { ticketPriorityChange(input: $input) {
  errors { code } } }"""
REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) { errors { code } } }"""
NOTE = (
    """mutation($input: TicketNoteAddInput!) { ticketNoteAdd(input: $input) { errors { code } } }"""
)


async def _socket(desk: Helpdesk, who: str) -> tuple[Any, Socket]:
    connection = await connect(
        socket_url(desk.front.address), subprotocols=[Subprotocol("graphql-transport-ws")]
    )
    client = Socket(connection)
    ack = await client.init({"authorization": f"Bearer {desk.people[who]}"})
    assert ack == {"type": "connection_ack"}, ack
    return connection, client


async def _post(desk: Helpdesk, who: str, query: str, variables: dict[str, Any]) -> Any:
    return await asyncio.to_thread(desk.front.graphql, desk.people[who], query, variables)


@pytest.mark.asyncio
async def test_a_subscription_through_the_site_hears_what_happens_on_the_hub(
    desk: Helpdesk,
) -> None:
    made = await _post(desk, "customer", CREATE, {"input": {"subject": "Live one"}})
    ticket = made["ticketCreate"]["ticket"]["id"]
    sockets = [await _socket(desk, who) for who in ("customer", "agent")]
    (_, customer), (_, agent) = sockets
    for _, client in sockets:
        await client.subscribe("1", EVENTS, {"id": ticket})

    # A subscription joins its group a moment after subscribing: nudge until both hear.
    pending = {0, 1}
    for attempt in range(60):
        priority = ("LOW", "HIGH")[attempt % 2]
        await _post(desk, "agent", PRIORITY, {"input": {"ticketId": ticket, "priority": priority}})
        for index in list(pending):
            with contextlib.suppress(TimeoutError):
                await sockets[index][1].receive(timeout=0.5)
                pending.discard(index)
        if not pending:
            break
    assert not pending, "a relayed subscriber never heard anything"
    for _, client in sockets:
        with contextlib.suppress(TimeoutError):
            while True:
                await client.receive(timeout=1)

    await _post(desk, "agent", REPLY, {"input": {"ticketId": ticket, "body": "On it"}})
    await _post(desk, "agent", NOTE, {"input": {"ticketId": ticket, "body": "Internal only"}})

    heard = (await customer.receive(timeout=30))["payload"]["data"]["ticketEvents"]
    assert heard == {"kind": "REPLY_ADDED", "reply": {"body": "On it"}}
    assert (await agent.receive(timeout=30))["payload"]["data"]["ticketEvents"]["kind"] == (
        "REPLY_ADDED"
    )
    noted = (await agent.receive(timeout=30))["payload"]["data"]["ticketEvents"]
    assert noted == {"kind": "NOTE_ADDED", "reply": {"body": "Internal only"}}
    with pytest.raises(TimeoutError):
        await customer.receive(timeout=2)
    for connection, _ in sockets:
        await connection.close()


@pytest.mark.asyncio
async def test_a_relayed_socket_is_refused_without_good_credentials_or_a_hub(
    desk: Helpdesk,
) -> None:
    url = socket_url(desk.front.address)
    protocol = [Subprotocol("graphql-transport-ws")]
    async with connect(url, subprotocols=protocol) as connection:
        await Socket(connection).connection.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer esc_x"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    assert desk.hub is not None
    desk.hub.stop_server()
    try:
        async with connect(url, subprotocols=protocol) as connection:
            init = {"authorization": f"Bearer {desk.people['agent']}"}
            await connection.send(json.dumps({"type": "connection_init", "payload": init}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(connection.recv(), 60)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4503, "HUB_UNAVAILABLE")
    finally:
        desk.hub.start_server()


FILED = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
  ticket { attachments { filename url } } errors { code } } }"""


def test_a_file_uploaded_through_the_site_is_kept_by_the_hub_and_downloads_through_the_site(
    desk: Helpdesk,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from escalated.cloud.forward import _multipart

    tables_before = desk.front.run("tables")
    upload = SimpleUploadedFile("note.txt", b"hello from the site", content_type="text/plain")
    variables = {"input": {"subject": "With a file", "attachments": [None]}}
    body, kind = _multipart(
        {"query": FILED, "variables": variables}, {"variables.input.attachments.0": upload}
    )
    token = desk.people["customer"]
    connection = http.client.HTTPConnection(desk.front.address, timeout=60)
    connection.request(
        "POST",
        "/support/graphql/",
        body=body,
        headers={"Content-Type": kind, "Authorization": f"Bearer {token}"},
    )
    made = json.loads(connection.getresponse().read())
    connection.close()
    assert made["data"]["ticketCreate"]["errors"] == [], made
    [attachment] = made["data"]["ticketCreate"]["ticket"]["attachments"]
    assert attachment["filename"] == "note.txt"

    def download(who: str) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {desk.people[who]}"}
        return _fetch(desk.front, attachment["url"], headers=headers)

    status, headers, content = download("customer")
    assert status == 200 and content == b"hello from the site"
    assert headers["Content-Disposition"].startswith("attachment")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert download("agent")[0] == 200
    assert download("other")[0] == 404, "another customer downloaded the file"
    assert desk.front.run("tables") == tables_before, "the cloud-mode site wrote its tables"
