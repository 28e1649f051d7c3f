"""Purging old activity keeps what SLA clocks are replayed from."""

from __future__ import annotations

from io import StringIO

import time_machine
from django.core.management import call_command

from escalated.services import sla_check, tickets
from tests.conftest import World
from tests.sla.conftest import HOUR, clocks, make_policy, targets


def _snapshot(ticket: object) -> dict[str, tuple[object, ...]]:
    rows = clocks(ticket, current=False)  # type: ignore[arg-type]
    return {key: (c.due_at, c.met_at, c.breached_at) for key, c in rows.items()}


def test_a_purge_leaves_the_clocks_as_they_were(
    world: World, frozen: time_machine.Traveller
) -> None:
    make_policy(targets=targets(first=4, resolution=24))
    ticket = tickets.ticket_create(actor=world.customer, subject="Old", department=world.billing)
    frozen.shift(HOUR)
    tickets.ticket_reply(ticket=ticket, author=world.agent, body="Answer")
    tickets.ticket_resolve(ticket=ticket, actor=world.agent)
    frozen.shift(40 * 24 * HOUR)
    tickets.ticket_reopen(ticket=ticket, actor=world.customer)
    before = _snapshot(ticket)

    frozen.shift(HOUR)
    call_command("purge_activities", "--days", "30", stdout=StringIO())
    tickets.ticket_priority_change(ticket=ticket, actor=world.agent, priority="high")

    # The priority change re-selected the targets (same policy, same hours) and replayed the
    # history: nothing the purge removed was needed, and nothing breaches falsely.
    assert _snapshot(ticket) == before
    assert sla_check.sla_check().breaches == 0
