"""Evaluating escalation rules: the sweep, the event rules after each change, and previews.

Every evaluation starts from the same plan: the active rules of one kind (sweep or event), in
order, each compiled into a filter on open tickets. A rule that stops processing removes the
tickets it matches from every later rule's filter, so "later rules leave this ticket alone" is
part of the SQL too. The database returns only the tickets each rule matches; nothing loops
over tickets in Python.

Cascades: changes made by a rule never wake event rules. A rule's actions are the end of the
chain; the next change by a person or a command evaluates the ticket afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from escalated import events
from escalated.access import require_admin
from escalated.errors import DomainError, collect
from escalated.models import OPEN_STATUSES, EscalationRule, RuleMatch, Ticket
from escalated.services.common import UNSET, Unset, choice
from escalated.services.escalation import episodes
from escalated.services.escalation.actions import acted_by_rule
from escalated.services.escalation.rules import (
    CompiledRule,
    conditions_q,
    read_conditions,
    rule_compile,
    trigger_problems,
)
from escalated.services.escalation.triggers import (
    EVENT_TRIGGERS,
    SWEEP_TRIGGERS,
    TRIGGERS,
    Kind,
)

logger = logging.getLogger(__name__)


def open_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(status__in=sorted(OPEN_STATUSES))


@dataclass(frozen=True)
class Plan:
    """One rule, and the filter of the open tickets it may act on once earlier rules that stop
    processing have taken theirs."""

    compiled: CompiledRule
    q: Q

    @property
    def rule(self) -> EscalationRule:
        return self.compiled.rule

    @property
    def tickets(self) -> QuerySet[Ticket]:
        return open_tickets().filter(self.q)

    def would_act_on(self) -> QuerySet[Ticket]:
        """The matching tickets the rule has not acted on in their current episode."""
        tickets = self.tickets
        if self.rule.pk is not None:
            tickets = tickets.exclude(episodes.open_episode(self.rule.pk, acted=True))
        return tickets


def plan(compiled: Iterable[CompiledRule]) -> list[Plan]:
    """Each rule's filter, less the tickets matched by earlier rules that stop processing."""
    plans = []
    stopped: Q | None = None
    for rule in compiled:
        plans.append(Plan(rule, rule.q if stopped is None else rule.q & ~stopped))
        if rule.rule.stop_processing:
            stopped = rule.q if stopped is None else stopped | rule.q
    return plans


def compile_active(triggers: frozenset[str], now: datetime) -> list[CompiledRule]:
    """The active rules of these triggers, in order, compiled. A rule whose stored data no
    longer compiles is logged and left out rather than stopping the others."""
    compiled = []
    rules = EscalationRule.objects.filter(is_active=True, trigger__in=sorted(triggers))
    for rule in rules.order_by("order", "id"):
        try:
            compiled.append(rule_compile(rule, now))
        except DomainError as error:
            logger.error("Escalation rule %r (#%s) is skipped: %s", rule.name, rule.pk, error)
    return compiled


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class RuleRun:
    rule: EscalationRule
    ticket_ids: list[int]  # fired on now (or, in a dry run, would be)


@dataclass
class SweepReport:
    rules: list[RuleRun] = field(default_factory=list)
    outcome: episodes.Outcome = field(default_factory=episodes.Outcome)


def escalations_evaluate(*, now: datetime | None = None, dry_run: bool = False) -> SweepReport:
    """Evaluate the sweep rules (time based and SLA) over all open tickets.

    First every decision, on one picture of the tickets: per rule, end the episodes of tickets
    that stopped matching and open one on each ticket that newly matches. Then the actions,
    ticket by ticket, through the services. A dry run decides and writes nothing.
    """
    now = now or timezone.now()
    plans = plan(compile_active(SWEEP_TRIGGERS, now))
    report = SweepReport()
    if dry_run:
        for each in plans:
            ids = list(
                each.would_act_on().order_by("created_at", "id").values_list("pk", flat=True)
            )
            report.rules.append(RuleRun(each.rule, ids))
        return report
    for each in plans:
        episodes.end_unmatched(each.rule, each.tickets, now)
        claimed = episodes.claim(each.rule, each.tickets, now)
        report.rules.append(RuleRun(each.rule, [c.ticket_id for c in claimed]))
    # Claimed just now, plus any a crashed or concurrent run left waiting: event rules' episodes
    # too, whose actions run right after a change and are retried here if they did not.
    active = EscalationRule.objects.filter(is_active=True).values("pk")
    report.outcome = episodes.act(episodes.pending(active))
    return report


# --- event rules ------------------------------------------------------------------------------


def rules_on_event(event: events.TicketEvent) -> None:
    """After a change commits: evaluate the event rules for that one ticket.

    Every event rule's episode on the ticket ends if the ticket no longer matches it; the rules
    whose trigger this change wakes fire if it matches and they have no open episode.
    """
    if acted_by_rule(event.actor):
        return
    woken = {name for name in EVENT_TRIGGERS if TRIGGERS[name].wakes(event)}
    if not woken:
        return
    now = timezone.now()
    plans = plan(compile_active(EVENT_TRIGGERS, now))
    if not plans:
        return
    ticket_id = event.ticket.pk
    flags = {
        f"rule_{position}": ExpressionWrapper(each.q, output_field=BooleanField())
        for position, each in enumerate(plans)
    }
    row = open_tickets().filter(pk=ticket_id).values(**flags).first() or {}
    matching = [each for position, each in enumerate(plans) if row.get(f"rule_{position}")]
    episodes.end_for_ticket(
        ticket_id, {each.rule.pk for each in plans} - {m.rule.pk for m in matching}, now
    )
    claimed: list[episodes.Claim] = []
    for each in matching:
        if each.rule.trigger in woken:
            claimed += episodes.claim(each.rule, each.tickets.filter(pk=ticket_id), now)
    episodes.act(c.firing_id for c in claimed)


# --- previews ---------------------------------------------------------------------------------


def escalation_rule_preview(
    *,
    actor: Any,
    rule: EscalationRule | None = None,
    trigger: str | Unset = UNSET,
    match: str | Unset = UNSET,
    conditions: Any = UNSET,
    order: int | Unset = UNSET,
    stop_processing: bool | Unset = UNSET,
) -> QuerySet[Ticket]:
    """The open tickets a rule would act on now, acting on nothing.

    ``rule`` is a saved rule, or None for a draft; the other arguments replace its parts, so an
    edit form can preview before saving. The rule takes its place among the active rules of its
    kind (a draft without ``order`` comes last), so earlier rules that stop processing are
    honoured; a saved rule leaves out the tickets it already acted on in their current episode.
    For event rules the answer is the tickets that would match if their event happened now.
    """
    require_admin(actor)
    base = rule or EscalationRule(match=RuleMatch.ALL, order=LAST)
    draft = EscalationRule(
        pk=base.pk,
        name=base.name,
        trigger=_given(trigger, base.trigger),
        match=_given(match, base.match),
        order=_given(order, base.order),
        stop_processing=_given(stop_processing, base.stop_processing),
    )
    read, problems = read_conditions(_given(conditions, base.conditions))
    collect(
        trigger_problems(draft.trigger) + choice(draft.match, RuleMatch, field="match") + problems
    )
    now = timezone.now()
    spec = TRIGGERS[draft.trigger]
    compiled = CompiledRule(draft, spec, conditions_q(read, draft.match, spec, now))
    kind = SWEEP_TRIGGERS if spec.kind is Kind.SWEEP else EVENT_TRIGGERS
    others = [c for c in compile_active(kind, now) if c.rule.pk is None or c.rule.pk != draft.pk]
    ordered = sorted([*others, compiled], key=lambda c: (c.rule.order, c.rule.pk or LAST))
    (mine,) = [each for each in plan(ordered) if each.compiled is compiled]
    return mine.would_act_on().order_by("created_at", "id")


LAST = 2**31 - 1


def _given(value: Any, current: Any) -> Any:
    return current if value is UNSET else value
