"""Condition fields: the one registry of what an escalation rule can test on a ticket.

Each field says which operators it takes, how it reads a value (see :mod:`.values`) and how a
condition on it becomes a filter on tickets, so a rule's conditions compile into one WHERE
clause and the database returns only the tickets that match. A field added to :data:`FIELDS`
works everywhere at once: saving rules, the sweep, event rules, previews, and the GraphQL door
(which swaps the ids of ``reference`` fields for global ids).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import Exists, Model, OuterRef, Q

from escalated.errors import ErrorCode, Problem
from escalated.models import Channel, Metric, Priority, Reply, SlaClock, Status, Ticket, TicketType
from escalated.services.escalation.values import (
    BadValue,
    Referring,
    parse_choice,
    parse_flag,
    parse_hours,
    parse_id,
    registry_entry,
)


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    NOT_IN = "not_in"
    GREATER_THAN = "greater_than"
    LESS_THAN = "less_than"


SET_OPERATORS = (Operator.EQUALS, Operator.NOT_EQUALS, Operator.IN, Operator.NOT_IN)
FLAG_OPERATORS = (Operator.EQUALS, Operator.NOT_EQUALS)
ORDER_OPERATORS = (Operator.GREATER_THAN, Operator.LESS_THAN)
LIST_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})
MAX_LIST = 100

# A filter no ticket passes (and every ticket passes negated), for "one of no values". Written
# as a plain comparison rather than `pk__in=[]`, which Django refuses to compile inside an
# annotation.
NO_TICKET = Q(pk__isnull=True)


class Field(Referring):
    """Something about a ticket a condition can test.

    Subclasses give :meth:`parse` (one value into its Python form) and :meth:`matches` (tickets
    whose field is one of some values); ordered fields also give :meth:`compare`.
    """

    label: str
    operators: tuple[Operator, ...] = SET_OPERATORS

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def matches(self, values: list[Any], now: datetime) -> Q:
        raise NotImplementedError

    def compare(self, operator: Operator, value: Any, now: datetime) -> Q:
        raise NotImplementedError

    def default_operator(self, value: Any) -> Operator:
        """The operator a condition without one gets, as the admin form sends them."""
        if isinstance(value, list) and Operator.IN in self.operators:
            return Operator.IN
        return self.operators[0]

    def read(self, operator: Operator, value: Any) -> Any:
        """The value checked for ``operator``: a list for in/not in, one value otherwise."""
        if operator in LIST_OPERATORS:
            if not isinstance(value, list) or not value:
                raise BadValue(f"{operator} takes a list of one or more values.")
            if len(value) > MAX_LIST:
                raise BadValue(f"{operator} takes at most {MAX_LIST} values.")
            return [self.parse(item) for item in value]
        if isinstance(value, list):
            raise BadValue(f"{operator} takes one value; use in or not_in for a list.")
        return self.parse(value)

    def q(self, operator: Operator, value: Any, now: datetime) -> Q:
        """The filter for a condition whose value :meth:`read` accepted."""
        if operator is Operator.EQUALS:
            return self.matches([value], now)
        if operator is Operator.NOT_EQUALS:
            return ~self.matches([value], now)
        if operator is Operator.IN:
            return self.matches(value, now)
        if operator is Operator.NOT_IN:
            return ~self.matches(value, now)
        return self.compare(operator, value, now)


class ChoiceField(Field):
    """A ticket column holding one of a set of choices; ``ordered`` fields also compare."""

    def __init__(self, column: str, choices: type[Any], label: str, *, ordered: bool = False):
        self.column, self.choices, self.label = column, choices, label
        self.ranks = {value: rank for rank, value in enumerate(choices.values)}
        if ordered:
            self.operators = SET_OPERATORS + ORDER_OPERATORS

    def parse(self, value: Any) -> str:
        return parse_choice(value, self.choices, self.label)

    def matches(self, values: list[Any], now: datetime) -> Q:
        return Q(**{f"{self.column}__in": sorted(set(values))})

    def compare(self, operator: Operator, value: Any, now: datetime) -> Q:
        rank = self.ranks[value]
        beyond = [
            v
            for v, r in self.ranks.items()
            if (r > rank if operator is Operator.GREATER_THAN else r < rank)
        ]
        return Q(**{f"{self.column}__in": beyond}) if beyond else NO_TICKET


class ReferenceField(Field):
    """A ticket foreign key; with ``nullable``, a null value means "none" (e.g. unassigned)."""

    def __init__(self, column: str, model: str, label: str, *, nullable: bool):
        self.column, self.reference_model, self.label = column, model, label
        self.nullable = nullable

    def parse(self, value: Any) -> int | None:
        if value is None and self.nullable:
            return None
        return parse_id(value, self.label)

    def matches(self, values: list[Any], now: datetime) -> Q:
        ids = sorted({v for v in values if v is not None})
        q = Q(**{f"{self.column}_id__in": ids}) if ids else NO_TICKET
        if None in values:
            q |= Q(**{f"{self.column}__isnull": True})
        return q


class TagField(Field):
    """The ticket's tags: equals means "has the tag", in "has any of them"."""

    label = "tag"
    reference_model = "escalated.Tag"

    def parse(self, value: Any) -> int:
        return parse_id(value, self.label)

    def matches(self, values: list[Any], now: datetime) -> Q:
        links = Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"), tag_id__in=values)
        return Q(Exists(links))


class FlagField(Field):
    """A yes/no fact about a ticket, given as the filter for "yes"."""

    operators = FLAG_OPERATORS

    def __init__(self, label: str, when_true: Callable[[datetime], Q]):
        self.label, self.when_true = label, when_true

    def parse(self, value: Any) -> bool:
        return parse_flag(value)

    def matches(self, values: list[Any], now: datetime) -> Q:
        (wanted,) = values
        return self.when_true(now) if wanted else ~self.when_true(now)


class HoursField(Field):
    """Hours since a ticket timestamp; ``also`` narrows the tickets the clock applies to."""

    operators = ORDER_OPERATORS

    def __init__(self, column: str, label: str, *, also: Q | None = None):
        self.column, self.label, self.also = column, label, also or Q()

    def parse(self, value: Any) -> float:
        return parse_hours(value)

    def compare(self, operator: Operator, value: Any, now: datetime) -> Q:
        cutoff = now - timedelta(hours=value)
        # More hours since the moment means the moment is earlier than the cutoff.
        lookup = "lt" if operator is Operator.GREATER_THAN else "gt"
        return Q(**{f"{self.column}__{lookup}": cutoff}) & self.also


class SlaMetricField(Field):
    """Which SLA metric ran out: tickets with a current clock of one of these metrics breached."""

    label = "breached SLA metric"

    def parse(self, value: Any) -> str:
        return parse_choice(value, Metric, "SLA metric")

    def matches(self, values: list[Any], now: datetime) -> Q:
        breached = (
            SlaClock.objects.current()
            .breached(now)
            .filter(ticket_id=OuterRef("pk"), metric__in=sorted(set(values)))
        )
        return Q(Exists(breached))


class SlaRemainingField(Field):
    """Calendar hours until the earliest due instant of the ticket's running SLA clocks (below
    zero once overdue). Paused clocks have no due instant and do not count; a ticket with no
    running clock matches neither operator."""

    label = "hours of SLA time remaining"
    operators = ORDER_OPERATORS

    def parse(self, value: Any) -> float:
        return parse_hours(value)

    def compare(self, operator: Operator, value: Any, now: datetime) -> Q:
        running = (
            SlaClock.objects.current()
            .unmet()
            .filter(ticket_id=OuterRef("pk"), due_at__isnull=False)
        )
        horizon = now + timedelta(hours=value)
        due_within = Q(Exists(running.filter(due_at__lt=horizon)))
        if operator is Operator.LESS_THAN:
            return due_within
        return Q(Exists(running)) & ~Q(Exists(running.filter(due_at__lte=horizon)))


def _sla_breached(now: datetime) -> Q:
    return Q(Exists(SlaClock.objects.current().breached(now).filter(ticket_id=OuterRef("pk"))))


def _sla_warning(now: datetime) -> Q:
    """check_sla warned of a current clock that has been neither met nor breached since."""
    warned = SlaClock.objects.current().filter(
        ticket_id=OuterRef("pk"), warned_at__isnull=False, met_at__isnull=True,
        breached_at__isnull=True,
    )  # fmt: skip
    return Q(Exists(warned))


def _requester_is_guest(now: datetime) -> Q:
    # The same rule as escalated.services.sla.requester_is_guest: nobody's account.
    return Q(requester__isnull=True)


def _assigned(now: datetime) -> Q:
    return Q(assignee__isnull=False)


def _awaiting_reply(now: datetime) -> Q:
    """The customer wrote last: no public reply since their latest message."""
    answered = Reply.objects.filter(
        ticket_id=OuterRef("pk"),
        is_internal_note=False,
        created_at__gt=OuterRef("last_customer_message_at"),
    )
    return Q(last_customer_message_at__isnull=False) & ~Q(Exists(answered))


# The registry.
FIELDS: dict[str, Field] = {
    "status": ChoiceField("status", Status, "status"),
    "priority": ChoiceField("priority", Priority, "priority", ordered=True),
    "department": ReferenceField("department", "escalated.Department", "department", nullable=True),
    "assignee": ReferenceField("assignee", settings.AUTH_USER_MODEL, "assignee", nullable=True),
    "assigned": FlagField("assigned", _assigned),
    "tag": TagField(),
    "ticket_type": ChoiceField("ticket_type", TicketType, "ticket type"),
    "channel": ChoiceField("channel", Channel, "channel"),
    "age_hours": HoursField("created_at", "hours since the ticket was opened"),
    "no_response_hours": HoursField(
        "created_at",
        "hours without a first response",
        also=Q(first_response_at__isnull=True),
    ),
    "last_update_hours": HoursField("updated_at", "hours since the ticket last changed"),
    "last_customer_message_hours": HoursField(
        "last_customer_message_at", "hours since the customer last wrote"
    ),
    "awaiting_reply": FlagField("awaiting a reply", _awaiting_reply),
    "requester_is_guest": FlagField("requester is a guest", _requester_is_guest),
    "sla_breached": FlagField("SLA breached", _sla_breached),
    "sla_breached_metric": SlaMetricField(),
    "sla_remaining": SlaRemainingField(),
    "sla_warning": FlagField("SLA warned", _sla_warning),
}


@dataclass(frozen=True)
class Condition:
    """A condition as stored: ``{"field", "operator", "value"}``, the value as it was given."""

    field: str
    operator: str
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator, "value": self.value}


def read_condition(raw: Any, path: str) -> tuple[Condition | None, list[Problem]]:
    """Check one condition as a client sent it; fill in the operator the admin form leaves out.

    Returns the condition to store, or the problems, each naming ``path.<part>``.
    """
    field, problems = registry_entry(
        raw, "field", FIELDS, path=path, what="condition field", unknown=ErrorCode.UNKNOWN_FIELD
    )
    if field is None:
        return None, problems
    name, value = raw["field"], raw.get("value")
    operator = raw.get("operator") or field.default_operator(value)
    if operator not in field.operators:
        allowed = ", ".join(field.operators)
        message = f"The {field.label} field takes the operators {allowed}, not {operator!r}."
        return None, [Problem(message, ErrorCode.INVALID_OPERATOR, f"{path}.operator")]
    try:
        field.read(Operator(operator), value)
    except BadValue as error:
        return None, [Problem(f"{field.label.capitalize()}: {error}", field=f"{path}.value")]
    return Condition(name, str(operator), value), []


def condition_q(condition: Condition, now: datetime) -> Q:
    """The filter for a condition :func:`read_condition` accepted."""
    field = FIELDS[condition.field]
    operator = Operator(condition.operator)
    return field.q(operator, field.read(operator, condition.value), now)


def references(conditions: list[Condition]) -> list[tuple[int, type[Model], list[int]]]:
    """For each condition on a reference field: its position, the model, and the ids named."""
    found = []
    for position, condition in enumerate(conditions):
        field = FIELDS[condition.field]
        model = field.reference
        if model is None:
            continue
        value = field.read(Operator(condition.operator), condition.value)
        ids = [v for v in (value if isinstance(value, list) else [value]) if v is not None]
        found.append((position, model, ids))
    return found
