"""Webhook calls to a real HTTP receiver: signed, shaped like the API, and never aimed inward."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import trustme
from django.utils import timezone

from escalated.access import SystemActor
from escalated.models import Delivery, DeliveryStatus, Webhook
from escalated.services import outbox, webhooks
from escalated.services import tickets as service
from escalated.services.ratings import ticket_rate
from escalated.signatures import SignatureError, verify
from tests.conftest import World, data_of, gid
from tests.outbox.peers import HttpReceiver

SECRET = "s3cret-s3cret-s3cret"


def _endpoint(url: str, *events: str, secret: str = SECRET) -> Webhook:
    return webhooks.webhook_create(
        actor=SystemActor("test"), url=url, events=list(events), secret=secret
    )


def test_a_reply_calls_the_endpoint_signed_with_the_ticket_as_the_api_shapes_it(
    helpdesk: World, receiver: HttpReceiver, commit: Any, gql: Any
) -> None:
    _endpoint(receiver.url)

    with commit():
        reply = service.ticket_reply(ticket=helpdesk.ticket, author=helpdesk.agent, body="Done")

    [call] = receiver.wait_for(1)
    verify(SECRET, call.body, call.headers["X-Escalated-Signature"])
    body = json.loads(call.body)
    delivery = Delivery.objects.get(kind="webhook")
    assert call.headers["X-Escalated-Event"] == body["event"] == "reply.created"
    assert call.headers["X-Escalated-Delivery"] == body["deliveryId"] == delivery.idempotency_key
    assert call.headers["Content-Type"] == "application/json"
    assert body["actor"] == "Alan Agent"
    assert body["changes"]["after"]["reply_id"] == reply.pk
    assert body["reply"] == {
        "id": gid(reply),
        "body": "Done",
        "isInternalNote": False,
        "createdAt": reply.created_at.isoformat(),
        "author": {"id": gid(helpdesk.agent), "name": "Alan Agent", "email": "alan@example.com"},
    }
    # The same fields, values and ids an admin gets from the API.
    fields = """id reference subject description status priority ticketType channel createdAt
        updatedAt firstResponseAt resolvedAt closedAt requester { id name email }
        assignee { id name email } department { id name slug } tags { id name slug }"""
    query = f'{{ ticket(id: "{gid(helpdesk.ticket)}") {{ {fields} }} }}'
    assert body["ticket"] == data_of(gql(query, user=helpdesk.admin))["ticket"]
    assert body["ticket"]["status"] == "WAITING_ON_CUSTOMER"
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.last_status_code == 200


def test_endpoints_get_only_their_events_and_webhook_url_gets_all(
    helpdesk: World, receiver: HttpReceiver, commit: Any, settings: Any
) -> None:
    _endpoint(receiver.url + "?only=created", "ticket.created")
    settings.ESCALATED = {**settings.ESCALATED, "WEBHOOK_URL": receiver.url + "?all"}

    with commit():
        service.ticket_priority_change(
            ticket=helpdesk.ticket, actor=helpdesk.agent, priority="high"
        )

    [call] = receiver.wait_for(1)
    assert call.path == "/hook?all"
    assert json.loads(call.body)["event"] == "ticket.priority_changed"
    # No WEBHOOK_SECRET: the calls to WEBHOOK_URL go unsigned.
    assert "X-Escalated-Signature" not in call.headers


def test_webhook_url_calls_are_signed_with_webhook_secret(
    helpdesk: World, receiver: HttpReceiver, commit: Any, settings: Any
) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": "another-long-secret",
    }

    with commit():
        service.ticket_note_add(ticket=helpdesk.ticket, author=helpdesk.agent, body="psst")

    [call] = receiver.wait_for(1)
    verify("another-long-secret", call.body, call.headers["X-Escalated-Signature"])
    assert json.loads(call.body)["reply"]["isInternalNote"] is True
    with pytest.raises(SignatureError):
        verify(SECRET, call.body, call.headers["X-Escalated-Signature"])


def test_a_failing_endpoint_is_retried_later_until_it_answers(
    helpdesk: World, receiver: HttpReceiver, commit: Any
) -> None:
    _endpoint(receiver.url)
    receiver.plan = [500, 503]

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at > timezone.now()
    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert outbox.deliver(now=later).retrying == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert outbox.deliver(now=delivery.next_attempt_at).delivered == 1

    calls = receiver.wait_for(3)
    assert len(calls) == 3
    assert len({call.body for call in calls}) == 1, "a retry resends the same body"
    assert len({call.headers["X-Escalated-Delivery"] for call in calls}) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.DELIVERED, "")


def test_redirects_are_not_followed(helpdesk: World, receiver: HttpReceiver, commit: Any) -> None:
    _endpoint(receiver.url)
    receiver.plan = [302]
    receiver.redirect_to = receiver.url + "?followed"

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")

    delivery = Delivery.objects.get()
    assert [call.path for call in receiver.calls] == ["/hook"]
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 302)


def test_a_slow_endpoint_times_out_and_is_retried(
    helpdesk: World, receiver: HttpReceiver, commit: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "WEBHOOK_TIMEOUT_SECONDS": 1}
    _endpoint(receiver.url)
    receiver.delay = 3

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "timed out" in delivery.last_error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_private_addresses_are_refused_unless_allowed(
    helpdesk: World, receiver: HttpReceiver, commit: Any, settings: Any, host: str
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    Webhook.objects.create(url=f"http://{host}:{port}/hook", secret=SECRET)
    settings.ESCALATED = {"WEBHOOK_REQUIRE_HTTPS": False}  # private networks not allowed

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED, "refused for good, not retried"
    assert "private, loopback or link-local" in delivery.last_error
    assert receiver.calls == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://10.0.0.8/hook", "private, loopback or link-local"),
        ("http://169.254.169.254/latest/meta-data", "private, loopback or link-local"),
        ("http://[fe80::1]/hook", "private, loopback or link-local"),
        ("http://[::ffff:127.0.0.1]/hook", "private, loopback or link-local"),
        ("ftp://example.com/hook", "must start with"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("", "Give the endpoint's URL"),
    ],
)
def test_unsafe_urls_are_refused_when_saved(
    helpdesk: World, settings: Any, url: str, problem: str
) -> None:
    settings.ESCALATED = {"WEBHOOK_REQUIRE_HTTPS": False}

    from escalated.errors import DomainError

    with pytest.raises(DomainError) as refused:
        _endpoint(url)

    assert problem in str(refused.value)
    assert not Webhook.objects.exists()


def test_https_is_required_outside_debug(helpdesk: World, settings: Any) -> None:
    from escalated.errors import DomainError

    settings.DEBUG = False
    with pytest.raises(DomainError, match="https://"):
        _endpoint("http://hooks.example.com/in")
    settings.DEBUG = True
    assert _endpoint("http://hooks.example.com/in").pk


def test_a_deactivated_endpoint_gets_nothing_more(
    helpdesk: World, receiver: HttpReceiver, commit: Any
) -> None:
    hook = _endpoint(receiver.url)
    service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Queued")
    webhooks.webhook_update(actor=SystemActor("test"), webhook=hook, is_active=False)

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")
    outbox.drain()

    assert Delivery.objects.get().status == DeliveryStatus.FAILED  # the one queued before
    assert receiver.calls == []


@pytest.fixture
def tls_receiver(
    settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HttpReceiver]:
    """An https receiver on loopback whose certificate (for "localhost") a test CA signed; the
    process trusts that CA as it would a public one."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    settings.ESCALATED = {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True}  # https stays required
    server = HttpReceiver(tls=context, host="localhost")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_https_calls_verify_the_certificate_of_the_host_name(
    helpdesk: World, tls_receiver: HttpReceiver, commit: Any
) -> None:
    _endpoint(tls_receiver.url)

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")

    [call] = tls_receiver.wait_for(1)
    verify(SECRET, call.body, call.headers["X-Escalated-Signature"])
    assert call.headers["Host"] == f"localhost:{tls_receiver.url.split(':')[2].split('/')[0]}"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_certificate_for_another_name_is_refused(
    helpdesk: World, tls_receiver: HttpReceiver, commit: Any
) -> None:
    _endpoint(tls_receiver.url.replace("localhost", "127.0.0.1"))

    with commit():
        service.ticket_update(ticket=helpdesk.ticket, actor=helpdesk.agent, subject="Renamed")

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert tls_receiver.calls == []


def test_a_rating_is_announced_to_endpoints(
    helpdesk: World, receiver: HttpReceiver, commit: Any
) -> None:
    service.ticket_resolve(ticket=helpdesk.ticket, actor=helpdesk.agent)
    _endpoint(receiver.url, "ticket.rated")

    with commit():
        ticket_rate(ticket=helpdesk.ticket, actor=helpdesk.customer, rating=5, comment="Great")

    [call] = receiver.wait_for(1)
    body = json.loads(call.body)
    assert body["event"] == "ticket.rated"
    assert body["changes"]["after"] == {"rating": 5, "commented": True}


def test_a_reply_that_moves_the_status_is_also_a_status_change(
    helpdesk: World, receiver: HttpReceiver, commit: Any
) -> None:
    _endpoint(receiver.url, "ticket.status_changed")

    with commit():  # the customer answers: waiting_on_customer -> waiting_on_agent
        service.ticket_reply(ticket=helpdesk.ticket, author=helpdesk.customer, body="Here")

    [call] = receiver.wait_for(1)
    body = json.loads(call.body)
    assert body["event"] == "ticket.status_changed"
    assert body["changes"]["after"]["status"] == "waiting_on_agent"
