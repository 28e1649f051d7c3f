"""Small pieces every service module uses."""

from __future__ import annotations

from enum import Enum
from typing import Any, Final, Literal, TypeVar

from escalated.access import require_may_manage
from escalated.errors import ErrorCode, Problem
from escalated.models import Department, Ticket


class _Unset(Enum):
    """Marks an argument the caller did not give, as distinct from an explicit None."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]

T = TypeVar("T")


def lock_ticket(ticket: Ticket) -> Ticket:
    """Re-read ``ticket`` under a row lock (a no-op lock on SQLite, which serialises writers)."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def choice(value: Any, choices: type[Any], *, field: str) -> list[Problem]:
    """A problem when ``value`` is not one of a TextChoices' values."""
    if value in choices.values:
        return []
    allowed = ", ".join(choices.values)
    return [
        Problem(
            f"Unknown {field.replace('_', ' ')} {value!r}; use one of {allowed}.",
            ErrorCode.INVALID,
            field,
        )
    ]


def active_department(department: Department | None, *, field: str) -> list[Problem]:
    if department is not None and not department.is_active:
        return [
            Problem(f"The department {department.name!r} is not active.", ErrorCode.INACTIVE, field)
        ]
    return []


def set_given(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the given (not UNSET) values on ``obj``; return the names that changed."""
    names = []
    for name, value in values.items():
        if value is not UNSET and getattr(obj, name) != value:
            setattr(obj, name, value)
            names.append(name)
    return names


def reshare(actor: Any, obj: Any, changed: list[str]) -> list[str]:
    """After an edit of a shared-or-personal staff tool (canned response, macro): when
    ``is_shared`` changed, sharing hands it to the admins and unsharing makes it the actor's own.
    Returns the further field names changed."""
    if "is_shared" not in changed:
        return []
    require_may_manage(actor, obj)
    obj.owner = None if obj.is_shared else actor
    return ["owner"]
