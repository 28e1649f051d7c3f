"""Macros: a named, ordered list of actions applied to tickets through the ticket services.

A macro applies to each ticket all or nothing: every action goes through its service (with that
service's rules and signals), inside one transaction, as one activity row ("macro_applied", naming
the macro). If any action is refused, everything the macro did to that ticket is rolled back,
including replies and notes, and the refusal is reported for that ticket.

Actions are stored as JSON objects, one per :class:`MacroAction`, referring to departments, agents
and tags by primary key. A reference that no longer exists when the macro is applied refuses the
macro (edit it), rather than silently doing less than it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.access import (
    Role,
    can_use_own_or_shared,
    require_may_manage,
    require_staff,
    role_of,
)
from escalated.errors import DomainError, ErrorCode, NotAllowed, Problem, collect
from escalated.events import person
from escalated.models import Department, Macro, Priority, Status, Tag, Ticket
from escalated.services import tickets as ticket_services
from escalated.services.common import UNSET, Unset, choice, reshare, set_given
from escalated.services.placeholders import render
from escalated.services.text import MAX_BODY, optional_text, required_text

MAX_ACTIONS = 50


class MacroActionType(models.TextChoices):
    SET_STATUS = "set_status", _("Set status")  # status
    SET_PRIORITY = "set_priority", _("Set priority")  # priority
    SET_DEPARTMENT = "set_department", _("Set department")  # department_id; None: no department
    SET_ASSIGNEE = "set_assignee", _("Set assignee")  # assignee_id; None: unassign
    ASSIGN_TO_SELF = "assign_to_self", _("Assign to me")  # the agent applying the macro
    ADD_TAGS = "add_tags", _("Add tags")  # tag_ids
    REMOVE_TAGS = "remove_tags", _("Remove tags")  # tag_ids
    ADD_REPLY = "add_reply", _("Add public reply")  # body, with placeholders filled in
    ADD_NOTE = "add_note", _("Add internal note")  # body, with placeholders filled in


@dataclass(frozen=True)
class MacroAction:
    """One step of a macro. Only the fields its ``type`` uses are meaningful."""

    type: str
    status: str | None = None
    priority: str | None = None
    department_id: Any = None
    assignee_id: Any = None
    tag_ids: tuple[Any, ...] = ()
    body: str | None = None

    def as_json(self) -> dict[str, Any]:
        kind = MacroActionType(self.type)
        data: dict[str, Any] = {"type": kind.value}
        data.update({name: getattr(self, name) for name in _FIELDS[kind]})
        if "tag_ids" in data:
            data["tag_ids"] = list(data["tag_ids"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MacroAction:
        known = {name: data[name] for name in _ALL_FIELDS if name in data}
        if "tag_ids" in known:
            known["tag_ids"] = tuple(known["tag_ids"])
        return cls(type=data.get("type", ""), **known)


# The fields each action type reads (and stores).
_FIELDS: dict[MacroActionType, tuple[str, ...]] = {
    MacroActionType.SET_STATUS: ("status",),
    MacroActionType.SET_PRIORITY: ("priority",),
    MacroActionType.SET_DEPARTMENT: ("department_id",),
    MacroActionType.SET_ASSIGNEE: ("assignee_id",),
    MacroActionType.ASSIGN_TO_SELF: (),
    MacroActionType.ADD_TAGS: ("tag_ids",),
    MacroActionType.REMOVE_TAGS: ("tag_ids",),
    MacroActionType.ADD_REPLY: ("body",),
    MacroActionType.ADD_NOTE: ("body",),
}
_ALL_FIELDS = ("status", "priority", "department_id", "assignee_id", "tag_ids", "body")


def macro_actions(macro: Macro) -> list[MacroAction]:
    return [MacroAction.from_json(item) for item in macro.actions]


# --- what the actions refer to ----------------------------------------------------------------


@dataclass(frozen=True)
class _References:
    """The departments, agents and tags a list of actions names, loaded in one query each."""

    departments: dict[Any, Department]
    users: dict[Any, Any]
    tags: dict[Any, Tag]

    @classmethod
    def load(cls, actions: Sequence[MacroAction]) -> _References:
        department_ids = {a.department_id for a in actions if a.department_id is not None}
        user_ids = {a.assignee_id for a in actions if a.assignee_id is not None}
        tag_ids = {t for a in actions for t in a.tag_ids}
        User = get_user_model()
        return cls(
            departments=_by_pk(Department.objects.all(), department_ids),
            users=_by_pk(User._default_manager.all(), user_ids),
            tags=_by_pk(Tag.objects.all(), tag_ids),
        )

    def problems(self, actions: Sequence[MacroAction]) -> list[Problem]:
        problems = []
        for index, action in enumerate(actions):
            where = f"actions.{index}"
            if action.department_id is not None:
                department = self.departments.get(action.department_id)
                if department is None:
                    problems.append(_missing(f"{where}.department_id", "department"))
                elif not department.is_active:
                    problems.append(
                        Problem(
                            f"The department {department.name!r} is not active.",
                            ErrorCode.INACTIVE,
                            f"{where}.department_id",
                        )
                    )
            if action.assignee_id is not None:
                user = self.users.get(action.assignee_id)
                if user is None:
                    problems.append(_missing(f"{where}.assignee_id", "agent"))
                elif role_of(user) not in (Role.AGENT, Role.ADMIN):
                    problems.append(
                        Problem(
                            f"{user.get_username()} is not an agent.",
                            ErrorCode.INVALID_ASSIGNEE,
                            f"{where}.assignee_id",
                        )
                    )
            if any(tag not in self.tags for tag in action.tag_ids):
                problems.append(_missing(f"{where}.tag_ids", "tag"))
        return problems


def _by_pk(queryset: Any, pks: set[Any]) -> dict[Any, Any]:
    if not pks:
        return {}
    found = {obj.pk: obj for obj in queryset.filter(pk__in=pks)}
    # Stored ids may be strings (from JSON) or numbers: answer to both spellings.
    return found | {str(pk): obj for pk, obj in found.items()}


def _missing(field: str, what: str) -> Problem:
    return Problem(
        f"The macro refers to a {what} that no longer exists; edit the macro.",
        ErrorCode.NOT_FOUND,
        field,
    )


# --- checking a definition --------------------------------------------------------------------


def _action_problems(index: int, action: MacroAction) -> list[Problem]:
    where = f"actions.{index}"
    problems = choice(action.type, MacroActionType, field=f"{where}.type")
    if problems:
        return problems
    kind = MacroActionType(action.type)
    if kind is MacroActionType.SET_STATUS:
        return choice(action.status, Status, field=f"{where}.status")
    if kind is MacroActionType.SET_PRIORITY:
        return choice(action.priority, Priority, field=f"{where}.priority")
    if kind in (MacroActionType.ADD_TAGS, MacroActionType.REMOVE_TAGS) and not action.tag_ids:
        return [Problem("Choose at least one tag.", ErrorCode.REQUIRED, f"{where}.tag_ids")]
    if kind in (MacroActionType.ADD_REPLY, MacroActionType.ADD_NOTE):
        return required_text(action.body, field=f"{where}.body", max_length=MAX_BODY)
    return []


def _definition_problems(actions: Sequence[MacroAction]) -> list[Problem]:
    if not actions:
        return [Problem("A macro needs at least one action.", ErrorCode.REQUIRED, "actions")]
    if len(actions) > MAX_ACTIONS:
        return [
            Problem(f"A macro takes at most {MAX_ACTIONS} actions.", ErrorCode.TOO_LONG, "actions")
        ]
    problems = [p for i, action in enumerate(actions) for p in _action_problems(i, action)]
    return problems or _References.load(actions).problems(actions)


# --- managing macros --------------------------------------------------------------------------


def macro_create(
    *,
    actor: Any,
    name: str | None,
    actions: Sequence[MacroAction],
    description: str = "",
    is_shared: bool = True,
) -> Macro:
    """Save a macro: shared (admins) or the actor's own."""
    require_staff(actor)
    macro = Macro(
        name=(name or "").strip(),
        description=description or "",
        is_shared=is_shared,
        owner=None if is_shared else actor,
    )
    require_may_manage(actor, macro)
    collect(
        [
            *required_text(name, field="name", max_length=200),
            *optional_text(description, field="description", max_length=MAX_BODY),
            *_definition_problems(actions),
        ]
    )
    macro.actions = [action.as_json() for action in actions]
    macro.save()
    return macro


def macro_update(
    *,
    actor: Any,
    macro: Macro,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    actions: Sequence[MacroAction] | Unset = UNSET,
    is_shared: bool | Unset = UNSET,
) -> Macro:
    """Edit a macro; ``actions`` replaces the whole list."""
    require_staff(actor)
    require_may_manage(actor, macro)
    problems: list[Problem] = []
    if name is not UNSET:
        problems += required_text(name, field="name", max_length=200)
        name = (name or "").strip()
    if description is not UNSET:
        problems += optional_text(description, field="description", max_length=MAX_BODY)
    stored: list[dict[str, Any]] | Unset = UNSET
    if actions is not UNSET:
        problems += _definition_problems(actions)
        stored = [action.as_json() for action in actions]
    collect(problems)
    changed = set_given(
        macro,
        {"name": name, "description": description, "actions": stored, "is_shared": is_shared},
    )
    changed += reshare(actor, macro, changed)
    if changed:
        macro.save(update_fields=[*changed, "updated_at"])
    return macro


def macro_delete(*, actor: Any, macro: Macro) -> None:
    require_staff(actor)
    require_may_manage(actor, macro)
    macro.delete()


# --- applying a macro -------------------------------------------------------------------------


def macro_apply(
    *, macro: Macro, tickets: Iterable[Ticket], actor: Any
) -> list[ticket_services.BulkResult]:
    """Apply ``macro`` to each ticket, all of its actions or none, one result per ticket."""
    require_staff(actor)
    if not can_use_own_or_shared(actor, macro):
        raise NotAllowed("This macro belongs to another agent.")
    actions = macro_actions(macro)
    references = _References.load(actions)
    collect(references.problems(actions))
    return ticket_services.tickets_each(
        tickets=tickets,
        actor=actor,
        apply=lambda ticket: _apply(ticket, actor, actions, references),
        verb="macro_applied",
        context={"macro": {"id": macro.pk, "name": macro.name}},
    )


def _apply(ticket: Ticket, actor: Any, actions: Sequence[MacroAction], refs: _References) -> Ticket:
    for action in actions:
        ticket = _apply_one(ticket, actor, action, refs)
    return ticket


def _apply_one(ticket: Ticket, actor: Any, action: MacroAction, refs: _References) -> Ticket:
    t = ticket_services
    kind = MacroActionType(action.type)
    if kind is MacroActionType.SET_STATUS:
        return t.ticket_status_change(ticket=ticket, actor=actor, status=str(action.status))
    if kind is MacroActionType.SET_PRIORITY:
        return t.ticket_priority_change(ticket=ticket, actor=actor, priority=str(action.priority))
    if kind is MacroActionType.SET_DEPARTMENT:
        department = refs.departments.get(action.department_id)
        return t.ticket_department_change(ticket=ticket, actor=actor, department=department)
    if kind is MacroActionType.SET_ASSIGNEE:
        assignee = refs.users.get(action.assignee_id)
        return t.ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
    if kind is MacroActionType.ASSIGN_TO_SELF:
        if person(actor) is None:
            raise DomainError(
                "Only a person can be assigned; this macro assigns whoever applies it.",
                code=ErrorCode.INVALID_ASSIGNEE,
            )
        return t.ticket_assign(ticket=ticket, actor=actor, assignee=actor)
    if kind in (MacroActionType.ADD_TAGS, MacroActionType.REMOVE_TAGS):
        tags = [refs.tags[tag] for tag in action.tag_ids]
        change = t.ticket_tags_add if kind is MacroActionType.ADD_TAGS else t.ticket_tags_remove
        return change(ticket=ticket, actor=actor, tags=tags)
    body = render(action.body or "", ticket=ticket, agent=actor).text
    post = t.ticket_reply if kind is MacroActionType.ADD_REPLY else t.ticket_note_add
    return post(ticket=ticket, author=actor, body=body).ticket
