"""Managing escalation rules (admins), and compiling a stored rule into its ticket filter.

Everything a rule holds is checked against the registries when it is saved (unknown fields,
operators and actions, values of the wrong type, ids that name nothing), so a problem is a
typed error on save and never a crash at evaluation time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max, Model, Q
from django.utils import timezone

from escalated.access import require_admin
from escalated.errors import DomainError, ErrorCode, Problem, collect
from escalated.models import EscalationRule, RuleFiring, RuleMatch, RuleTrigger
from escalated.services.common import UNSET, Unset, choice
from escalated.services.escalation.actions import ACTIONS, Step, read_step
from escalated.services.escalation.conditions import (
    FIELDS,
    Condition,
    condition_q,
    read_condition,
    references,
)
from escalated.services.escalation.triggers import TRIGGERS, Trigger
from escalated.services.text import optional_text, required_text

MAX_NAME = 120
MAX_CATEGORY = 100
MAX_DESCRIPTION = 2_000
MAX_CONDITIONS = 50
MAX_ACTIONS = 20
EVERY_TICKET = Q(pk__isnull=False)

T = TypeVar("T")


# --- reading what a client sent ---------------------------------------------------------------


def _read_each(
    raw: Any, field: str, limit: int, read: Callable[[Any, str], tuple[T | None, list[Problem]]]
) -> tuple[list[T], list[Problem]]:
    """Read every item of a list with ``read``, collecting every problem."""
    if not isinstance(raw, list | tuple):
        return [], [Problem(f"{field.capitalize()} are a list.", field=field)]
    if len(raw) > limit:
        return [], [Problem(f"A rule has at most {limit} {field}.", field=field)]
    items, problems = [], []
    for position, item in enumerate(raw):
        read_item, found = read(item, f"{field}.{position}")
        problems += found
        if read_item is not None:
            items.append(read_item)
    return items, problems


def read_conditions(raw: Any, field: str = "conditions") -> tuple[list[Condition], list[Problem]]:
    """Check conditions as a client sent them, and that the ids they name exist."""
    conditions, problems = _read_each(raw or [], field, MAX_CONDITIONS, read_condition)
    if not problems:
        problems += _missing(
            (model, ids, f"{field}.{position}.value")
            for position, model, ids in references(conditions)
        )
    return conditions, problems


def read_steps(raw: Any, field: str = "actions") -> tuple[list[Step], list[Problem]]:
    """Check actions as a client sent them, and the rows they name."""
    if not raw:
        return [], [Problem("Give the rule at least one action.", ErrorCode.REQUIRED, field)]
    steps, problems = _read_each(raw, field, MAX_ACTIONS, read_step)
    if not problems:
        problems += _target_problems(steps, field)
    return steps, problems


def _missing(wanted: Iterable[tuple[type[Model], list[int], str]]) -> list[Problem]:
    """NOT_FOUND for every id that names no row, looking each model up once."""
    wanted = list(wanted)
    by_model: dict[type[Model], set[int]] = defaultdict(set)
    for model, ids, _path in wanted:
        by_model[model].update(ids)
    existing = {
        model: set(model._default_manager.filter(pk__in=ids).values_list("pk", flat=True))
        for model, ids in by_model.items()
    }
    problems = []
    for model, ids, path in wanted:
        for pk in ids:
            if pk not in existing[model]:
                name = model._meta.verbose_name
                problems.append(Problem(f"No {name} with the id {pk}.", ErrorCode.NOT_FOUND, path))
    return problems


def _target_problems(steps: list[Step], field: str) -> list[Problem]:
    wanted = []
    for position, step in enumerate(steps):
        action = ACTIONS[step.type]
        model = action.reference
        if model is not None:
            for pk in action.referenced_ids(action.parse(step.value)):
                wanted.append((position, action, model, pk))
    problems = _missing((model, [pk], f"{field}.{p}.value") for p, _a, model, pk in wanted)
    if problems:
        return problems
    for position, action, model, pk in wanted:
        problem = action.target_problem(model._default_manager.get(pk=pk))
        if problem:
            problems.append(Problem(problem, ErrorCode.INVALID, f"{field}.{position}.value"))
    return problems


def trigger_problems(trigger: str | None) -> list[Problem]:
    if not trigger:
        return [Problem("Choose a trigger.", ErrorCode.REQUIRED, "trigger")]
    problems = choice(trigger, RuleTrigger, field="trigger")
    if problems:
        return problems
    missing = [c.field for c in TRIGGERS[trigger].implies if c.field not in FIELDS]
    if missing:
        message = (
            f"The {trigger} trigger needs the condition field {missing[0]!r}, which this "
            "installation does not have yet."
        )
        return [Problem(message, ErrorCode.INVALID, "trigger")]
    return []


# --- compiling --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to evaluate: its trigger and the filter of the tickets it matches."""

    rule: EscalationRule
    trigger: Trigger
    q: Q


def conditions_q(conditions: Sequence[Condition], match: str, trigger: Trigger, now: datetime) -> Q:
    """The rule's filter: the trigger's implied conditions, and all (or any) of its own."""
    combined = Q()
    for condition in conditions:
        q = condition_q(condition, now)
        combined = combined | q if match == RuleMatch.ANY else combined & q
    for implied in trigger.implies:
        combined &= condition_q(implied, now)
    # An empty Q would vanish when negated (a stopping rule must exclude every ticket it
    # matches), so "no conditions" is spelled out.
    return combined or EVERY_TICKET


def rule_compile(rule: EscalationRule, now: datetime) -> CompiledRule:
    """Compile a stored rule; a DomainError if the stored data no longer passes the checks (for
    example after an edit straight in the database)."""
    problems = trigger_problems(rule.trigger) + choice(rule.match, RuleMatch, field="match")
    # Without the database look-ups of a save: an id that names nothing any more simply
    # matches nothing, and an action on it is refused when it runs.
    conditions, found = _read_each(rule.conditions, "conditions", MAX_CONDITIONS, read_condition)
    problems += found + _read_each(rule.actions, "actions", MAX_ACTIONS, read_step)[1]
    collect(problems)
    trigger = TRIGGERS[rule.trigger]
    return CompiledRule(rule, trigger, conditions_q(conditions, rule.match, trigger, now))


# --- the services -----------------------------------------------------------------------------


def escalation_rule_create(
    *,
    actor: Any,
    name: str | None,
    trigger: str | None,
    actions: Any,
    conditions: Any = (),
    match: str = RuleMatch.ALL,
    description: str = "",
    category: str = "",
    order: int | None = None,
    is_active: bool = True,
    stop_processing: bool = False,
) -> EscalationRule:
    """Save a new rule. Conditions may leave out their operator, as the admin form does; the
    field's default (equals, in for a list, greater than for hours) is stored."""
    require_admin(actor)
    rule = EscalationRule(
        name=(name or "").strip(),
        description=description or "",
        category=category,
        is_active=is_active,
        trigger=trigger or "",
        match=match,
        stop_processing=stop_processing,
    )
    problems = [*required_text(name, field="name", max_length=MAX_NAME)]
    problems += rule_check(rule, conditions=conditions, actions=actions, order=order)
    collect(problems)
    with transaction.atomic():
        if order is None:
            last = EscalationRule.objects.aggregate(last=Max("order"))["last"]
            order = 0 if last is None else last + 1
        rule.order = order
        rule.save()
    return rule


def escalation_rule_update(
    *,
    actor: Any,
    rule: EscalationRule,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    category: str | Unset = UNSET,
    order: int | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    trigger: str | Unset = UNSET,
    match: str | Unset = UNSET,
    conditions: Any = UNSET,
    actions: Any = UNSET,
    stop_processing: bool | Unset = UNSET,
) -> EscalationRule:
    """Change a rule. Its open episodes stay open, so tickets it already acted on are not acted
    on again while they keep matching; switching a rule off ends them, since nothing watches
    them while it is off."""
    require_admin(actor)
    problems: list[Problem] = []
    if name is not UNSET:
        problems += required_text(name, field="name", max_length=MAX_NAME)
        rule.name = name.strip()
    given = {
        "description": description,
        "category": category,
        "is_active": is_active,
        "trigger": trigger,
        "match": match,
        "stop_processing": stop_processing,
    }
    for attribute, value in given.items():
        if value is not UNSET:
            setattr(rule, attribute, value)
    problems += rule_check(
        rule,
        conditions=rule.conditions if conditions is UNSET else conditions,
        actions=rule.actions if actions is UNSET else actions,
        order=None if order is UNSET else order,
    )
    collect(problems)
    with transaction.atomic():
        if order is not UNSET:
            rule.order = order
        rule.save()
        if not rule.is_active:
            rule_episodes_end(rule)
    return rule


def rule_check(
    rule: EscalationRule, *, conditions: Any, actions: Any, order: int | None
) -> list[Problem]:
    """Problems with everything but the name of ``rule`` and the given conditions, actions and
    order; the normalised conditions and actions are set on ``rule``."""
    rule.category = (rule.category or "").strip()
    problems = trigger_problems(rule.trigger)
    problems += choice(rule.match, RuleMatch, field="match")
    problems += optional_text(rule.description, field="description", max_length=MAX_DESCRIPTION)
    problems += optional_text(rule.category, field="category", max_length=MAX_CATEGORY)
    if order is not None and order < 0:
        problems.append(Problem("Order is zero or more.", ErrorCode.INVALID, "order"))
    read, found = read_conditions(conditions)
    problems += found
    steps, found = read_steps(actions)
    problems += found
    rule.conditions = [c.as_dict() for c in read]
    rule.actions = [s.as_dict() for s in steps]
    return problems


def rule_episodes_end(rule: EscalationRule) -> None:
    """End the rule's open episodes: it is off, and nothing watches whether they still match."""
    RuleFiring.objects.filter(rule=rule, ended_at__isnull=True).update(ended_at=timezone.now())


def escalation_rule_delete(*, actor: Any, rule: EscalationRule) -> None:
    """Delete a rule and its firing record; the timeline keeps what it did."""
    require_admin(actor)
    rule.delete()


def escalation_rules_reorder(
    *, actor: Any, rules: Sequence[EscalationRule]
) -> list[EscalationRule]:
    """Put every rule in the given order (the first is looked at first)."""
    require_admin(actor)
    given = [rule.pk for rule in rules]
    with transaction.atomic():
        every = set(EscalationRule.objects.select_for_update().values_list("pk", flat=True))
        if len(set(given)) != len(given) or set(given) != every:
            raise DomainError(
                "List every rule exactly once, in the order they should run.",
                code=ErrorCode.INVALID,
                field="ids",
            )
        now = timezone.now()
        changed = []
        for position, rule in enumerate(rules):
            if rule.order != position:
                rule.order, rule.updated_at = position, now
                changed.append(rule)
        EscalationRule.objects.bulk_update(changed, ["order", "updated_at"])
    return list(rules)
