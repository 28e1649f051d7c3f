"""Episodes: a rule fires once on a ticket while the ticket keeps matching it.

An episode is a :class:`~escalated.models.RuleFiring` row. It opens when a rule first matches a
ticket (:func:`claim`), its actions run exactly once (:func:`act`), and it ends when an
evaluation finds the ticket no longer matching (:func:`end_unmatched`, :func:`end_for_ticket`);
after that the rule may fire on the ticket again.

Claiming is one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` per rule, over the
partial unique index that allows one open episode per rule and ticket. Two evaluators running at
once therefore cannot both open the same episode: the database gives each ticket to one of them.
Acting locks a batch of episodes (skipping those another evaluator holds), runs each one's
actions and marks them acted in the same transaction, so an episode whose actions never
committed is finished by the next run, and none is acted on twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connections, router, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from escalated.errors import DomainError, NotAllowed
from escalated.models import EscalationRule, RuleFiring, Ticket
from escalated.services.common import TicketBatch
from escalated.services.escalation.actions import Context, Step, rule_actor, run_steps
from escalated.services.shared_reads import shared_reads

logger = logging.getLogger(__name__)


def open_episode(rule_id: int, *, acted: bool = False) -> Exists:
    """Whether the rule has an open episode on the outer ticket (only acted ones, with
    ``acted``: an episode not yet acted on will still act)."""
    episodes = RuleFiring.objects.filter(
        rule_id=rule_id, ticket_id=OuterRef("pk"), ended_at__isnull=True
    )
    if acted:
        episodes = episodes.filter(acted_at__isnull=False)
    return Exists(episodes)


class Claim(NamedTuple):
    firing_id: int
    ticket_id: int


def claim(rule: EscalationRule, tickets: QuerySet[Ticket], now: datetime) -> list[Claim]:
    """Open an episode of ``rule`` on every ticket in ``tickets`` that has none; return the
    episodes this call opened (not those another evaluator opened first)."""
    candidates = tickets.filter(~open_episode(rule.pk)).order_by().values(candidate=F("pk"))
    alias = router.db_for_write(RuleFiring)
    connection = connections[alias]
    select, params = candidates.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("rule_id", "ticket_id", "fired_at", "error"))
    fired_at = RuleFiring._meta.get_field("fired_at").get_db_prep_save(now, connection)
    # Identifiers are quoted and every value is a parameter; the SELECT is Django's own SQL.
    # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
    sql = (
        f"INSERT INTO {quote(RuleFiring._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT %s, {quote('candidate')}, %s, %s FROM ({select}) candidates WHERE true "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}, {quote('ticket_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rule.pk, fired_at, "", *params])
        return [Claim(*row) for row in cursor.fetchall()]


def end_unmatched(rule: EscalationRule, tickets: QuerySet[Ticket], now: datetime) -> int:
    """End the rule's open episodes on tickets no longer in ``tickets``."""
    still = tickets.filter(pk=OuterRef("ticket_id"))
    return (
        RuleFiring.objects.filter(rule=rule, ended_at__isnull=True)
        .exclude(Exists(still))
        .update(ended_at=now)
    )


def end_for_ticket(ticket_id: int, rule_ids: Iterable[int], now: datetime) -> int:
    """End the open episodes of these rules on one ticket."""
    rule_ids = list(rule_ids)
    if not rule_ids:
        return 0
    return RuleFiring.objects.filter(
        ticket_id=ticket_id, rule_id__in=rule_ids, ended_at__isnull=True
    ).update(ended_at=now)


# Episodes are acted on ticket by ticket, in ascending ticket id, and each ticket's rules in
# their order. A batch holds its tickets' row locks until it commits; taking them in one order
# everywhere means two evaluators can make each other wait, but never deadlock.
ACTING_ORDER = ("ticket_id", "rule__order", "rule_id", "id")


def pending(rules: Iterable[int] | QuerySet[Any]) -> list[int]:
    """Open episodes of these rules (ids, or a query of them) whose actions have not run, in
    acting order."""
    ids = rules if isinstance(rules, QuerySet) else list(rules)
    return list(
        RuleFiring.objects.filter(rule_id__in=ids, acted_at__isnull=True, ended_at__isnull=True)
        .order_by(*ACTING_ORDER)
        .values_list("pk", flat=True)
    )


@dataclass
class Outcome:
    acted: int = 0
    refused: int = 0  # the services said no; the reason is on the episode
    failed: int = 0  # an unexpected error; logged, and retried by the next run

    def __iadd__(self, other: Outcome) -> Outcome:
        self.acted += other.acted
        self.refused += other.refused
        self.failed += other.failed
        return self


# Episodes acted on per transaction: the batch's tickets are locked, changed and written
# together (services.common.TicketBatch), and the batch commits once.
BATCH = 500

# Actions whose services change only the ticket row, in the batch's memory until it ends: an
# episode made of them needs no savepoint of its own. Others (notes, tags, notifications,
# round-robin) write their rows as they go, inside a savepoint per episode.
IN_MEMORY_ACTIONS = frozenset({"escalate", "change_priority", "assign_to", "change_department"})


def act(firing_ids: Iterable[int]) -> Outcome:
    """Run the actions of each episode that still waits for them."""
    ids = list(firing_ids)
    outcome = Outcome()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            outcome += _act_batch(batch)
        except Exception:
            logger.exception("Escalation rule episodes %s failed; they will be retried.", batch)
            outcome.failed += len(batch)
    return outcome


def _act_batch(firing_ids: list[int]) -> Outcome:
    """Act on the episodes no one else is acting on, and mark them acted in the same
    transaction: an episode whose actions did not commit is still waiting for the next run.
    The statements are the same for one episode or a batch of them (for actions that change
    the ticket row; see :data:`IN_MEMORY_ACTIONS`)."""
    outcome = Outcome()
    with transaction.atomic(), shared_reads():
        # Only what acting reads, as values: a model per episode and per joined rule cost more
        # than the rest of the batch's reads.
        locked = list(
            RuleFiring.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=firing_ids, acted_at__isnull=True, ended_at__isnull=True)
            .order_by(*ACTING_ORDER)
            .values_list("pk", "ticket_id", "rule_id", "rule__name", "rule__actions")
        )
        rules: dict[int, EscalationRule] = {}
        done: list[int] = []
        refused: list[RuleFiring] = []
        targets: dict[tuple[str, int], Any] = {}
        with TicketBatch(row[1] for row in locked) as tickets:
            for pk, ticket_id, rule_id, name, actions in locked:
                rule = rules.get(rule_id)
                if rule is None:
                    rule = rules[rule_id] = EscalationRule(pk=rule_id, name=name, actions=actions)
                firing = RuleFiring(pk=pk, rule=rule, ticket_id=ticket_id)
                try:
                    _run(firing, targets, tickets)
                except (DomainError, NotAllowed) as refusal:
                    refused.append(_refused(firing, refusal))
                    outcome.refused += 1
                except Exception:
                    logger.exception(
                        "Escalation rule episode #%s failed; it will be retried.", firing.pk
                    )
                    outcome.failed += 1
                    continue
                else:
                    outcome.acted += 1
                done.append(firing.pk)
        if refused:
            RuleFiring.objects.bulk_update(refused, ["error"])
        RuleFiring.objects.filter(pk__in=done).update(acted_at=timezone.now())
    return outcome


def _run(firing: RuleFiring, targets: dict[tuple[str, int], Any], tickets: TicketBatch) -> None:
    """Run the rule's actions on the ticket: all of them, or (on any error) none."""
    rule = firing.rule
    steps = [Step(a.get("type"), a.get("value")) for a in rule.actions]
    context = Context(rule.name, rule_actor(rule.name), targets)
    in_memory = all(step.type in IN_MEMORY_ACTIONS for step in steps)
    savepoint = nullcontext() if in_memory else transaction.atomic()
    with savepoint, tickets.unit(firing.ticket_id) as ticket:
        run_steps(ticket, steps, context)


def _refused(firing: RuleFiring, refusal: Exception) -> RuleFiring:
    """Keep why the services said no on the episode (written with the batch); it is not
    retried."""
    logger.warning(
        "Escalation rule %r did not act on ticket #%s: %s",
        firing.rule.name,
        firing.ticket_id,
        refusal,
    )
    firing.error = str(refusal)
    return firing
