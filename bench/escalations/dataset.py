"""The benchmark's tickets and rules, as plain values: the same for both implementations.

Standard library only, so each runner (this version, and escalated-django 0.7.8 in its own
virtual environment) builds exactly the same data from the same seed.

Ages are whole hours plus a half, and every rule threshold is a whole number of hours, so a
ticket is never within thirty minutes of a threshold: the few minutes between loading the data
and evaluating it cannot change which tickets match.

The rules are built so that both implementations must end in the same state: each rule looks
at its own (department, ticket type) pair, so no ticket matches two rules, and the department
rules move tickets to (Escalations) is one no rule looks at. Each runner prints a fingerprint
of every ticket's final status, priority, department and assignee to prove it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SEED = 20261128
DEPARTMENTS = [
    "Billing",
    "Sales",
    "Support",
    "Technical",
    "Returns",
    "Shipping",
    "Accounts",
    "Escalations",  # where rules move tickets; no rule looks at it
]
AGENTS = 10
MAX_AGE_HOURS = 720  # thirty days of open tickets

STATUSES = [
    ("open", 35),
    ("in_progress", 20),
    ("waiting_on_customer", 20),
    ("waiting_on_agent", 15),
    ("escalated", 5),
    ("reopened", 5),
]
PRIORITIES = [("low", 25), ("medium", 40), ("high", 20), ("urgent", 10), ("critical", 5)]
TYPES = [("question", 40), ("problem", 30), ("incident", 20), ("task", 10)]


@dataclass(frozen=True)
class TicketRow:
    number: int
    status: str
    priority: str
    ticket_type: str
    department: int | None  # index into DEPARTMENTS
    assignee: int | None  # agent number
    age_hours: float
    answered: bool  # has a first response (half an hour after it was opened)


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


def tickets(count: int) -> Iterator[TicketRow]:
    rng = random.Random(SEED)  # noqa: S311 - reproducible data, not secrets
    for number in range(count):
        status = _pick(rng, STATUSES)
        department = rng.randrange(len(DEPARTMENTS) - 1) if rng.random() < 0.9 else None
        yield TicketRow(
            number=number,
            status=status,
            priority=_pick(rng, PRIORITIES),
            ticket_type=_pick(rng, TYPES),
            department=department,
            assignee=rng.randrange(AGENTS) if rng.random() < 0.7 else None,
            age_hours=rng.randrange(MAX_AGE_HOURS) + 0.5,
            answered=status != "open" and rng.random() < 0.8,
        )


@dataclass(frozen=True)
class RuleSpec:
    """A rule both versions can express: 0.7.8's time-based or no-response trigger with its
    status, priority, department, ticket type and unassigned conditions, and its four actions."""

    name: str
    trigger: str  # "time_based" (hours since opened) or "no_response" (hours unanswered)
    hours: int
    department: int
    ticket_type: str
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    unassigned: bool = False
    set_priority: str | None = None
    escalate: bool = False
    assign_to: int | None = None
    move_to: int | None = None


ESCALATIONS = DEPARTMENTS.index("Escalations")
_PAIRS = [(d, t) for t, _w in TYPES for d in range(len(DEPARTMENTS) - 1)]
_SHAPES = [
    {"trigger": "time_based", "hours": 48, "priorities": ("urgent", "critical"), "escalate": True},
    {"trigger": "no_response", "hours": 4, "unassigned": True, "assign_to": 0},
    {
        "trigger": "time_based",
        "hours": 168,
        "statuses": ("open", "reopened"),
        "set_priority": "high",
    },
    {"trigger": "no_response", "hours": 24, "priorities": ("high",), "move_to": ESCALATIONS},
    {
        "trigger": "time_based",
        "hours": 72,
        "statuses": ("waiting_on_agent",),
        "priorities": ("urgent",),
        "set_priority": "critical",
        "escalate": True,
    },
]


def rules() -> list[RuleSpec]:
    """Twenty rules, each on its own (department, ticket type) pair."""
    specs = []
    for number, (department, ticket_type) in enumerate(_PAIRS[:20]):
        shape = _SHAPES[number % len(_SHAPES)]
        specs.append(
            RuleSpec(
                name=f"Rule {number:02d}",
                department=department,
                ticket_type=ticket_type,
                **shape,
            )
        )
    return specs


def summary(count: int, states: Iterable[tuple[int, str, str, int, int]]) -> dict[str, object]:
    """A digest of every ticket's (number, status, priority, department index, agent number),
    with -1 for none, and how many tickets differ from how they were loaded."""
    initial = {
        row.number: (
            row.number,
            row.status,
            row.priority,
            -1 if row.department is None else row.department,
            -1 if row.assignee is None else row.assignee,
        )
        for row in tickets(count)
    }
    digest = hashlib.sha256()
    changed = 0
    for state in sorted(states):
        digest.update(repr(state).encode())
        changed += state != initial[state[0]]
    return {"fingerprint": digest.hexdigest()[:16], "changed_tickets": changed}
