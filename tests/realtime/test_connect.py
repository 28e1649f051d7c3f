"""Connecting: who may open the GraphQL websocket, and how a refusal looks (it leaks nothing)."""

from __future__ import annotations

import asyncio
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from strawberry.subscriptions import GRAPHQL_WS_PROTOCOL

from escalated.models import ApiToken
from escalated.realtime.groups import ticket_group
from escalated.realtime.rechecks import Rechecks
from escalated.services import guests, tickets
from escalated.services.tokens import api_token_revoke
from tests.conftest import World, gid
from tests.realtime.conftest import (
    Live,
    bearer,
    communicator,
    connect,
    joined,
    run,
    session_cookie,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

EVENTS = "subscription($id: ID!) { ticketEvents(ticketId: $id) { kind ticket { subject } } }"


async def _closed_as_forbidden(connection: Live) -> None:
    """The next thing the socket gets is the close, 4403 (within a recheck or two)."""
    closed = await connection.communicator.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}


async def _init(comm: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Open the socket, send connection_init, and return what the server answers."""
    accepted, _protocol = await comm.connect()
    assert accepted
    await comm.send_json_to({"type": "connection_init", "payload": payload})
    return await comm.receive_output()


async def test_a_session_cookie_signs_the_socket_in(world: World) -> None:
    connection = await connect(world.customer)
    op = await connection.subscribe(EVENTS, {"id": gid(world.ticket)})
    await joined(ticket_group(world.ticket.pk))

    await run(tickets.ticket_reply, ticket=world.ticket, author=world.agent, body="Hello")

    assert (await connection.next(op))["ticketEvents"]["kind"] == "REPLY_ADDED"
    await connection.close()


async def test_a_bearer_token_in_connection_init_signs_the_socket_in(world: World) -> None:
    token = await run(bearer, user=world.customer)
    connection = await connect(token=token)
    op = await connection.subscribe(EVENTS, {"id": gid(world.ticket)})
    await joined(ticket_group(world.ticket.pk))

    await run(tickets.ticket_reply, ticket=world.ticket, author=world.agent, body="Hello")

    assert (await connection.next(op))["ticketEvents"]["ticket"] == {"subject": "Invoice is wrong"}
    await connection.close()


@pytest.mark.parametrize(
    "authorization",
    ["Bearer esc_not-a-real-token", "Basic dXNlcjpwdw==", "Bearer ", 42],
)
async def test_a_bad_credential_is_refused_with_4403(world: World, authorization: Any) -> None:
    # A valid session does not rescue a bad token: an explicit credential must be good.
    cookie = await run(session_cookie, user=world.agent)
    comm = communicator(cookie=cookie)

    answer = await _init(comm, {"authorization": authorization})

    assert answer == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}


async def test_a_socket_nobody_vouches_for_is_refused(db: Any) -> None:
    comm = communicator()

    answer = await _init(comm, {})

    assert answer["type"] == "websocket.close" and answer["code"] == 4403


async def test_a_deactivated_users_session_is_refused(world: World) -> None:
    cookie = await run(session_cookie, user=world.customer)
    world.customer.is_active = False
    await run(world.customer.save)

    answer = await _init(communicator(cookie=cookie), {})

    assert answer["code"] == 4403


async def test_a_cross_site_page_is_refused_before_the_socket_opens(world: World) -> None:
    cookie = await run(session_cookie, user=world.customer)
    comm = communicator(cookie=cookie, origin="https://evil.example")

    accepted, code = await comm.connect()

    # Never accepted: servers answer such a handshake with HTTP 403.
    assert (accepted, code) == (False, 4403)


async def test_allowed_and_same_origin_pages_may_connect(world: World, settings: Any) -> None:
    settings.ESCALATED = {"WEBSOCKET_ALLOWED_ORIGINS": ["https://app.example"]}
    for origin in ("https://app.example", "http://testserver"):
        connection = await connect(world.customer, origin=origin)
        await connection.close()


async def test_a_revoked_token_closes_the_socket(world: World, settings: Any) -> None:
    settings.ESCALATED = {"REALTIME_ACCESS_RECHECK_SECONDS": 1}
    token = await run(bearer, user=world.agent)
    connection = await connect(token=token)
    await connection.subscribe(EVENTS, {"id": gid(world.ticket)})
    await joined(ticket_group(world.ticket.pk))

    row = await run(ApiToken.objects.get, user=world.agent)
    await run(api_token_revoke, actor=world.agent, token=row)

    # Found at the next recheck, at most a second later.
    await _closed_as_forbidden(connection)


async def test_a_deactivated_agent_stops_hearing_at_the_next_recheck(
    world: World, settings: Any
) -> None:
    settings.ESCALATED = {"REALTIME_ACCESS_RECHECK_SECONDS": 1}
    connection = await connect(world.agent)
    await connection.subscribe(EVENTS, {"id": gid(world.ticket)})
    await joined(ticket_group(world.ticket.pk))

    world.agent.is_active = False
    await run(world.agent.save)

    await _closed_as_forbidden(connection)


async def test_the_legacy_graphql_ws_protocol_works(world: World) -> None:
    cookie = await run(session_cookie, user=world.customer)
    comm = communicator(cookie=cookie, protocol=GRAPHQL_WS_PROTOCOL)
    await comm.gql_init()
    await comm.send_json_to(
        {
            "id": "1",
            "type": "start",
            "payload": {"query": EVENTS, "variables": {"id": gid(world.ticket)}},
        }
    )
    await joined(ticket_group(world.ticket.pk))

    await run(tickets.ticket_reply, ticket=world.ticket, author=world.agent, body="Hi")

    message = await comm.receive_json_from(timeout=3)
    assert message["type"] == "data"
    assert message["payload"]["data"]["ticketEvents"]["kind"] == "REPLY_ADDED"
    await comm.disconnect()


async def test_the_legacy_protocol_refuses_with_connection_error(db: Any) -> None:
    comm = communicator(protocol=GRAPHQL_WS_PROTOCOL)
    accepted, _ = await comm.connect()
    assert accepted
    await comm.send_json_to({"type": "connection_init", "payload": {}})

    error = await comm.receive_json_from()

    assert error["type"] == "connection_error"
    assert error["payload"] == {
        "message": "Sign in first: send a session cookie, an API token or a guest token."
    }
    assert (await comm.receive_output())["type"] == "websocket.close"


async def _guest(world: World) -> tuple[Any, str]:
    """The world's guest ticket and its magic-link token."""
    headers = await run(world.guest_headers)
    return world.guest_ticket, headers["X-Escalated-Guest-Token"]


async def test_a_guest_token_in_connection_init_hears_their_ticket_but_no_note(
    world: World,
) -> None:
    ticket, token = await _guest(world)
    comm = communicator(params={"guestToken": token})
    await comm.gql_init()
    connection = Live(comm)
    op = await connection.subscribe(EVENTS, {"id": gid(ticket)})
    await joined(ticket_group(ticket.pk))

    await run(tickets.ticket_note_add, ticket=ticket, author=world.agent, body="Internal")
    await run(tickets.ticket_reply, ticket=ticket, author=world.agent, body="On its way")

    assert (await connection.next(op))["ticketEvents"] == {
        "kind": "REPLY_ADDED",
        "ticket": {"subject": "My parcel"},
    }
    await connection.nothing()
    await connection.close()


async def test_a_guest_socket_cannot_watch_another_ticket(world: World) -> None:
    _ticket, token = await _guest(world)
    comm = communicator(params={"guestToken": token})
    await comm.gql_init()
    connection = Live(comm)

    op = await connection.subscribe(EVENTS, {"id": gid(world.ticket)})

    assert await connection.refused(op) == "NOT_FOUND"
    await connection.close()


async def test_a_bad_guest_token_is_refused_with_4403(world: World) -> None:
    comm = communicator(params={"guestToken": "escg_not-a-real-token"})

    answer = await _init(comm, {"guestToken": "escg_not-a-real-token"})

    assert answer == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}


async def test_a_rotated_guest_link_closes_the_socket(world: World, settings: Any) -> None:
    settings.ESCALATED = {"REALTIME_ACCESS_RECHECK_SECONDS": 1}
    ticket, token = await _guest(world)
    comm = communicator(params={"guestToken": token})
    await comm.gql_init()
    connection = Live(comm)
    await connection.subscribe(EVENTS, {"id": gid(ticket)})
    await joined(ticket_group(ticket.pk))

    await run(guests.guest_token_rotate, ticket=ticket, actor=world.agent)

    # The rotation is staff-only news; at the next recheck the old link is dead, so the first
    # thing the guest's socket gets is the close.
    await _closed_as_forbidden(connection)


def _sign_out(cookie: str) -> None:
    """What the host's logout view does with the socket's session."""
    request = RequestFactory().get("/")
    engine = import_module(django_settings.SESSION_ENGINE)
    request.session = engine.SessionStore(cookie)
    request.user = AnonymousUser()
    logout(request)


def _change_password(user: Any) -> None:
    user.set_password("a brand new passphrase")
    user.save()


@pytest.mark.parametrize("end_session", ["sign out", "password changed elsewhere"])
async def test_a_session_socket_ends_with_its_session(
    world: World, settings: Any, end_session: str
) -> None:
    settings.ESCALATED = {"REALTIME_ACCESS_RECHECK_SECONDS": 1}
    cookie = await run(session_cookie, user=world.agent)
    comm = communicator(cookie=cookie)
    await comm.gql_init()
    connection = Live(comm)
    await connection.subscribe(EVENTS, {"id": gid(world.ticket)})
    await joined(ticket_group(world.ticket.pk))

    if end_session == "sign out":
        await run(_sign_out, cookie=cookie)
    else:
        await run(_change_password, user=world.agent)

    await _closed_as_forbidden(connection)


async def test_a_live_session_socket_stays_open_across_rechecks(
    world: World, settings: Any
) -> None:
    settings.ESCALATED = {"REALTIME_ACCESS_RECHECK_SECONDS": 1}
    connection = await connect(world.agent)
    op = await connection.subscribe(EVENTS, {"id": gid(world.ticket)})
    await joined(ticket_group(world.ticket.pk))
    await asyncio.sleep(2.5)  # at least two rechecks

    await run(tickets.ticket_reply, ticket=world.ticket, author=world.agent, body="Still here")

    assert (await connection.next(op))["ticketEvents"]["kind"] == "REPLY_ADDED"
    await connection.close()


async def test_a_socket_closed_while_signing_in_is_not_rechecked_later(world: World) -> None:
    cookie = await run(session_cookie, user=world.agent)
    comm = communicator(cookie=cookie)
    accepted, _protocol = await comm.connect()
    assert accepted
    await comm.send_json_to({"type": "connection_init", "payload": {}})
    await comm.disconnect()  # while connection_init is still reading the database

    await asyncio.sleep(0.5)
    assert Rechecks.current().due == {}
