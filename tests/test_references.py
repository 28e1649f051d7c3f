"""Ticket references: sequential, configurable, and unique under concurrent creation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connections, transaction
from django.test import override_settings

from escalated.models import Ticket
from escalated.services import tickets
from tests.conftest import World, make_user


def test_references_are_sequential(world: World) -> None:
    second = tickets.ticket_create(actor=world.customer, subject="Second")
    third = tickets.ticket_create(actor=world.customer, subject="Third")

    assert [world.ticket.reference, second.reference, third.reference] == [
        "ESC-00001",
        "ESC-00002",
        "ESC-00003",
    ]


@override_settings(ESCALATED={"REFERENCE_PREFIX": "HELP", "REFERENCE_DIGITS": 3})
def test_prefix_and_width_are_configurable(world: World) -> None:
    ticket = tickets.ticket_create(actor=world.customer, subject="Second")

    assert ticket.reference == "HELP-002"


def test_a_failed_create_gives_its_number_back(world: World) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.ticket_create(actor=world.customer, subject="Rolled back")
        raise RuntimeError("the caller's transaction fails after the create")

    assert tickets.ticket_create(actor=world.customer, subject="ok").reference == "ESC-00002"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_get_distinct_references(on_postgres: None) -> None:
    customers = [make_user(f"parallel{n}") for n in range(8)]
    per_thread = 10
    errors: list[BaseException] = []
    start = threading.Barrier(len(customers))

    def create_many(customer: Any) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                tickets.ticket_create(actor=customer, subject=f"Parallel {n}")
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connections.close_all()

    threads = [threading.Thread(target=create_many, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    references = list(Ticket.objects.values_list("reference", flat=True))
    total = len(customers) * per_thread
    assert len(references) == total
    assert sorted(references) == [f"ESC-{n:05d}" for n in range(1, total + 1)]
