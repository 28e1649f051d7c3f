"""Guest tickets: opening one, the magic link's token (hashed, constant-time, expiring,
rotatable), what a guest may and may not do, rate limits, and claiming into an account."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import caches
from django.utils import timezone

from escalated.access import GuestActor, Role, is_requester
from escalated.errors import DomainError, NotAllowed
from escalated.models import Delivery, GuestAccess, Reply, Ticket, TicketActivity
from escalated.services import guests, tickets
from tests.conftest import World, data_of, gid, guest_header, make_user, open_guest_ticket

CREATE = """mutation($input: GuestTicketCreateInput!) { guestTicketCreate(input: $input) {
    ticket { reference subject status requester { id } guest { name email } }
    guestToken errors { field code message } } }"""
GUEST_INPUT = {
    "name": "Gail Guest",
    "email": "Gail@Example.net",
    "subject": "Where is my order?",
    "description": "Ordered a week ago.",
}
THREAD = """{ viewer { role user { id } guest { name email tokenExpiresAt } }
    tickets(first: 10) { totalCount edges { node { id reference
        replies(first: 10) { edges { node { body isInternalNote authorLabel } } } } } } }"""
REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
    reply { body authorLabel author { id } } ticket { status } errors { code message } } }"""
CLOSE = """mutation($input: TicketCloseInput!) { ticketClose(input: $input) {
    ticket { status } errors { code } } }"""
REOPEN = """mutation($input: TicketReopenInput!) { ticketReopen(input: $input) {
    ticket { status } errors { code } } }"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    caches["default"].clear()  # rate-limit counters live here


def test_guest_tickets_are_off_unless_enabled(gql: Any) -> None:
    result = gql(CREATE, {"input": GUEST_INPUT})

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "guests" in result["errors"][0]["message"]
    assert not Ticket.objects.exists()


def test_anyone_opens_a_guest_ticket_and_gets_a_magic_link(
    db: Any, gql: Any, guests_on: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = data_of(gql(CREATE, {"input": GUEST_INPUT}))["guestTicketCreate"]

    assert result["errors"] == []
    assert result["ticket"]["requester"] is None
    assert result["ticket"]["guest"] == {"name": "Gail Guest", "email": "gail@example.net"}
    token = result["guestToken"]
    assert token.startswith("escg_") and len(token) >= 45
    (message,) = mail.outbox
    assert message.to == ["gail@example.net"]
    assert message.subject == f"[{result['ticket']['reference']}] Your support request"
    # A bare path is made absolute against SITE_URL, never against the request's Host header.
    assert f"http://localhost:8000/support/guest/{token}" in message.body
    assert "testserver" not in message.body
    # Stored only as a hash; the timeline never sees the token or the link.
    access = GuestAccess.objects.get()
    assert token not in str(GuestAccess.objects.values().get())
    assert access.token_hash and len(access.token_hash) == 64
    assert token not in str(list(TicketActivity.objects.values()))


def test_the_link_follows_guest_link_url(
    db: Any, guests_on: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "GUEST_LINK_URL": "https://help.example.com/requests?t={token}",
    }

    with django_capture_on_commit_callbacks(execute=True):
        _ticket, token = open_guest_ticket()

    assert f"https://help.example.com/requests?t={token}" in mail.outbox[0].body


def test_guest_input_is_checked(db: Any, gql: Any, guests_on: None) -> None:
    bad = {"name": " ", "email": "not-an-address", "subject": ""}

    result = data_of(gql(CREATE, {"input": bad}))["guestTicketCreate"]

    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("name", "REQUIRED"),
        ("email", "INVALID"),
        ("subject", "REQUIRED"),
    }
    assert not Ticket.objects.exists()
    assert mail.outbox == []


# --- what a guest can do ----------------------------------------------------------------------


def test_a_guest_sees_their_ticket_and_never_a_note(
    world: World, gql: Any, guests_on: None
) -> None:
    ticket, token = open_guest_ticket()
    tickets.ticket_reply(ticket=ticket, author=world.admin, body="We are on it")
    tickets.ticket_note_add(ticket=ticket, author=world.admin, body="Secret: chargeback risk")

    data = data_of(gql(THREAD, headers=guest_header(token)))

    assert data["viewer"]["role"] == "GUEST"
    assert data["viewer"]["user"] is None
    assert data["viewer"]["guest"]["email"] == "gail@example.net"
    assert data["tickets"]["totalCount"] == 1  # the world's ticket stays out of reach
    bodies = [e["node"]["body"] for e in data["tickets"]["edges"][0]["node"]["replies"]["edges"]]
    assert bodies == ["We are on it"]


def test_a_guest_replies_and_closes(world: World, gql: Any, guests_on: None) -> None:
    ticket, token = open_guest_ticket()
    tickets.ticket_reply(ticket=ticket, author=world.admin, body="Which order?")
    ticket_id = {"ticketId": gid(ticket)}

    replied = data_of(
        gql(REPLY, {"input": {**ticket_id, "body": "Order 42"}}, headers=guest_header(token))
    )["ticketReply"]
    closed = data_of(gql(CLOSE, {"input": ticket_id}, headers=guest_header(token)))["ticketClose"]

    assert replied["reply"] == {
        "body": "Order 42",
        "authorLabel": "guest:gail@example.net",
        "author": None,
    }
    assert replied["ticket"]["status"] == "WAITING_ON_AGENT"
    assert closed == {"ticket": {"status": "CLOSED"}, "errors": []}
    activity = TicketActivity.objects.filter(ticket=ticket, verb="replied").last()
    assert activity.actor_id is None and activity.actor_label == "guest:gail@example.net"


def test_a_guest_rates_their_resolved_ticket_once(world: World, gql: Any, guests_on: None) -> None:
    ticket, token = open_guest_ticket()
    tickets.ticket_resolve(ticket=ticket, actor=world.admin)
    rate = """mutation($input: TicketRateInput!) { ticketRate(input: $input) {
        rating { rating comment } errors { code } } }"""
    given = {"input": {"ticketId": gid(ticket), "rating": 4, "comment": "Thanks"}}

    rated = data_of(gql(rate, given, headers=guest_header(token)))["ticketRate"]
    again = gql(rate, {"input": {**given["input"], "rating": 1}}, headers=guest_header(token))

    assert rated == {"rating": {"rating": 4, "comment": "Thanks"}, "errors": []}
    assert data_of(again)["ticketRate"]["errors"] == [{"code": "DUPLICATE"}]
    activity = TicketActivity.objects.filter(ticket=ticket, verb="rated").get()
    assert activity.actor_id is None and activity.actor_label == "guest:gail@example.net"


def test_a_guest_cannot_close_when_customers_may_not(
    world: World, gql: Any, guests_on: None, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "ALLOW_CUSTOMER_CLOSE": False}
    ticket, token = open_guest_ticket()

    result = gql(CLOSE, {"input": {"ticketId": gid(ticket)}}, headers=guest_header(token))

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "support team" in result["errors"][0]["message"]
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_guest_cannot_reopen_or_act_on_another_ticket(
    world: World, gql: Any, guests_on: None
) -> None:
    ticket, token = open_guest_ticket()
    tickets.ticket_resolve(ticket=ticket, actor=world.admin)

    reopened = gql(REOPEN, {"input": {"ticketId": gid(ticket)}}, headers=guest_header(token))
    elsewhere = gql(
        REPLY,
        {"input": {"ticketId": gid(world.ticket), "body": "hi"}},
        headers=guest_header(token),
    )

    assert reopened["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert data_of(elsewhere)["ticketReply"]["errors"][0]["code"] == "NOT_FOUND"


def test_the_guest_is_the_requester_of_their_ticket_only(world: World, guests_on: None) -> None:
    ticket, token = open_guest_ticket()
    guest = guests.guest_authenticate(token)

    assert isinstance(guest, GuestActor)
    assert is_requester(guest, ticket)
    assert not is_requester(guest, world.ticket)
    assert is_requester(world.customer, world.ticket)
    assert not is_requester(world.agent, world.ticket)


# --- the token --------------------------------------------------------------------------------


def test_guest_authenticate_is_the_door_agnostic_check(world: World, guests_on: None) -> None:
    ticket, token = open_guest_ticket()

    guest = guests.guest_authenticate(token)

    assert guest is not None and guest.ticket_id == ticket.pk
    assert guests.guest_authenticate("") is None
    assert guests.guest_authenticate("escg_short") is None
    assert guests.guest_authenticate(token[:-2] + "zz") is None
    assert guests.guest_authenticate("x" * 10_000) is None


def test_tokens_are_compared_in_constant_time(
    world: World, guests_on: None, compare_digest_calls: list[tuple[str, str]]
) -> None:
    _ticket, token = open_guest_ticket()

    assert guests.guest_authenticate(token) is not None
    stored = GuestAccess.objects.get().token_hash
    assert compare_digest_calls == [(stored, stored)]


def test_an_expired_token_is_refused(world: World, gql: Any, guests_on: None) -> None:
    _ticket, token = open_guest_ticket()
    GuestAccess.objects.update(token_expires_at=timezone.now() - timedelta(seconds=1))

    result = gql.client.post(
        gql.url, {"query": THREAD}, content_type="application/json", headers=guest_header(token)
    )

    assert result.status_code == 401
    assert result.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_tokens_expire_after_the_configured_days(
    world: World, guests_on: None, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TOKEN_EXPIRY_DAYS": 3}

    open_guest_ticket()

    access = GuestAccess.objects.get()
    assert access.token_expires_at - access.token_issued_at == timedelta(days=3)


def test_staff_rotate_a_token_and_the_old_link_dies(
    world: World, gql: Any, guests_on: None, django_capture_on_commit_callbacks: Any
) -> None:
    ticket, old = open_guest_ticket()
    rotate = """mutation($input: GuestTokenRotateInput!) { guestTokenRotate(input: $input) {
        ticket { guest { tokenExpiresAt } } errors { code } } }"""

    with django_capture_on_commit_callbacks(execute=True):
        result = data_of(gql(rotate, {"input": {"ticketId": gid(ticket)}}, user=world.admin))

    assert result["guestTokenRotate"]["errors"] == []
    assert guests.guest_authenticate(old) is None
    # (The outbox also sends the first link's email, still waiting, after the rotation's.)
    [rotated] = [m for m in mail.outbox if "new link" in m.body]
    new = re.search(r"/guest/(escg_\S+)", rotated.body).group(1)
    assert guests.guest_authenticate(new).ticket_id == ticket.pk
    assert TicketActivity.objects.filter(ticket=ticket, verb="guest_link_rotated").count() == 1


def test_rotation_needs_a_guest_ticket(world: World, guests_on: None) -> None:
    with pytest.raises(DomainError, match="not opened by a guest"):
        guests.guest_token_rotate(ticket=world.ticket, actor=world.agent)


def test_both_credentials_at_once_are_refused(world: World, gql: Any, guests_on: None) -> None:
    from escalated.services import tokens

    _ticket, guest_token = open_guest_ticket()
    _row, api_token = tokens.api_token_create(actor=world.customer, name="cli")

    response = gql.client.post(
        gql.url,
        {"query": THREAD},
        content_type="application/json",
        headers={**guest_header(guest_token), "Authorization": f"Bearer {api_token}"},
    )

    assert response.status_code == 400


# --- rate limits ------------------------------------------------------------------------------


def _limits(settings: Any, **limits: int) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "GUEST_TICKETS_ENABLED": True,
        "GUEST_RATE_LIMIT": limits,
    }


def test_guest_tickets_are_limited_per_address(db: Any, gql: Any, settings: Any) -> None:
    _limits(settings, PER_EMAIL=2, PER_IP=100)

    answers = [data_of(gql(CREATE, {"input": GUEST_INPUT}))["guestTicketCreate"] for _ in range(3)]
    other = {**GUEST_INPUT, "email": "someone@example.net"}
    fourth = data_of(gql(CREATE, {"input": other}))["guestTicketCreate"]

    assert [a["errors"] for a in answers[:2]] == [[], []]
    assert [e["code"] for e in answers[2]["errors"]] == ["RATE_LIMITED"]
    assert "try again in" in answers[2]["errors"][0]["message"]
    assert fourth["errors"] == []  # another address has its own budget
    assert Ticket.objects.count() == 3


def test_guest_tickets_are_limited_per_ip(db: Any, gql: Any, settings: Any) -> None:
    _limits(settings, PER_EMAIL=100, PER_IP=2)

    answers = [
        data_of(gql(CREATE, {"input": {**GUEST_INPUT, "email": f"g{n}@example.net"}}))
        for n in range(3)
    ]
    elsewhere = gql.client.post(
        gql.url,
        {"query": CREATE, "variables": {"input": GUEST_INPUT}},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.9",
    )

    codes = [[e["code"] for e in a["guestTicketCreate"]["errors"]] for a in answers]
    assert codes == [[], [], ["RATE_LIMITED"]]
    assert data_of(elsewhere.json())["guestTicketCreate"]["errors"] == []


def test_the_window_resets(db: Any, settings: Any, monkeypatch: Any) -> None:
    import time

    _limits(settings, PER_EMAIL=1, PER_IP=100, WINDOW_SECONDS=60)
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    open_guest_ticket()
    with pytest.raises(DomainError):
        open_guest_ticket()

    monkeypatch.setattr(time, "time", lambda: start + 61)

    open_guest_ticket()
    assert Ticket.objects.count() == 2


@pytest.mark.redis
def test_a_shared_redis_cache_counts_across_connections(settings: Any) -> None:
    import os

    from escalated.services.ratelimit import rate_limit_hit

    url = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings.CACHES = {
        **settings.CACHES,
        "escalated_rl": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
    }
    caches["escalated_rl"].clear()
    outcomes: list[int | None] = []
    start = threading.Barrier(12)

    def attempt() -> None:
        start.wait()  # all at once, each thread on its own Redis connection
        outcomes.append(
            rate_limit_hit(
                scope="guest-ip", key="198.51.100.7", limit=5, window=60, cache="escalated_rl"
            )
        )

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count(None) == 5
    assert all(isinstance(wait, int) and 0 < wait <= 60 for wait in outcomes if wait is not None)
    caches["escalated_rl"].clear()


# --- claiming ---------------------------------------------------------------------------------

CLAIM = """mutation($input: GuestTicketsClaimInput!) { guestTicketsClaim(input: $input) {
    tickets { reference requester { id } } errors { field code } } }"""


def verified(user: Any) -> bool:
    return user.username != "unverified"


@pytest.fixture
def claims_on(settings: Any) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "GUEST_TICKETS_ENABLED": True,
        "GUEST_CLAIM_EMAIL_VERIFIED": "tests.test_guests.verified",
    }


def _claimable(world: World) -> tuple[Ticket, str, Any]:
    ticket, token = open_guest_ticket(email="Cora.Guest@Example.com")
    guest = guests.guest_authenticate(token)
    tickets.ticket_reply(ticket=ticket, author=guest, body="Any news?")
    user = make_user("cora2")
    user.email = "cora.guest@example.com"
    user.save()
    return ticket, token, user


def test_claiming_is_refused_until_the_host_says_how_to_verify(
    world: World, gql: Any, guests_on: None
) -> None:
    _ticket, _token, user = _claimable(world)

    result = gql(CLAIM, {"input": {}}, user=user)

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Verify your email" in result["errors"][0]["message"]
    assert not Ticket.objects.filter(requester=user).exists()


def test_an_unverified_email_cannot_claim(world: World, gql: Any, claims_on: None) -> None:
    _ticket, _token, _user = _claimable(world)
    impostor = make_user("unverified")
    impostor.email = "cora.guest@example.com"
    impostor.save()

    result = gql(CLAIM, {"input": {}}, user=impostor)

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Ticket.objects.filter(requester=impostor).exists()


def test_a_verified_user_claims_their_guest_tickets(
    world: World, gql: Any, claims_on: None
) -> None:
    ticket, token, user = _claimable(world)
    someone_elses, _ = open_guest_ticket(email="else@example.com")

    result = data_of(gql(CLAIM, {"input": {}}, user=user))["guestTicketsClaim"]

    assert result["tickets"] == [{"reference": ticket.reference, "requester": {"id": gid(user)}}]
    ticket.refresh_from_db()
    assert ticket.requester_id == user.pk
    assert guests.guest_authenticate(token) is None  # the link is gone with the claim
    assert Reply.objects.get(body="Any news?").author_id == user.pk
    assert TicketActivity.objects.filter(ticket=ticket, verb="guest_claimed").count() == 1
    someone_elses.refresh_from_db()
    assert someone_elses.requester_id is None
    seen = data_of(gql("{ tickets(first: 5) { totalCount } }", user=user))
    assert seen["tickets"]["totalCount"] == 1
    again = data_of(gql(CLAIM, {"input": {}}, user=user))["guestTicketsClaim"]
    assert again == {"tickets": [], "errors": []}


def test_a_claim_can_name_its_tickets(world: World, settings: Any) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "GUEST_TICKETS_ENABLED": True,
        "GUEST_CLAIM_EMAIL_VERIFIED": verified,
    }
    first, _token, user = _claimable(world)
    second, _ = open_guest_ticket(email="cora.guest@example.com")

    claimed = guests.guest_tickets_claim(actor=user, references=[second.reference.lower()])
    with pytest.raises(DomainError) as unknown:
        guests.guest_tickets_claim(actor=user, references=[world.ticket.reference])

    assert [t.pk for t in claimed] == [second.pk]
    assert unknown.value.problems[0].field == "references"
    first.refresh_from_db()
    assert first.requester_id is None


def test_a_guest_cannot_claim_or_use_account_features(world: World, guests_on: None) -> None:
    _ticket, token = open_guest_ticket()
    guest = guests.guest_authenticate(token)

    with pytest.raises(NotAllowed):
        guests.guest_tickets_claim(actor=guest)
    from escalated.services import tokens

    with pytest.raises(NotAllowed):
        tokens.api_token_create(actor=guest, name="sneaky")
    assert guest is not None and Role.GUEST.value == "guest"


def test_the_magic_link_is_not_kept_at_rest_once_sent(
    db: Any, gql: Any, guests_on: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        token = data_of(gql(CREATE, {"input": GUEST_INPUT}))["guestTicketCreate"]["guestToken"]

    assert token in mail.outbox[0].body
    row = Delivery.objects.get(recipient="gail@example.net")
    assert row.status == "delivered"
    assert token not in str(row.payload) and row.content is None
    assert row.payload["redacted"] is True
