"""Deleting a department or a tag never changes tickets behind the timeline's back."""

from __future__ import annotations

from typing import Any

import pytest

from escalated import signals
from escalated.errors import NotAllowed
from escalated.models import Department, Tag, TicketActivity
from escalated.services import organisation, tickets
from tests.conftest import World, data_of, gid


def test_a_department_with_tickets_is_not_deleted(world: World, gql: Any) -> None:
    result = gql(
        """mutation($input: DepartmentDeleteInput!) { departmentDelete(input: $input) {
            deletedId errors { field code message } } }""",
        {"input": {"id": gid(world.billing)}},
        user=world.admin,
    )

    [error] = data_of(result)["departmentDelete"]["errors"]
    assert (error["field"], error["code"]) == ("id", "IN_USE")
    assert "1 ticket is in 'Billing'" in error["message"]
    world.ticket.refresh_from_db()
    assert world.ticket.department == world.billing
    # An agent of another department still cannot see the ticket.
    assert data_of(gql("{ tickets(first: 5) { totalCount } }", user=world.outsider)) == {
        "tickets": {"totalCount": 0}
    }


def test_an_empty_department_is_deleted(world: World) -> None:
    organisation.department_delete(actor=world.admin, department=world.sales)

    assert not Department.objects.filter(pk=world.sales.pk).exists()


def test_deleting_a_tag_takes_it_off_each_ticket_on_the_record(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    tickets.ticket_tags_add(ticket=world.ticket, actor=world.agent, tags=[world.urgent])
    removed: list[Any] = []

    def heard(sender: Any, **kwargs: Any) -> None:
        removed.append((kwargs["ticket"].pk, kwargs["tag"].slug))

    signals.tag_removed.connect(heard)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            organisation.tag_delete(actor=world.admin, tag=world.urgent)
    finally:
        signals.tag_removed.disconnect(heard)

    assert not Tag.objects.filter(slug="urgent").exists()
    assert removed == [(world.ticket.pk, "urgent")]
    row = TicketActivity.objects.filter(ticket=world.ticket).latest("id")
    assert (row.verb, row.before) == ("tags_changed", {"tags_removed": ["urgent"]})


def test_only_admins_delete(world: World) -> None:
    with pytest.raises(NotAllowed):
        organisation.tag_delete(actor=world.agent, tag=world.urgent)
    with pytest.raises(NotAllowed):
        organisation.department_delete(actor=world.agent, department=world.sales)

    assert Tag.objects.filter(pk=world.urgent.pk).exists()
    assert Department.objects.filter(pk=world.sales.pk).exists()
