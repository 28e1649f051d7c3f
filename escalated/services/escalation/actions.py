"""Actions: the one registry of what an escalation rule can do to a ticket.

Each action reads its value (see :mod:`.values`) and then calls the same service a person's
action goes through, as the rule's :class:`~escalated.access.SystemActor`: the activity timeline
names the rule, and signals and realtime events go out exactly as for a person. An action that
would change nothing changes nothing, like the services it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from escalated.access import Role, SystemActor, role_of
from escalated.errors import DomainError, ErrorCode, Problem
from escalated.models import AssignmentMode, Priority, Ticket
from escalated.services import tickets
from escalated.services.escalation.values import (
    BadValue,
    Referring,
    parse_choice,
    parse_id,
    parse_text,
    registry_entry,
)
from escalated.services.notifications import ticket_notify
from escalated.services.text import MAX_BODY

MAX_REASON = 500


@dataclass(frozen=True)
class Context:
    """Who is acting (the rule, by name, and its actor), and the rows actions name, looked up
    once for a whole batch of tickets."""

    rule_name: str
    actor: SystemActor
    targets: dict[tuple[str, int], Any] = field(default_factory=dict)


class Action(Referring):
    """Something a rule can do. Subclasses give :meth:`parse` and :meth:`run`; actions whose
    value names a row set ``reference_model`` and may refuse a row in :meth:`target_problem`."""

    label: str

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def target_problem(self, target: Any) -> str | None:
        """Why the row a value names cannot be used, checked when the rule is saved."""
        return None

    def referenced_ids(self, parsed: Any) -> list[int]:
        """The row ids a parsed value names."""
        return [] if parsed is None else [parsed]

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        raise NotImplementedError

    def target(self, value: int, context: Context) -> Any:
        """The row ``value`` names, as it is when the action runs."""
        model = self.reference
        if model is None:
            raise TypeError(f"The {self.label} action names no rows.")
        key = (model._meta.label, value)
        if key in context.targets:
            return context.targets[key]
        found = model._default_manager.filter(pk=value).first()
        if found is None:
            raise DomainError(
                f"The {self.label} target #{value} no longer exists.", code=ErrorCode.NOT_FOUND
            )
        problem = self.target_problem(found)
        if problem:
            raise DomainError(problem, code=ErrorCode.INVALID)
        context.targets[key] = found
        return found


class Escalate(Action):
    """Move the ticket to escalated; the value, if any, is added to the reason."""

    label = "escalate"

    def parse(self, value: Any) -> str:
        if value is None or value is True:
            return ""
        if value is False:
            raise BadValue("Leave the value empty, or give a note for the reason.")
        return parse_text(value, max_length=MAX_REASON, required=False).strip()

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        reason = f"Escalation rule: {context.rule_name}"
        if value:
            reason = f"{reason} ({value})"
        return tickets.ticket_escalate(ticket=ticket, actor=context.actor, reason=reason)


class ChangePriority(Action):
    label = "change priority"

    def parse(self, value: Any) -> str:
        return parse_choice(value, Priority, "priority")

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        return tickets.ticket_priority_change(ticket=ticket, actor=context.actor, priority=value)


class AssignTo(Action):
    label = "assign to"
    reference_model = settings.AUTH_USER_MODEL

    def parse(self, value: Any) -> int:
        return parse_id(value, "agent")

    def target_problem(self, target: Any) -> str | None:
        if role_of(target) not in (Role.AGENT, Role.ADMIN):
            return f"{target.get_username()} is not an agent."
        return None

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        agent = self.target(value, context)
        return tickets.ticket_assign(ticket=ticket, actor=context.actor, assignee=agent)


class ChangeDepartment(Action):
    label = "change department"
    reference_model = "escalated.Department"

    def parse(self, value: Any) -> int:
        return parse_id(value, "department")

    def target_problem(self, target: Any) -> str | None:
        return None if target.is_active else f"The department {target.name!r} is not active."

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        department = self.target(value, context)
        return tickets.ticket_department_change(
            ticket=ticket, actor=context.actor, department=department
        )


class AddTag(Action):
    label = "add tag"
    reference_model = "escalated.Tag"

    def parse(self, value: Any) -> int:
        return parse_id(value, "tag")

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        return tickets.ticket_tags_add(
            ticket=ticket, actor=context.actor, tags=[self.target(value, context)]
        )


class AddNote(Action):
    """Add an internal note, written by the rule."""

    label = "add note"

    def parse(self, value: Any) -> str:
        return parse_text(value, max_length=MAX_BODY, required=True)

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        tickets.ticket_note_add(ticket=ticket, author=context.actor, body=value)
        return ticket


class AssignRoundRobin(Action):
    """Give the ticket to the next available agent of a department, in turn (the value: a
    department; empty: the ticket's own). Nobody available: the ticket stays as it is."""

    label = "assign round robin"
    reference_model = "escalated.Department"

    def parse(self, value: Any) -> int | None:
        return None if value in (None, "") else parse_id(value, "department")

    def target_problem(self, target: Any) -> str | None:
        return None if target.is_active else f"The department {target.name!r} is not active."

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        department = None if value is None else self.target(value, context)
        tickets.ticket_auto_assign(
            ticket=ticket,
            actor=context.actor,
            department=department,
            mode=AssignmentMode.ROUND_ROBIN,
        )
        return ticket


NOTIFY_TARGETS = ("department", "assignee", "email", "webhooks")


@dataclass(frozen=True)
class Notice:
    to: str
    department: int | None = None
    email: str = ""
    message: str = ""


class Notify(Action):
    """Tell people about the ticket through the notification outbox. The value is
    ``{"to": "department" | "assignee" | "email" | "webhooks", "department": id (for
    "department"; default: the ticket's), "email": address (for "email"), "message": text}``;
    a bare string is the same as ``{"to": <string>}``. Every notice also reaches the webhook
    endpoints subscribed to ``ticket.notified``; "webhooks" reaches only them."""

    label = "notify"
    reference_model = "escalated.Department"

    def parse(self, value: Any) -> Notice:
        if isinstance(value, str):
            value = {"to": value}
        if not isinstance(value, dict):
            raise BadValue("Give {'to': …} with department, assignee, email or webhooks.")
        unknown = set(value) - {"to", "department", "email", "message"}
        if unknown:
            raise BadValue(f"unknown keys {', '.join(sorted(unknown))}.")
        to = value.get("to")
        if to not in NOTIFY_TARGETS:
            raise BadValue(f"'to' must be one of {', '.join(NOTIFY_TARGETS)}.")
        department = value.get("department")
        email = (value.get("email") or "").strip()
        if to == "email":
            try:
                validate_email(email)
            except ValidationError as error:
                raise BadValue("'email' must be an email address.") from error
        elif email:
            raise BadValue("'email' goes only with 'to': 'email'.")
        if department not in (None, "") and to != "department":
            raise BadValue("'department' goes only with 'to': 'department'.")
        message = parse_text(value.get("message") or "", max_length=MAX_REASON, required=False)
        return Notice(
            to=to,
            department=None if department in (None, "") else parse_id(department, "department"),
            email=email,
            message=message.strip(),
        )

    def referenced_ids(self, parsed: Any) -> list[int]:
        return [] if parsed.department is None else [parsed.department]

    def map_references(self, value: Any, convert: Callable[[Any], Any]) -> Any:
        if isinstance(value, dict) and value.get("department") not in (None, ""):
            return {**value, "department": convert(value["department"])}
        return value

    def run(self, ticket: Ticket, value: Any, context: Context) -> Ticket:
        department = None if value.department is None else self.target(value.department, context)
        ticket_notify(
            ticket=ticket,
            actor=context.actor,
            to=value.to,
            department=department,
            email=value.email,
            message=value.message,
        )
        return ticket


# The registry.
ACTIONS: dict[str, Action] = {
    "escalate": Escalate(),
    "change_priority": ChangePriority(),
    "assign_to": AssignTo(),
    "change_department": ChangeDepartment(),
    "add_tag": AddTag(),
    "add_note": AddNote(),
    "assign_round_robin": AssignRoundRobin(),
    "notify": Notify(),
}


@dataclass(frozen=True)
class Step:
    """An action as stored: ``{"type", "value"}``, the value as it was given."""

    type: str
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value}


def read_step(raw: Any, path: str) -> tuple[Step | None, list[Problem]]:
    """Check one action as a client sent it; return it for storing, or the problems."""
    action, problems = registry_entry(
        raw, "type", ACTIONS, path=path, what="action", unknown=ErrorCode.UNKNOWN_ACTION
    )
    if action is None:
        return None, problems
    name, value = raw["type"], raw.get("value")
    try:
        action.parse(value)
    except BadValue as error:
        return None, [Problem(f"{action.label.capitalize()}: {error}", field=f"{path}.value")]
    return Step(name, value), []


def run_steps(ticket: Ticket, steps: list[Step], context: Context) -> None:
    """Run a rule's actions on one ticket, in order, each through its service. A step the
    registry no longer accepts is refused like any other action."""
    for position, step in enumerate(steps):
        action = ACTIONS.get(step.type)
        try:
            if action is None:
                raise BadValue(f"unknown action {step.type!r}")
            value = action.parse(step.value)
        except BadValue as error:
            raise DomainError(str(error), field=f"actions.{position}") from error
        ticket = action.run(ticket, value, context)


RULE_ACTOR_PREFIX = "rule:"


def rule_actor(rule_name: str) -> SystemActor:
    """The actor a rule acts as; the timeline shows it as ``rule:<name>``."""
    return SystemActor(f"{RULE_ACTOR_PREFIX}{rule_name}")


def acted_by_rule(actor: Any) -> bool:
    return isinstance(actor, SystemActor) and actor.label.startswith(RULE_ACTOR_PREFIX)
