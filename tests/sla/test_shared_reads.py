"""A run of many changes reads what does not change between them (the active SLA policies, the
webhook endpoints) once: escalated.services.shared_reads."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.services import tickets
from tests.conftest import World
from tests.sla.conftest import make_policy, targets


def test_a_bulk_update_reads_the_sla_policies_once(world: World) -> None:
    make_policy(targets=targets(first=1))
    many = [
        tickets.ticket_create(actor=world.customer, subject=f"T{n}", department=world.billing)
        for n in range(5)
    ]

    with CaptureQueriesContext(connection) as queries:
        results = tickets.tickets_bulk_update(
            tickets=many, actor=world.agent, changes=tickets.BulkChanges(priority="urgent")
        )

    assert all(r.ok for r in results)
    policy_reads = [q for q in queries if 'FROM "escalated_sla_policies"' in q["sql"]]
    webhook_reads = [q for q in queries if 'FROM "escalated_webhooks"' in q["sql"]]
    assert (len(policy_reads), len(webhook_reads)) == (1, 1)


def test_outside_a_run_every_change_reads_afresh(world: World) -> None:
    make_policy(targets=targets(first=1))

    with CaptureQueriesContext(connection) as queries:
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="high")
        tickets.ticket_priority_change(ticket=world.ticket, actor=world.agent, priority="low")

    policy_reads = [q for q in queries if 'FROM "escalated_sla_policies"' in q["sql"]]
    assert len(policy_reads) == 2
