"""The export of a self-hosted site to the hub, site side: what goes on the wire, in which
order, with which ids, and what the command does when the hub refuses or is not there. (The
hub's side, with two real instances: test_export_instances.py.)"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from escalated.access import SystemActor
from escalated.hosted import export
from escalated.models import Department, Tag, Ticket
from escalated.services import guests
from escalated.services import tickets as service
from tests.conftest import make_user
from tests.files import pdf, png, upload
from tests.outbox.peers import HttpReceiver

KEY = "esk_site_key"


def _bodies(receiver: HttpReceiver) -> list[dict[str, Any]]:
    return [json.loads(call.body) for call in receiver.calls]


def _history(db: Any) -> Ticket:
    """A ticket with a reply each way, a note, a priority and tag change, a resolve and a
    customer reply that reopened it."""
    billing = Department.objects.create(name="Billing", slug="billing")
    agent = make_user("alan", first="Alan", last="Agent")
    billing.agents.add(agent)
    customer = make_user("cora", first="Cora", last="Customer")
    vip, old = (
        Tag.objects.create(name="VIP", slug="vip"),
        Tag.objects.create(name="Old", slug="old"),
    )
    ticket = service.ticket_create(actor=customer, subject="Broken", department=billing)
    service.ticket_reply(ticket=ticket, author=agent, body="Looking")
    service.ticket_note_add(ticket=ticket, author=agent, body="Internal only")
    service.ticket_priority_change(ticket=ticket, actor=agent, priority="high")
    service.ticket_tags_add(ticket=ticket, actor=agent, tags=[vip, old])
    service.ticket_tags_remove(ticket=ticket, actor=agent, tags=[old])
    service.ticket_resolve(ticket=ticket, actor=agent)
    service.ticket_reply(ticket=ticket, author=customer, body="Still broken")
    return Ticket.objects.get(pk=ticket.pk)


def test_a_ticket_goes_as_created_then_its_history_in_order_then_its_state(
    receiver: HttpReceiver, db: Any
) -> None:
    ticket = _history(db)

    call_command("escalated_export_to_hub")

    bodies = _bodies(receiver)
    assert [b["event"] for b in bodies] == [
        "ticket.created",
        "reply.created",
        "note.created",
        "ticket.status_changed",
        "reply.created",
        "ticket.updated",
    ]
    assert all(set(b) == {"event", "payload", "event_id", "timestamp"} for b in bodies)
    assert all(b["payload"]["ticket_reference"] == ticket.reference for b in bodies)
    assert all("sequence" not in b["payload"] for b in bodies), "the hub numbers them"
    created, agent_reply, note, resolved, customer_reply, state = bodies
    assert created["payload"]["ticket"]["status"] == "open"
    assert created["payload"]["ticket"]["requester"]["email"] == "cora@example.com"
    assert agent_reply["payload"]["reply"] == {"body": "Looking", "internal": False}
    assert agent_reply["payload"]["changed"] == ["status"]
    assert agent_reply["payload"]["ticket"]["status"] == "waiting_on_customer"
    assert agent_reply["payload"]["actor"]["staff"] is True
    assert note["payload"]["reply"] == {"body": "Internal only", "internal": True}
    assert note["payload"]["changed"] == []
    assert resolved["payload"]["ticket"]["status"] == "resolved"
    assert customer_reply["payload"]["actor"]["staff"] is False
    assert customer_reply["payload"]["ticket"]["status"] == "reopened"
    assert state["payload"]["changed"] == ["subject", "status", "priority"]
    assert state["payload"]["ticket"]["priority"] == "high"
    assert state["payload"]["tags_added"] == [{"slug": "vip", "name": "VIP"}]
    assert [t["slug"] for t in state["payload"]["tags_removed"]] == ["old"]
    stamps = [b["timestamp"] for b in bodies]
    assert stamps == sorted(stamps)
    call = receiver.calls[0]
    assert call.path == "/hook/events"
    assert call.headers["Authorization"] == f"Bearer {KEY}"
    assert call.headers["X-Escalated-Event"] == "ticket.created"


def test_a_second_run_sends_the_same_event_ids_and_a_changed_ticket_only_adds_new_ones(
    receiver: HttpReceiver, db: Any
) -> None:
    ticket = _history(db)
    call_command("escalated_export_to_hub")
    first = [b["event_id"] for b in _bodies(receiver)]
    receiver.calls.clear()

    call_command("escalated_export_to_hub")
    assert [b["event_id"] for b in _bodies(receiver)] == first
    assert len(set(first)) == len(first)
    receiver.calls.clear()

    agent = make_user("alan2")
    Department.objects.get(slug="billing").agents.add(agent)
    service.ticket_reply(ticket=ticket, author=agent, body="Fixed now")
    call_command("escalated_export_to_hub")
    again = [b["event_id"] for b in _bodies(receiver)]
    assert again[:-2] == first[:-1], "the history before the new reply keeps its ids"
    assert again[-2] not in first and again[-1] not in first, "a new reply and a new state"


def test_a_guest_ticket_and_its_guest_reply_name_the_same_person(
    receiver: HttpReceiver, settings: Any, db: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    department = Department.objects.create(name="Help", slug="help")
    ticket, token = guests.guest_ticket_create(
        name="Gail Guest", email="gail@example.com", subject="Hello", department=department
    )
    actor = guests.guest_authenticate(token)
    service.ticket_reply(ticket=ticket, author=actor, body="More detail")

    call_command("escalated_export_to_hub")

    created, reply, _state = _bodies(receiver)
    assert created["payload"]["ticket"]["requester"]["id"] == "guest:gail@example.com"
    assert reply["payload"]["actor"] == {
        "id": "guest:gail@example.com",
        "name": "guest:gail@example.com",
        "staff": False,
    }


def test_a_dry_run_sends_nothing_and_says_what_it_would(
    receiver: HttpReceiver, db: Any, capsys: Any
) -> None:
    _history(db)

    call_command("escalated_export_to_hub", "--dry-run")

    assert receiver.calls == []
    assert "would send 6 events of 1 tickets" in capsys.readouterr().out


def test_a_refused_key_stops_the_run_at_the_first_event(receiver: HttpReceiver, db: Any) -> None:
    _history(db)
    receiver.plan = [401]

    with pytest.raises(CommandError, match="refused the site key") as refused:
        call_command("escalated_export_to_hub")

    assert refused.value.returncode == 2
    assert len(receiver.calls) == 1


def test_an_address_where_no_hub_answers_stops_the_run(receiver: HttpReceiver, db: Any) -> None:
    _history(db)
    receiver.plan = [404]

    with pytest.raises(CommandError, match="No hub answers at") as stopped:
        call_command("escalated_export_to_hub")

    assert stopped.value.returncode == 2
    assert len(receiver.calls) == 1


def test_an_event_the_hub_refuses_leaves_out_the_rest_of_its_ticket_only(
    receiver: HttpReceiver, db: Any, capsys: Any
) -> None:
    first = _history(db)
    second = service.ticket_create(
        actor=make_user("dan"), subject="Other", department=Department.objects.get(slug="billing")
    )
    receiver.plan = [200, 422]  # the first ticket's first reply

    with pytest.raises(CommandError, match="1 tickets were not fully exported") as failed:
        call_command("escalated_export_to_hub")

    assert failed.value.returncode == 1
    sent = [(b["payload"]["ticket_reference"], b["event"]) for b in _bodies(receiver)]
    assert sent == [
        (first.reference, "ticket.created"),
        (first.reference, "reply.created"),
        (second.reference, "ticket.created"),
        (second.reference, "ticket.updated"),
    ]
    captured = capsys.readouterr()
    assert "1 exported, 0 already present, 1 failed" in captured.out
    assert f"{first.reference}: HTTP 422" in captured.err


def test_a_busy_hub_is_asked_again_with_the_same_bytes(receiver: HttpReceiver, db: Any) -> None:
    service.ticket_create(actor=make_user("cora"), subject="Once")
    receiver.plan = [503, 429]
    hub = export.Hub(url=f"{receiver.url}/events", key=KEY, sleep=lambda seconds: None)

    report = export.export(hub)

    assert (report.exported, report.applied, report.failed) == (1, 2, {})
    assert [call.body for call in receiver.calls[:3]] == [receiver.calls[0].body] * 3


def test_an_unreachable_hub_stops_the_run_with_a_clear_error(settings: Any, db: Any) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.ESCALATED = {
        **settings.ESCALATED,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    service.ticket_create(actor=SystemActor("t"), subject="Lonely", requester=make_user("cora"))

    with pytest.raises(CommandError, match=r"unreachable.*run the command again") as stopped:
        call_command(
            "escalated_export_to_hub",
            f"--url=http://127.0.0.1:{port}/hub",
            "--key=esk_x",
            "--retries=0",
        )
    assert stopped.value.returncode == 2


def test_a_synced_site_or_a_missing_key_is_refused_before_anything_is_sent(
    receiver: HttpReceiver, settings: Any, db: Any
) -> None:
    _history(db)
    settings.ESCALATED = {**settings.ESCALATED, "MODE": "synced"}
    with pytest.raises(CommandError, match="synced mode"):
        call_command("escalated_export_to_hub")
    settings.ESCALATED = {**settings.ESCALATED, "MODE": "self_hosted", "HOSTED_API_KEY": None}
    with pytest.raises(CommandError, match="HOSTED_API_KEY"):
        call_command("escalated_export_to_hub")
    assert receiver.calls == []


def test_attachments_travel_by_name_only(receiver: HttpReceiver, file_store: Any, db: Any) -> None:
    customer = make_user("cora")
    ticket = service.ticket_create(
        actor=customer, subject="Photo", attachments=[upload("shot.png", png(), "image/png")]
    )
    service.ticket_reply(
        ticket=ticket, author=customer, body="And the bill", attachments=[upload("bill.pdf", pdf())]
    )

    call_command("escalated_export_to_hub")

    created, reply, _state = _bodies(receiver)
    assert created["payload"]["changes"]["after"]["attachments"] == ["shot.png"]
    assert reply["payload"]["changes"]["after"]["attachments"] == ["bill.pdf"]


def test_a_ticket_still_out_of_order_after_the_retries_fails_alone(
    receiver: HttpReceiver, db: Any
) -> None:
    first = service.ticket_create(actor=make_user("cora"), subject="One")
    second = service.ticket_create(actor=make_user("dan"), subject="Two")
    receiver.plan = [409, 409]
    hub = export.Hub(url=f"{receiver.url}/events", key=KEY, retries=1, sleep=lambda s: None)

    report = export.export(hub)

    assert list(report.failed) == [first.reference]
    assert (report.exported, report.applied, report.aborted) == (1, 2, "")
    sent = [json.loads(call.body)["payload"]["ticket_reference"] for call in receiver.calls]
    assert sent == [first.reference, first.reference, second.reference, second.reference]


def test_reading_the_tickets_takes_the_same_statements_for_three_tickets_or_nine(
    receiver: HttpReceiver, db: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            report = export.export(None)
        assert report.events > 0
        return len(captured.captured_queries)

    _history(db)
    customer = make_user("dora")
    for n in range(2):
        service.ticket_create(actor=customer, subject=f"More {n}")
    few = statements()
    for n in range(6):
        ticket = service.ticket_create(actor=customer, subject=f"Many {n}")
        service.ticket_reply(ticket=ticket, author=customer, body="hello")
    assert statements() == few


def test_an_export_only_reads_the_sites_database(receiver: HttpReceiver, db: Any) -> None:
    """So it can run on a site already switched to cloud mode, where nothing of the helpdesk's
    tables may be written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _history(db)
    with CaptureQueriesContext(connection) as captured:
        call_command("escalated_export_to_hub")

    assert len(receiver.calls) == 6
    # A UNION (the role's permissions) starts with "(SELECT" on PostgreSQL.
    verbs = {query["sql"].lstrip("(").split()[0].upper() for query in captured.captured_queries}
    assert verbs == {"SELECT"}, verbs


def test_a_stopped_run_names_where_the_next_may_start_and_after_skips_up_to_there(
    receiver: HttpReceiver, db: Any
) -> None:
    first = _history(db)
    second = service.ticket_create(actor=make_user("dan"), subject="Second")
    receiver.plan = [200] * 6 + [503]  # the hub goes away at the second ticket

    with pytest.raises(CommandError, match=f"with --after {first.reference} to skip"):
        call_command("escalated_export_to_hub", "--retries=0")
    receiver.calls.clear()

    call_command("escalated_export_to_hub", "--after", first.reference)

    sent = {json.loads(call.body)["payload"]["ticket_reference"] for call in receiver.calls}
    assert sent == {second.reference}
    with pytest.raises(CommandError, match="no ticket ESC-99999"):
        call_command("escalated_export_to_hub", "--after", "ESC-99999")
