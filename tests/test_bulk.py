"""ticketsBulkUpdate: each ticket succeeds or is refused on its own, with its own result, and
each changed ticket gets one activity row."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from escalated.models import Status, Tag, Ticket, TicketActivity
from escalated.services import tickets
from tests.conftest import World, data_of, gid

BULK = """mutation($input: TicketsBulkUpdateInput!) { ticketsBulkUpdate(input: $input) {
    results { ticketId ticket { reference status priority department { name }
              assignee { name } tags { slug } } errors { field code message } }
    errors { field code } } }"""


def _ticket(world: World, subject: str, **kwargs: Any) -> Ticket:
    return tickets.ticket_create(actor=world.customer, subject=subject, **kwargs)


def _bulk(gql: Any, user: Any, **input: Any) -> dict[str, Any]:
    return data_of(gql(BULK, {"input": input}, user=user))["ticketsBulkUpdate"]


def test_each_ticket_is_answered_in_order_some_refused_some_changed(world: World, gql: Any) -> None:
    closed = _ticket(world, "Old one", department=world.billing)
    tickets.ticket_close(ticket=closed, actor=world.agent)
    hidden = _ticket(world, "Sales only", department=world.sales)
    fresh = _ticket(world, "New one", department=world.billing)
    before = TicketActivity.objects.count()

    result = _bulk(
        gql,
        world.agent,
        ticketIds=[gid(world.ticket), gid(closed), gid(hidden), gid(world.urgent), gid(fresh)],
        status="IN_PROGRESS",
        priority="HIGH",
        addTagIds=[gid(world.urgent)],
    )

    outcome = [(r["ticketId"], [e["code"] for e in r["errors"]]) for r in result["results"]]
    assert outcome == [
        (gid(world.ticket), []),
        (gid(closed), ["INVALID_TRANSITION"]),
        (gid(hidden), ["NOT_FOUND"]),
        (gid(world.urgent), ["NOT_FOUND"]),
        (gid(fresh), []),
    ]
    assert result["results"][0]["ticket"]["status"] == "IN_PROGRESS"
    assert result["results"][0]["ticket"]["tags"] == [{"slug": "urgent"}]
    assert result["results"][1]["ticket"] is None
    closed.refresh_from_db()
    assert (closed.status, closed.priority) == (Status.CLOSED, "medium")
    assert list(closed.tags.all()) == [], "a refused ticket keeps everything as it was"
    assert TicketActivity.objects.count() == before + 2
    assert set(
        TicketActivity.objects.filter(verb="bulk_updated").values_list("ticket", flat=True)
    ) == {
        world.ticket.pk,
        fresh.pk,
    }


def test_an_assignee_who_cannot_take_one_ticket_is_refused_for_that_ticket_only(
    world: World, gql: Any
) -> None:
    in_sales = _ticket(world, "Discount", department=world.sales)

    result = _bulk(
        gql,
        world.admin,
        ticketIds=[gid(world.ticket), gid(in_sales)],
        assigneeId=gid(world.outsider),
    )

    assert [[e["code"] for e in r["errors"]] for r in result["results"]] == [
        ["INVALID_ASSIGNEE"],
        [],
    ]
    assert result["results"][1]["ticket"]["assignee"] == {"name": "Olga Outsider"}


def test_an_agent_hands_a_ticket_to_another_department_in_one_update(
    world: World, gql: Any
) -> None:
    result = _bulk(
        gql,
        world.agent,
        ticketIds=[gid(world.ticket)],
        departmentId=gid(world.sales),
        assigneeId=gid(world.outsider),
        priority="URGENT",
        removeTagIds=[],
    )

    (only,) = result["results"]
    assert only["errors"] == []
    world.ticket.refresh_from_db()
    assert (world.ticket.department, world.ticket.assignee, world.ticket.priority) == (
        world.sales,
        world.outsider,
        "urgent",
    )
    row = TicketActivity.objects.filter(ticket=world.ticket).latest("id")
    assert row.verb == "bulk_updated"
    assert row.after["department"] == {"id": world.sales.pk, "name": "Sales"}
    assert row.after["assignee"]["name"] == "Olga Outsider"
    assert row.after["priority"] == "urgent"


def test_close_and_tags_in_bulk(world: World, gql: Any) -> None:
    vip = Tag.objects.create(name="VIP", slug="vip")
    tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[world.urgent])

    result = _bulk(
        gql,
        world.agent,
        ticketIds=[gid(world.ticket)],
        close=True,
        addTagIds=[gid(vip)],
        removeTagIds=[gid(world.urgent)],
    )

    ticket = result["results"][0]["ticket"]
    assert ticket["status"] == "CLOSED" and ticket["tags"] == [{"slug": "vip"}]


def test_close_with_another_status_is_refused_before_anything_changes(
    world: World, gql: Any
) -> None:
    result = _bulk(
        gql, world.agent, ticketIds=[gid(world.ticket)], close=True, status="IN_PROGRESS"
    )

    assert result == {"results": [], "errors": [{"field": "close", "code": "INVALID"}]}
    world.ticket.refresh_from_db()
    assert world.ticket.status == Status.WAITING_ON_CUSTOMER


@override_settings(ESCALATED={"MAX_PAGE_SIZE": 2})
def test_at_most_a_page_of_tickets_at_a_time(world: World, gql: Any) -> None:
    more = [_ticket(world, f"T{n}", department=world.billing) for n in range(2)]

    result = _bulk(gql, world.agent, ticketIds=[gid(world.ticket), *map(gid, more)], priority="LOW")

    assert result["errors"] == [{"field": "ticketIds", "code": "INVALID"}]
    assert not Ticket.objects.filter(priority="low").exists()


def test_nothing_to_change_is_an_error(world: World, gql: Any) -> None:
    result = _bulk(gql, world.agent, ticketIds=[gid(world.ticket)])

    assert result["errors"] == [{"field": None, "code": "REQUIRED"}]
