"""Actions: the one registry of what an escalation rule can do to a ticket.

Each action reads its value (see :mod:`.values`) and then calls the same service a person's
action goes through, as the rule's :class:`~escalated.access.SystemActor`: the activity timeline
names the rule, and signals and realtime events go out exactly as for a person. An action that
would change nothing changes nothing, like the services it calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from escalated.access import Role, SystemActor, role_of
from escalated.errors import DomainError, ErrorCode, Problem
from escalated.models import Priority, Ticket
from escalated.services import tickets
from escalated.services.escalation.values import (
    BadValue,
    Referring,
    parse_choice,
    parse_id,
    parse_text,
    registry_entry,
)
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


# The registry. Assigning round-robin within a department arrives with department routing, and
# notify (department agents, the assignee, an address, the webhooks) with the notification
# outbox; each is one entry here.
ACTIONS: dict[str, Action] = {
    "escalate": Escalate(),
    "change_priority": ChangePriority(),
    "assign_to": AssignTo(),
    "change_department": ChangeDepartment(),
    "add_tag": AddTag(),
    "add_note": AddNote(),
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
