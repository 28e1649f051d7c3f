"""Mutations are limited per caller (API token, user, guest link or client IP) per minute,
counted in the Django cache: over the limit, a typed RATE_LIMITED error and Retry-After."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from escalated.models import Attachment, Reply, Ticket
from escalated.services import tickets as ticket_service
from tests.conftest import World, gid, stored_files
from tests.files import png
from tests.inertia.helpers import INERTIA, client_for, errors_after
from tests.test_permission_matrix import snapshot

CREATE = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
    ticket { id } errors { code } } }"""


def _create(client: Client, subject: str, **headers: str) -> Any:
    return client.post(
        "/support/graphql/",
        {"query": CREATE, "variables": {"input": {"subject": subject}}},
        content_type="application/json",
        headers=headers,
    )


def _limited(settings: Any, per_minute: int, cache: str = "default") -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MUTATION_RATE_LIMIT": {"PER_MINUTE": per_minute, "CACHE": cache},
    }


def test_a_caller_over_the_limit_is_told_when_to_come_back(world: World, settings: Any) -> None:
    _limited(settings, 3)
    client = Client()
    client.force_login(world.customer)
    client.get("/support/graphql/")  # the CSRF cookie
    csrf = {"X-CSRFToken": client.cookies["csrftoken"].value}
    before = Ticket.objects.count()

    answers = [_create(client, f"Try {n}", **csrf) for n in range(4)]

    assert [a.json().get("errors") for a in answers[:3]] == [None, None, None]
    refused = answers[3]
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert refused["Retry-After"] == str(error["extensions"]["retryAfter"])
    assert Ticket.objects.count() == before + 3


def test_each_caller_has_a_budget_of_their_own(world: World, gql: Any, settings: Any) -> None:
    _limited(settings, 1)

    first = gql(CREATE, {"input": {"subject": "Mine"}}, user=world.customer)
    again = gql(CREATE, {"input": {"subject": "Mine again"}}, user=world.customer)
    other = gql(CREATE, {"input": {"subject": "Theirs"}}, user=world.other_customer)

    assert "errors" not in first and "errors" not in other
    assert again["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_anonymous_callers_are_counted_by_ip(world: World, gql: Any, settings: Any) -> None:
    _limited(settings, 1)
    guest = """mutation($input: GuestTicketCreateInput!) { guestTicketCreate(input: $input) {
        errors { code } } }"""
    given = {"input": {"name": "Gail", "email": "gail@example.net", "subject": "Hi"}}

    gql(guest, given)
    again = gql(guest, given)

    assert again["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


@pytest.mark.redis
def test_the_limit_counts_in_a_shared_redis_cache(world: World, gql: Any, settings: Any) -> None:
    url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings.CACHES = {
        **settings.CACHES,
        # A prefix of its own: nothing here clears or reads anyone else's keys.
        "escalated_mutations": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"escalated-test-{uuid.uuid4().hex}",
        },
    }
    _limited(settings, 2, cache="escalated_mutations")

    answers = [gql(CREATE, {"input": {"subject": f"R{n}"}}, user=world.customer) for n in range(3)]

    assert [("errors" in a) for a in answers] == [False, False, True]
    assert answers[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


# --- replies and attachments per ticket and per requester (MESSAGE_RATE_LIMIT) ---------------

REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
    reply { id } errors { code } } }"""


def _messages(settings: Any, **limits: int) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MESSAGE_RATE_LIMIT": {
            "REPLIES_PER_TICKET": 10**6,
            "REPLIES_PER_REQUESTER": 10**6,
            "ATTACHMENTS_PER_TICKET": 10**6,
            "ATTACHMENTS_PER_REQUESTER": 10**6,
            **limits,
        },
    }


def _reply(gql: Any, ticket: Ticket, body: str, **who: Any) -> Any:
    return gql(REPLY, {"input": {"ticketId": gid(ticket), "body": body}}, **who)


def _with_files(gql: Any, ticket: Ticket, count: int, *, user: Any) -> Any:
    variables = {"input": {"ticketId": gid(ticket), "body": "Files", "attachments": [None] * count}}
    files = {
        f"variables.input.attachments.{n}": SimpleUploadedFile(f"f{n}.png", png())
        for n in range(count)
    }
    return gql.multipart(REPLY, variables, files, user=user)


def _code(answer: dict[str, Any]) -> str | None:
    errors = answer.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def test_a_customer_over_their_hourly_replies_is_refused_and_nothing_changes(
    world: World, settings: Any
) -> None:
    _messages(settings, REPLIES_PER_REQUESTER=2)
    client = Client()
    client.force_login(world.customer)
    ticket = world.ticket
    answers = [
        client.post(
            "/support/graphql/",
            {"query": REPLY, "variables": {"input": {"ticketId": gid(ticket), "body": f"#{n}"}}},
            content_type="application/json",
        )
        for n in range(2)
    ]
    assert [a.json().get("errors") for a in answers] == [None, None]
    ticket.refresh_from_db()
    before = (snapshot(), ticket.status, ticket.updated_at)

    refused = client.post(
        "/support/graphql/",
        {"query": REPLY, "variables": {"input": {"ticketId": gid(ticket), "body": "#3"}}},
        content_type="application/json",
    )

    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "too many messages" in error["message"]
    assert 0 < error["extensions"]["retryAfter"] <= 3600
    assert refused["Retry-After"] == str(error["extensions"]["retryAfter"])
    ticket.refresh_from_db()
    assert (snapshot(), ticket.status, ticket.updated_at) == before


def test_a_tickets_budget_is_its_own(world: World, gql: Any, settings: Any) -> None:
    _messages(settings, REPLIES_PER_TICKET=2)
    other = ticket_service.ticket_create(actor=world.customer, subject="Another")

    answers = [_reply(gql, world.ticket, f"#{n}", user=world.customer) for n in range(3)]
    elsewhere = _reply(gql, other, "Elsewhere", user=world.customer)

    assert [_code(a) for a in answers] == [None, None, "RATE_LIMITED"]
    assert "This ticket has had too many messages" in answers[2]["errors"][0]["message"]
    assert _code(elsewhere) is None


def test_staff_replies_are_not_counted_and_a_flood_does_not_silence_agents(
    world: World, gql: Any, settings: Any
) -> None:
    _messages(settings, REPLIES_PER_TICKET=1, REPLIES_PER_REQUESTER=1)
    note = """mutation($input: TicketNoteAddInput!) { ticketNoteAdd(input: $input) {
        errors { code } } }"""

    customer = [_reply(gql, world.ticket, f"c{n}", user=world.customer) for n in range(2)]
    agent = [_reply(gql, world.ticket, f"a{n}", user=world.agent) for n in range(3)]
    noted = gql(note, {"input": {"ticketId": gid(world.ticket), "body": "n"}}, user=world.agent)

    assert [_code(a) for a in customer] == [None, "RATE_LIMITED"]
    assert [_code(a) for a in agent] == [None, None, None]
    assert _code(noted) is None


def test_a_reply_the_author_may_not_post_spends_nothing(
    world: World, gql: Any, settings: Any
) -> None:
    _messages(settings, REPLIES_PER_TICKET=1)

    stranger = _reply(gql, world.ticket, "Not mine", user=world.other_customer)
    empty = _reply(gql, world.ticket, "<script></script>", user=world.customer)
    owner = _reply(gql, world.ticket, "Mine", user=world.customer)

    assert stranger["data"]["ticketReply"]["errors"] == [{"code": "NOT_FOUND"}]
    assert _code(empty) is None and empty["data"]["ticketReply"]["errors"]
    assert _code(owner) is None and owner["data"]["ticketReply"]["reply"] is not None


def test_files_are_counted_and_a_refused_message_stores_none_and_spends_nothing(
    world: World, gql: Any, settings: Any, file_store: Any
) -> None:
    _messages(settings, ATTACHMENTS_PER_REQUESTER=3)

    first = _with_files(gql, world.ticket, 2, user=world.customer)
    kept = (stored_files(file_store), Attachment.objects.count(), Reply.objects.count())
    refused = _with_files(gql, world.ticket, 2, user=world.customer)
    after_refusal = (stored_files(file_store), Attachment.objects.count(), Reply.objects.count())
    last = _with_files(gql, world.ticket, 1, user=world.customer)

    assert _code(first) is None
    assert _code(refused) == "RATE_LIMITED"
    assert "attached too many files" in refused["errors"][0]["message"]
    assert after_refusal == kept
    # The refusal gave back what it took: the one slot left still admits one file.
    assert _code(last) is None and Attachment.objects.count() == 3


def test_files_per_ticket_count_files_on_new_tickets_against_the_requester(
    world: World, gql: Any, settings: Any, file_store: Any
) -> None:
    _messages(settings, ATTACHMENTS_PER_TICKET=2, ATTACHMENTS_PER_REQUESTER=3)
    create = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
        ticket { id } errors { code } } }"""
    variables = {"input": {"subject": "With files", "attachments": [None, None]}}
    files = {
        f"variables.input.attachments.{n}": SimpleUploadedFile(f"f{n}.png", png()) for n in range(2)
    }

    opened = gql.multipart(create, variables, files, user=world.customer)
    on_ticket = _with_files(gql, world.ticket, 2, user=world.customer)
    tickets = Ticket.objects.count()

    assert _code(opened) is None
    assert _code(on_ticket) == "RATE_LIMITED"  # 2 + 2 files is over the requester's 3
    assert Ticket.objects.count() == tickets


def test_a_guest_is_counted_by_their_address_on_the_api_and_the_portal(
    world: World, gql: Any, settings: Any
) -> None:
    headers = world.guest_headers()
    _messages(settings, REPLIES_PER_REQUESTER=2)
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    ticket = world.guest_ticket  # type: ignore[attr-defined]
    token = world._guest_token  # type: ignore[attr-defined]
    portal = Client()

    api = _reply(gql, ticket, "Over the API", headers=headers)
    page = portal.post(
        f"/support/guest/{token}/reply/",
        {"body": "On the page"},
        content_type="application/json",
        headers=INERTIA,
    )
    replies = ticket.replies.count()
    over = portal.post(
        f"/support/guest/{token}/reply/",
        {"body": "One too many"},
        content_type="application/json",
        headers={**INERTIA, "Referer": f"http://testserver/support/guest/{token}/"},
    )

    assert _code(api) is None and page.status_code == 303
    assert over.status_code == 303  # back to the page, with the refusal shown
    shown = errors_after(portal, f"/support/guest/{token}/")
    assert any("too many messages" in message for message in shown.values()), shown
    assert ticket.replies.count() == replies


def test_a_page_post_over_the_mutation_limit_is_a_form_error_not_a_crash(
    world: World, settings: Any
) -> None:
    _limited(settings, 1)
    client = client_for(world.customer)
    show = f"/support/tickets/{world.ticket.reference}/"
    client.post(
        show + "reply/", {"body": "First"}, content_type="application/json", headers=INERTIA
    )
    replies = world.ticket.replies.count()

    over = client.post(
        show + "reply/",
        {"body": "Second"},
        content_type="application/json",
        headers={**INERTIA, "Referer": "http://testserver" + show},
    )

    assert over.status_code == 303
    assert any("Too many changes" in m for m in errors_after(client, show).values())
    assert world.ticket.replies.count() == replies


def test_an_email_reply_over_the_limit_is_kept_for_a_retry(
    world: World, settings: Any, file_store: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from escalated.mail.processing import inbound_email_retry
    from escalated.models import InboundEmail, InboundStatus
    from tests.mail.conftest import INBOUND, mailgun_mime_post, post_mailgun
    from tests.mail.messages import message

    settings.ESCALATED = {**settings.ESCALATED, **INBOUND}
    _messages(settings, REPLIES_PER_TICKET=1)
    _reply_as(world.customer, world.ticket, "Over the web")
    replies = world.ticket.replies.count()
    raw = bytes(message(subject=f"Re: [{world.ticket.reference}] Invoice is wrong", text="Mail"))

    post_mailgun(
        Client(),
        mailgun_mime_post(raw),
        lambda: django_capture_on_commit_callbacks(execute=True),
    )

    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.FAILED
    assert "RateLimited" in inbound.error
    assert world.ticket.replies.count() == replies
    # A new window: an admin's retry posts it, once.
    settings.ESCALATED = {**settings.ESCALATED, "MESSAGE_RATE_LIMIT": {}}
    caches["default"].clear()
    assert inbound_email_retry(actor=world.admin, inbound=inbound).status == "processed"
    assert world.ticket.replies.count() == replies + 1


def _reply_as(author: Any, ticket: Ticket, body: str) -> None:
    ticket_service.ticket_reply(ticket=ticket, author=author, body=body)


@pytest.mark.redis
def test_message_budgets_count_in_a_shared_redis_cache(
    world: World, gql: Any, settings: Any
) -> None:
    url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings.CACHES = {
        **settings.CACHES,
        "escalated_messages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"escalated-test-{uuid.uuid4().hex}",
        },
    }
    _messages(settings, REPLIES_PER_TICKET=2)
    settings.ESCALATED["MESSAGE_RATE_LIMIT"]["CACHE"] = "escalated_messages"
    replies = world.ticket.replies.count()

    answers = [_reply(gql, world.ticket, f"R{n}", user=world.customer) for n in range(3)]

    assert [_code(a) for a in answers] == [None, None, "RATE_LIMITED"]
    assert world.ticket.replies.count() == replies + 2


# --- things held open (websocket connections) -------------------------------------------------


def test_a_live_holder_stays_counted_and_a_vanished_one_is_forgotten_in_two_windows() -> None:
    from datetime import UTC, datetime, timedelta

    import time_machine

    from escalated.services.ratelimit import hold_take

    start = datetime(2026, 1, 5, 12, 0, 10, tzinfo=UTC)
    budget = [("test-hold", "someone", 2)]
    with time_machine.travel(start, tick=False) as clock:
        live = hold_take(budget, window=60, cache="default")
        vanished = hold_take(budget, window=60, cache="default")
        assert live is not None and vanished is not None
        assert hold_take(budget, window=60, cache="default") is None  # full, and spent nothing

        for _ in range(4):  # the live one refreshes every half window; the other is gone
            clock.shift(timedelta(seconds=30))
            live.refresh()
        full_at_first = hold_take(budget, window=60, cache="default")  # 12:02:10
        assert full_at_first is not None  # the vanished holder no longer counts
        assert hold_take(budget, window=60, cache="default") is None  # live + the new one
        live.release()
        assert hold_take(budget, window=60, cache="default") is not None
