"""Macros: managed by their owners, applied to one or many tickets through the services, all of
a macro's actions or none on each ticket, as one activity row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated import signals
from escalated.models import Department, Macro, Reply, Status, Tag, Ticket, TicketActivity
from escalated.services import macros, tickets
from tests.conftest import World, data_of, gid, make_user
from tests.test_ticket_lifecycle import ALL_SIGNALS, Received

CREATE = """mutation($input: MacroCreateInput!) { macroCreate(input: $input) {
    macro { id name isShared owner { name } actions { type status priority departmentId assigneeId
            tagIds body } }
    errors { field code message } } }"""
UPDATE = """mutation($input: MacroUpdateInput!) { macroUpdate(input: $input) {
    macro { name isShared owner { name } actions { type priority } } errors { field code } } }"""
DELETE = """mutation($input: MacroDeleteInput!) { macroDelete(input: $input) {
    deletedId errors { code } } }"""
APPLY = """mutation($input: MacroApplyInput!) { macroApply(input: $input) {
    results { ticketId ticket { status priority } errors { field code message } }
    errors { field code message } } }"""


@pytest.fixture
def received() -> Iterator[Received]:
    listener = Received().listen(*ALL_SIGNALS)
    yield listener
    for name in ALL_SIGNALS:
        getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


def _macro(world: World, *actions: macros.MacroAction, name: str = "Macro") -> Macro:
    return macros.macro_create(actor=world.admin, name=name, actions=list(actions))


def _apply(gql: Any, user: Any, macro: Macro, *targets: Any) -> dict[str, Any]:
    variables = {"input": {"macroId": gid(macro), "ticketIds": [gid(t) for t in targets]}}
    return data_of(gql(APPLY, variables, user=user))["macroApply"]


# --- managing ---------------------------------------------------------------------------------


def test_a_macro_with_every_kind_of_action_round_trips(world: World, gql: Any) -> None:
    vip = Tag.objects.create(name="VIP", slug="vip")
    actions = [
        {"type": "SET_STATUS", "status": "IN_PROGRESS"},
        {"type": "SET_PRIORITY", "priority": "HIGH"},
        {"type": "SET_DEPARTMENT", "departmentId": gid(world.sales)},
        {"type": "SET_ASSIGNEE", "assigneeId": gid(world.outsider)},
        {"type": "SET_ASSIGNEE", "assigneeId": None},
        {"type": "ASSIGN_TO_SELF"},
        {"type": "ADD_TAGS", "tagIds": [gid(world.urgent), gid(vip)]},
        {"type": "REMOVE_TAGS", "tagIds": [gid(vip)]},
        {"type": "ADD_REPLY", "body": "Hi {{ requester.first_name }}"},
        {"type": "ADD_NOTE", "body": "Checked"},
    ]

    result = data_of(
        gql(CREATE, {"input": {"name": "Everything", "actions": actions}}, user=world.admin)
    )

    macro = result["macroCreate"]["macro"]
    assert result["macroCreate"]["errors"] == []
    assert macro["isShared"] is True and macro["owner"] is None
    empty = {
        "status": None,
        "priority": None,
        "departmentId": None,
        "assigneeId": None,
        "tagIds": [],
        "body": None,
    }
    assert macro["actions"] == [{**empty, **action} for action in actions]


def test_a_macro_definition_is_checked_whole(world: World, gql: Any) -> None:
    closed = Department.objects.create(name="Closed", slug="closed", is_active=False)
    actions = [
        {"type": "ADD_TAGS"},
        {"type": "ADD_REPLY", "body": "   "},
        {"type": "SET_DEPARTMENT", "departmentId": gid(closed)},
        {"type": "SET_ASSIGNEE", "assigneeId": gid(world.customer)},
    ]

    result = data_of(gql(CREATE, {"input": {"name": "", "actions": actions}}, user=world.admin))

    errors = {(e["field"], e["code"]) for e in result["macroCreate"]["errors"]}
    assert errors == {
        ("name", "REQUIRED"),
        ("actions.0.tagIds", "REQUIRED"),
        ("actions.1.body", "REQUIRED"),
    }
    # References are checked once the shape is right.
    result = data_of(
        gql(CREATE, {"input": {"name": "Refs", "actions": actions[2:]}}, user=world.admin)
    )
    errors = {(e["field"], e["code"]) for e in result["macroCreate"]["errors"]}
    assert errors == {
        ("actions.0.departmentId", "INACTIVE"),
        ("actions.1.assigneeId", "INVALID_ASSIGNEE"),
    }
    assert not Macro.objects.exists()


def test_an_unknown_id_in_an_action_is_not_found(world: World, gql: Any) -> None:
    actions = [{"type": "ADD_TAGS", "tagIds": [gid(world.billing)]}]

    result = data_of(gql(CREATE, {"input": {"name": "Bad", "actions": actions}}, user=world.admin))

    assert [(e["field"], e["code"]) for e in result["macroCreate"]["errors"]] == [
        ("actions.0.tagIds", "NOT_FOUND")
    ]


def test_a_macro_needs_an_action(world: World, gql: Any) -> None:
    result = data_of(gql(CREATE, {"input": {"name": "Empty"}}, user=world.admin))

    assert [(e["field"], e["code"]) for e in result["macroCreate"]["errors"]] == [
        ("actions", "REQUIRED")
    ]


def test_agents_keep_personal_macros_and_can_share_them_only_through_an_admin(
    world: World, gql: Any
) -> None:
    mine = {"name": "Mine", "isShared": False, "actions": [{"type": "ASSIGN_TO_SELF"}]}
    created = data_of(gql(CREATE, {"input": mine}, user=world.agent))["macroCreate"]["macro"]
    assert created["owner"] == {"name": "Alan Agent"}

    renamed = data_of(
        gql(UPDATE, {"input": {"id": created["id"], "name": "Take it"}}, user=world.agent)
    )
    shared = gql(UPDATE, {"input": {"id": created["id"], "isShared": True}}, user=world.agent)

    assert renamed["macroUpdate"]["macro"]["name"] == "Take it"
    assert shared["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert Macro.objects.get().is_shared is False


def test_update_replaces_the_actions_and_delete_removes_the_macro(world: World, gql: Any) -> None:
    macro = _macro(world, macros.MacroAction(type="set_priority", priority="low"))
    actions = [{"type": "SET_PRIORITY", "priority": "URGENT"}, {"type": "ASSIGN_TO_SELF"}]

    updated = data_of(
        gql(UPDATE, {"input": {"id": gid(macro), "actions": actions}}, user=world.admin)
    )
    deleted = data_of(gql(DELETE, {"input": {"id": gid(macro)}}, user=world.admin))

    assert updated["macroUpdate"]["macro"]["actions"] == [
        {"type": "SET_PRIORITY", "priority": "URGENT"},
        {"type": "ASSIGN_TO_SELF", "priority": None},
    ]
    assert deleted["macroDelete"] == {"deletedId": gid(macro), "errors": []}
    assert not Macro.objects.exists()


LIST = """{ macros(first: 50) { totalCount edges { node {
    name owner { name } actions { type departmentId tagIds } } } } }"""


@pytest.mark.parametrize("size", [3, 30])
def test_listing_macros_costs_the_same_at_any_size(world: World, gql: Any, size: int) -> None:
    for n in range(size):
        personal = n % 2 == 0
        macros.macro_create(
            actor=world.agent if personal else world.admin,
            name=f"M{n:02}",
            is_shared=not personal,
            actions=[
                macros.MacroAction(type="add_tags", tag_ids=(world.urgent.pk,)),
                macros.MacroAction(type="set_department", department_id=world.billing.pk),
            ],
        )
    gql.client.force_login(world.agent)

    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(gql.url, {"query": LIST}, content_type="application/json")

    assert data_of(response.json())["macros"]["totalCount"] == size
    # Session, user, the agent's departments (the role); the page with its total; the owners.
    assert len(queries) == 5


# --- applying ---------------------------------------------------------------------------------


def test_a_macro_runs_every_action_through_the_services_as_one_activity_row(
    world: World, gql: Any, received: Received, django_capture_on_commit_callbacks: Any
) -> None:
    vip = Tag.objects.create(name="VIP", slug="vip")
    tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[vip])
    macro = _macro(
        world,
        macros.MacroAction(type="set_priority", priority="urgent"),
        macros.MacroAction(type="assign_to_self"),
        macros.MacroAction(type="add_tags", tag_ids=(world.urgent.pk,)),
        macros.MacroAction(type="remove_tags", tag_ids=(vip.pk,)),
        macros.MacroAction(type="add_note", body="Escalating {{ ticket.reference }}"),
        macros.MacroAction(type="add_reply", body="<p>Hi {{ requester.first_name }}, on it.</p>"),
        macros.MacroAction(type="set_status", status="escalated"),
        name="Escalate",
    )
    before = TicketActivity.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        result = _apply(gql, world.agent, macro, world.ticket)

    assert result["results"][0]["errors"] == []
    assert result["results"][0]["ticket"] == {"status": "ESCALATED", "priority": "URGENT"}
    ticket = Ticket.objects.get(pk=world.ticket.pk)
    assert ticket.assignee == world.agent
    assert list(ticket.tags.values_list("slug", flat=True)) == ["urgent"]
    note, reply = Reply.objects.filter(ticket=ticket).order_by("-id")[:2][::-1]
    assert (note.is_internal_note, note.body) == (True, "Escalating ESC-00001")
    assert (reply.is_internal_note, reply.body) == (False, "<p>Hi Cora, on it.</p>")
    assert TicketActivity.objects.count() == before + 1
    row = TicketActivity.objects.latest("id")
    assert row.verb == "macro_applied" and row.actor == world.agent
    assert row.after["macro"] == {"id": macro.pk, "name": "Escalate"}
    assert row.after["priority"] == "urgent" and row.after["status"] == "escalated"
    assert row.before["priority"] == "medium"
    assert {
        "ticket_priority_changed",
        "ticket_assigned",
        "tag_added",
        "tag_removed",
        "internal_note_added",
        "reply_created",
        "ticket_escalated",
    } <= set(received.names())


def test_one_refused_action_rolls_back_the_whole_macro(
    world: World, gql: Any, received: Received, django_capture_on_commit_callbacks: Any
) -> None:
    macro = _macro(
        world,
        macros.MacroAction(type="set_priority", priority="high"),
        macros.MacroAction(type="add_note", body="Done"),
        macros.MacroAction(type="add_reply", body="Fixed"),
        # A reply leaves the ticket waiting on the customer, from where it cannot be reopened.
        macros.MacroAction(type="set_status", status="reopened"),
    )
    replies, activity = Reply.objects.count(), TicketActivity.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        result = _apply(gql, world.agent, macro, world.ticket)

    (only,) = result["results"]
    assert only["ticket"] is None
    assert [(e["field"], e["code"]) for e in only["errors"]] == [("status", "INVALID_TRANSITION")]
    world.ticket.refresh_from_db()
    assert (world.ticket.priority, world.ticket.status) == ("medium", Status.WAITING_ON_CUSTOMER)
    assert (Reply.objects.count(), TicketActivity.objects.count()) == (replies, activity)
    assert received.calls == [], "nothing is announced for a rolled-back macro"


def test_applied_to_many_tickets_each_succeeds_or_fails_on_its_own(world: World, gql: Any) -> None:
    closed = tickets.ticket_create(actor=world.customer, subject="Old", department=world.billing)
    tickets.ticket_close(ticket=closed, actor=world.agent)
    fresh = tickets.ticket_create(actor=world.customer, subject="New", department=world.billing)
    macro = _macro(
        world,
        macros.MacroAction(type="set_priority", priority="low"),
        macros.MacroAction(type="add_reply", body="Thanks!"),
    )

    result = _apply(gql, world.agent, macro, world.ticket, closed, fresh)

    assert [[e["code"] for e in r["errors"]] for r in result["results"]] == [
        [],
        ["TICKET_CLOSED"],
        [],
    ]
    assert list(Ticket.objects.filter(priority="low").order_by("pk")) == [world.ticket, fresh]


def test_a_macro_whose_department_was_deleted_is_refused_before_any_ticket(
    world: World, gql: Any
) -> None:
    doomed = Department.objects.create(name="Doomed", slug="doomed")
    macro = _macro(
        world,
        macros.MacroAction(type="set_priority", priority="low"),
        macros.MacroAction(type="set_department", department_id=doomed.pk),
    )
    doomed.delete()

    result = _apply(gql, world.agent, macro, world.ticket)

    assert result["results"] == []
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("actions.1.departmentId", "NOT_FOUND")
    ]
    world.ticket.refresh_from_db()
    assert world.ticket.priority == "medium"


def test_a_macro_can_move_a_ticket_out_of_the_agents_department_and_keep_going(
    world: World, gql: Any
) -> None:
    macro = _macro(
        world,
        macros.MacroAction(type="set_department", department_id=world.sales.pk),
        macros.MacroAction(type="add_note", body="Handed to sales"),
        macros.MacroAction(type="set_assignee", assignee_id=world.outsider.pk),
    )

    result = _apply(gql, world.agent, macro, world.ticket)

    assert result["results"][0]["errors"] == []
    world.ticket.refresh_from_db()
    assert (world.ticket.department, world.ticket.assignee) == (world.sales, world.outsider)


def test_customers_cannot_apply_macros_and_agents_only_see_their_own_and_shared(
    world: World, gql: Any
) -> None:
    somebody = make_user("sam")
    world.billing.agents.add(somebody)
    theirs = macros.macro_create(
        actor=somebody,
        name="Theirs",
        is_shared=False,
        actions=[macros.MacroAction(type="set_priority", priority="low")],
    )

    as_customer = gql(
        APPLY,
        {"input": {"macroId": gid(theirs), "ticketIds": [gid(world.ticket)]}},
        user=world.customer,
    )
    as_agent = _apply(gql, world.agent, theirs, world.ticket)

    assert as_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [(e["field"], e["code"]) for e in as_agent["errors"]] == [("macroId", "NOT_FOUND")]
