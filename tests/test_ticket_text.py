"""One rule for people's text: a ticket's description is cleaned like a reply's body, and shown
like one, in emails and pages."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core import mail

from escalated.models import Ticket
from escalated.services import tickets as service
from tests.conftest import GraphQL, World, data_of, gid

UNSAFE = '<p>It <b>broke</b></p><script>alert(1)</script><img src="x.png" onerror="alert(2)">'
CLEAN = '<p>It <b>broke</b></p><img src="x.png">'

CREATE = """
mutation($input: TicketCreateInput!) {
  ticketCreate(input: $input) { ticket { id description } errors { code field } }
}
"""
REPLY = """
mutation($input: TicketReplyInput!) {
  ticketReply(input: $input) { reply { body } errors { code field } }
}
"""
UPDATE = """
mutation($input: TicketUpdateInput!) {
  ticketUpdate(input: $input) { ticket { description } errors { code field } }
}
"""


def test_a_description_is_cleaned_exactly_like_a_reply_body(
    world: World, gql: GraphQL, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = data_of(
            gql(
                CREATE,
                {
                    "input": {
                        "subject": "Broken",
                        "description": UNSAFE,
                        "departmentId": gid(world.billing),
                    }
                },
                user=world.customer,
            )
        )["ticketCreate"]
    replied = data_of(
        gql(
            REPLY,
            {"input": {"ticketId": created["ticket"]["id"], "body": UNSAFE}},
            user=world.agent,
        )
    )["ticketReply"]

    assert created["errors"] == [] and replied["errors"] == []
    assert created["ticket"]["description"] == replied["reply"]["body"] == CLEAN


def test_an_edited_description_is_cleaned_too(world: World, gql: GraphQL) -> None:
    result = data_of(
        gql(UPDATE, {"input": {"id": gid(world.ticket), "description": UNSAFE}}, user=world.agent)
    )["ticketUpdate"]

    assert result["errors"] == []
    assert result["ticket"]["description"] == CLEAN
    world.ticket.refresh_from_db()
    assert world.ticket.description == CLEAN


def test_the_new_ticket_email_shows_the_description_as_a_reply_email_shows_a_body(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        service.ticket_create(
            actor=world.customer, subject="Broken", description=UNSAFE, department=world.billing
        )
    messages = [m for m in mail.outbox if "opened" in m.body]
    assert messages  # one per agent of the department
    message = messages[0]
    html = message.alternatives[0][0]

    assert CLEAN in html  # rendered as the cleaned HTML, not escaped into visible tags
    assert "&lt;p&gt;" not in html and "<script" not in html and "onerror" not in html
    assert "It broke" in message.body and "<b>" not in message.body


def test_the_migration_cleans_descriptions_stored_before(world: World) -> None:
    Ticket.objects.filter(pk=world.ticket.pk).update(description=UNSAFE)
    migration = importlib.import_module("escalated.migrations.0008_clean_descriptions")

    migration.clean_descriptions(apps, None)

    assert Ticket.objects.get(pk=world.ticket.pk).description == CLEAN
