"""Domain errors: what services raise when a rule says no.

Doors translate them: GraphQL turns a :class:`DomainError` into ``UserError`` entries in the
mutation payload, and :class:`NotAllowed` into a top-level GraphQL error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"
    INVALID_TRANSITION = "invalid_transition"
    TICKET_CLOSED = "ticket_closed"
    INVALID_ASSIGNEE = "invalid_assignee"
    INACTIVE = "inactive"
    NOT_ALLOWED = "not_allowed"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    ATTACHMENT_EMPTY = "attachment_empty"
    ATTACHMENT_TYPE_NOT_ALLOWED = "attachment_type_not_allowed"
    RATE_LIMITED = "rate_limited"
    TICKET_NOT_RESOLVED = "ticket_not_resolved"
    ALREADY_DELIVERED = "already_delivered"
    INVALID_TARGET = "invalid_target"
    UNKNOWN_PRIORITY = "unknown_priority"
    OVERLAPPING_INTERVALS = "overlapping_intervals"
    INVALID_TIMEZONE = "invalid_timezone"
    IN_USE = "in_use"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_OPERATOR = "invalid_operator"
    UNKNOWN_ACTION = "unknown_action"


@dataclass(frozen=True)
class Problem:
    message: str
    code: ErrorCode = ErrorCode.INVALID
    field: str | None = None


class DomainError(Exception):
    """One or more problems with a request; the operation changed nothing."""

    def __init__(
        self,
        message: str = "",
        *,
        code: ErrorCode = ErrorCode.INVALID,
        field: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        self.problems = problems or [Problem(message, code, field)]
        super().__init__("; ".join(p.message for p in self.problems))


class RateLimited(DomainError):
    """A budget of the caller's (or the ticket's) is spent for now; nothing was changed.

    Doors that speak HTTP answer with ``retry_after`` (seconds) in a ``Retry-After`` header;
    GraphQL reports it as a top-level error with ``extensions.code`` RATE_LIMITED, and a door
    that only knows DomainError (inbound email) records the refusal like any other.
    """

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, code=ErrorCode.RATE_LIMITED)
        self.retry_after = retry_after


class NotAllowed(Exception):
    """The actor may not do this. Reported as a top-level error, never as a payload error."""

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


def collect(problems: list[Problem]) -> None:
    """Raise every problem found at once, so a client can fix a whole form in one go."""
    if problems:
        raise DomainError(problems=problems)


def not_found(field: str, what: str = "object") -> DomainError:
    """The error for an id that names nothing the actor may see."""
    return DomainError(f"No {what} with that id.", code=ErrorCode.NOT_FOUND, field=field)
