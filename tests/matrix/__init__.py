"""The permission matrix's vocabulary: outcomes, personas and the Op record.

Each module in this package lists the operations of one feature as ``MUTATIONS`` and
``QUERIES``; ``tests/test_permission_matrix.py`` runs them all and checks that together they
cover every query field and mutation of the schema.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import World

PERSONAS = ["anonymous", "customer", "other_customer", "agent", "outsider", "admin", "guest"]
# "guest" holds the magic link of a guest ticket of their own (not the world's ticket). Unless an
# Op says otherwise, a guest must fare exactly as an anonymous visitor does.

OK, DENIED, NOT_FOUND, NULL = "ok", "denied", "not_found", "null"


def only(allowed: set[str], refused: str = DENIED, **special: str) -> dict[str, str]:
    """Outcome per persona: ``allowed`` succeed, anonymous is always denied (and a guest too,
    unless allowed), the rest get ``refused`` unless ``special`` says otherwise."""
    outcomes = {p: (OK if p in allowed else refused) for p in PERSONAS}
    outcomes["anonymous"] = DENIED
    if "guest" not in allowed:
        outcomes["guest"] = DENIED
    outcomes.update(special)
    return outcomes


STAFF = {"agent", "admin"}
# The world's ticket is in billing: the outsider (sales) does not find it.
TICKET_WORK = only(STAFF, outsider=NOT_FOUND)
TICKET_CUSTOMER = only(STAFF | {"customer"}, other_customer=NOT_FOUND, outsider=NOT_FOUND)
ADMIN_ONLY = only({"admin"})
SIGNED_IN = only(set(PERSONAS) - {"anonymous", "guest"})


@dataclass
class Op:
    """One GraphQL operation and what each persona should get from it."""

    name: str  # the root field, optionally followed by " (variant)"
    document: str
    variables: Callable[[World], dict[str, Any]]
    outcomes: dict[str, str]
    setup: Callable[[World], None] = field(default=lambda w: None)
    # For queries: how to read a count from the data, and the count each persona should see.
    count: Callable[[dict[str, Any]], int] | None = None
    expected_counts: dict[str, int] = field(default_factory=dict)
    # ESCALATED settings the operation runs under.
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.outcomes.setdefault("guest", self.outcomes["anonymous"])
        if "anonymous" in self.expected_counts:
            self.expected_counts.setdefault("guest", self.expected_counts["anonymous"])

    @property
    def field(self) -> str:
        return self.name.split(" ")[0].split("(")[0]


def payload_mutation(name: str, input_type: str, fields: str = "") -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ {fields} errors {{ field code message }} }} }}"
    )


def all_ops() -> tuple[list[Op], list[Op]]:
    """Every module's MUTATIONS and QUERIES."""
    mutations: list[Op] = []
    queries: list[Op] = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        mutations += getattr(module, "MUTATIONS", [])
        queries += getattr(module, "QUERIES", [])
    return mutations, queries
