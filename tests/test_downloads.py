"""Downloads: the same rules as the ticket, a note's file for staff only, signed links that
expire, and headers that keep a file from running on the site."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalated.models import Attachment
from escalated.services import guests, tickets
from escalated.services.attachments import attachment_link, attachment_path
from tests import files
from tests.conftest import World, data_of, gid, guest_header, make_user, open_guest_ticket


@pytest.fixture
def shared(world: World, file_store: Any) -> Attachment:
    """A file on the agent's public reply to the customer's ticket."""
    reply = tickets.ticket_reply(
        ticket=world.ticket,
        author=world.agent,
        body="Here is the label",
        attachments=[files.upload("label.pdf", files.pdf())],
    )
    return reply.attachments.get()


@pytest.fixture
def secret(world: World, file_store: Any) -> Attachment:
    """A file on an internal note of the customer's ticket."""
    note = tickets.ticket_note_add(
        ticket=world.ticket,
        author=world.agent,
        body="Fraud check",
        attachments=[files.upload("id-scan.png", files.png())],
    )
    return note.attachments.get()


def _get(url: str, user: Any = None, headers: dict[str, str] | None = None) -> Any:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(url, headers=headers or {})


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("customer", 200),
        ("agent", 200),
        ("admin", 200),
        ("other_customer", 404),
        ("outsider", 404),
        ("anonymous", 404),
    ],
)
def test_a_public_file_follows_the_ticket(
    world: World, shared: Attachment, persona: str, status: int
) -> None:
    response = _get(attachment_path(shared), world.person(persona))

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == files.pdf()
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="label.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("customer", 404), ("agent", 200), ("admin", 200), ("outsider", 404)],
)
def test_a_file_on_an_internal_note_is_for_staff_only(
    world: World, secret: Attachment, persona: str, status: int
) -> None:
    assert _get(attachment_path(secret), world.person(persona)).status_code == status


def test_a_bearer_token_client_downloads_with_its_token(world: World, shared: Attachment) -> None:
    from escalated.services import tokens

    _row, raw = tokens.api_token_create(actor=world.customer, name="cli")

    ok = _get(attachment_path(shared), headers={"Authorization": f"Bearer {raw}"})
    bad = _get(attachment_path(shared), headers={"Authorization": "Bearer esc_nonsense-token"})

    assert ok.status_code == 200
    assert bad.status_code == 401


def test_a_guest_downloads_from_their_own_ticket_only(
    world: World, guests_on: None, file_store: Any
) -> None:
    ticket, token = open_guest_ticket(attachments=[files.upload("order.png", files.png())])
    own = ticket.attachments.get()
    agent_reply = tickets.ticket_reply(
        ticket=ticket,
        author=world.admin,
        body="Thanks",
        attachments=[files.upload("answer.pdf", files.pdf())],
    )
    note = tickets.ticket_note_add(
        ticket=ticket,
        author=world.admin,
        body="Looks fishy",
        attachments=[files.upload("trace.txt", files.TEXT)],
    )
    shared = tickets.ticket_reply(
        ticket=world.ticket,
        author=world.agent,
        body="Not the guest's",
        attachments=[files.upload("other.pdf", files.pdf())],
    )
    header = guest_header(token)

    assert _get(attachment_path(own), headers=header).status_code == 200
    assert _get(attachment_path(agent_reply.attachments.get()), headers=header).status_code == 200
    assert _get(attachment_path(note.attachments.get()), headers=header).status_code == 404
    assert _get(attachment_path(shared.attachments.get()), headers=header).status_code == 404
    assert _get(attachment_path(own), headers=guest_header(token + "x")).status_code == 401


# --- signed links -----------------------------------------------------------------------------


def test_a_signed_link_works_without_credentials_until_it_expires(
    shared: Attachment, monkeypatch: Any
) -> None:
    link = attachment_link(shared)

    assert _get(link).status_code == 200

    later = timezone.now() + timedelta(minutes=61)  # ATTACHMENT_LINK_EXPIRY_MINUTES is 60
    monkeypatch.setattr(timezone, "now", lambda: later)
    expired = _get(link)
    assert expired.status_code == 410
    assert b"expired" in expired.content


def test_a_link_for_email_can_outlive_the_default(shared: Attachment, monkeypatch: Any) -> None:
    link = attachment_link(shared, expires_in=timedelta(days=7))
    later = timezone.now() + timedelta(days=6)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert _get(link).status_code == 200


def test_a_tampered_or_misused_link_is_refused(
    world: World, shared: Attachment, secret: Attachment
) -> None:
    link = attachment_link(shared)
    signature = parse_qs(urlsplit(link).query)["sig"][0]

    assert _get(link[:-3] + "abc").status_code == 404
    # A genuine signature names one file: it opens no other.
    assert _get(f"{attachment_path(secret)}?sig={signature}").status_code == 404


def test_the_graphql_download_url_is_a_signed_link(
    world: World, gql: Any, shared: Attachment
) -> None:
    query = """query($id: ID!) { ticket(id: $id) { attachments { filename url downloadUrl } } }"""

    found = data_of(gql(query, {"id": gid(world.ticket)}, user=world.customer))
    (entry,) = found["ticket"]["attachments"]

    assert entry["url"] == attachment_path(shared)
    assert _get(entry["downloadUrl"]).status_code == 200


def test_a_guests_signed_links_die_with_their_token(
    world: World, guests_on: None, file_store: Any, gql: Any
) -> None:
    ticket, token = open_guest_ticket(attachments=[files.upload("order.png", files.png())])
    query = "{ tickets(first: 1) { edges { node { attachments { downloadUrl } } } } }"
    result = data_of(gql(query, headers=guest_header(token)))
    link = result["tickets"]["edges"][0]["node"]["attachments"][0]["downloadUrl"]
    assert _get(link).status_code == 200

    guests.guest_token_rotate(ticket=ticket, actor=world.admin)

    assert _get(link).status_code == 404


def test_customers_never_see_note_files_in_graphql(
    world: World, gql: Any, shared: Attachment, secret: Attachment
) -> None:
    query = """query($id: ID!) { ticket(id: $id) {
        attachments { filename }
        replies(first: 10) { edges { node { attachments { filename } } } } } }"""
    note_file = "query($id: ID!) { node(id: $id) { id } }"

    customer = data_of(gql(query, {"id": gid(world.ticket)}, user=world.customer))["ticket"]
    agent = data_of(gql(query, {"id": gid(world.ticket)}, user=world.agent))["ticket"]

    assert customer["attachments"] == [{"filename": "label.pdf"}]
    assert {a["filename"] for a in agent["attachments"]} == {"label.pdf", "id-scan.png"}
    assert data_of(gql(note_file, {"id": gid(secret)}, user=world.customer))["node"] is None
    assert data_of(gql(note_file, {"id": gid(secret)}, user=world.agent))["node"] is not None


# --- query counts -----------------------------------------------------------------------------

THREAD = """query($id: ID!) { ticket(id: $id) {
    attachments { id filename downloadUrl }
    replies(first: 100) { edges { node { id authorLabel attachments { id filename url } } } }
} }"""


@pytest.mark.parametrize("size", [3, 30])
def test_a_thread_with_files_costs_constant_statements(
    world: World, gql: Any, file_store: Any, size: int
) -> None:
    for n in range(size):
        tickets.ticket_reply(
            ticket=world.ticket,
            author=world.customer if n % 2 else world.agent,
            body=f"Message {n}",
            attachments=[
                files.upload(f"f{n}.txt", files.TEXT),
                files.upload(f"g{n}.png", files.png()),
            ],
        )
    gql.client.force_login(world.customer)

    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(
            gql.url,
            {"query": THREAD, "variables": {"id": gid(world.ticket)}},
            content_type="application/json",
        )

    data = data_of(response.json())["ticket"]
    assert len(data["attachments"]) == 2 * size
    assert len(data["replies"]["edges"]) == size + 1
    # The session and the user (2); the customer's role: departments, then both role
    # permissions at once (2); the ticket, its attachments, the replies page and the replies'
    # attachments (4). The same at any size.
    assert len(queries) == 8, "\n".join(q["sql"][:150] for q in queries)


def test_the_uploader_is_kept(world: World, shared: Attachment) -> None:
    assert shared.uploaded_by_id == world.agent.pk
    assert make_user("nobody").pk != shared.uploaded_by_id
