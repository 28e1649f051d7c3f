"""Managing departments, tags and canned responses."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from escalated.access import forget, require_admin, require_may_manage, require_staff
from escalated.errors import DomainError, ErrorCode, Problem, collect
from escalated.models import AssignmentMode, CannedResponse, Department, Tag
from escalated.services.common import UNSET, Unset, choice, reshare, set_given
from escalated.services.text import MAX_BODY, optional_text, required_text
from escalated.services.tickets import ticket_tags_remove, tickets_each

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _slug_problems(model: type[Department] | type[Tag], slug: str, pk: int | None) -> list[Problem]:
    if not slug:
        return [
            Problem("Give a name with at least one letter or digit.", ErrorCode.INVALID, "slug")
        ]
    longest = model._meta.get_field("slug").max_length or 0
    if len(slug) > longest:
        # SQLite stores a longer one; PostgreSQL refuses it mid-transaction.
        return [Problem(f"A slug has at most {longest} characters.", ErrorCode.TOO_LONG, "slug")]
    taken = model.objects.filter(slug=slug)
    if pk is not None:
        taken = taken.exclude(pk=pk)
    if taken.exists():
        return [Problem(f"The slug {slug!r} is already used.", ErrorCode.DUPLICATE, "slug")]
    return []


# --- departments ------------------------------------------------------------------------------


def department_create(
    *,
    actor: Any,
    name: str,
    slug: str = "",
    description: str = "",
    is_active: bool = True,
    agents: Iterable[Any] = (),
    assignment_mode: str = AssignmentMode.OFF,
    max_open_tickets_per_agent: int | None = None,
) -> Department:
    require_admin(actor)
    department = Department(
        name=(name or "").strip(),
        slug=slugify(slug or name or ""),
        description=description or "",
        is_active=is_active,
        assignment_mode=assignment_mode,
        max_open_tickets_per_agent=max_open_tickets_per_agent,
    )
    return _department_save(
        department,
        agents=list(agents),
        problems=[
            *required_text(name, field="name", max_length=120),
            *optional_text(description, field="description", max_length=MAX_BODY),
            *_routing_problems(assignment_mode, max_open_tickets_per_agent),
        ],
    )


def department_update(
    *,
    actor: Any,
    department: Department,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    agents: Iterable[Any] | Unset = UNSET,
    assignment_mode: str | Unset = UNSET,
    max_open_tickets_per_agent: int | Unset | None = UNSET,
) -> Department:
    require_admin(actor)
    problems: list[Problem] = _routing_problems(assignment_mode, max_open_tickets_per_agent)
    if name is not UNSET:
        problems += required_text(name, field="name", max_length=120)
        name = name.strip()
    if description is not UNSET:
        problems += optional_text(description, field="description", max_length=MAX_BODY)
    if slug is not UNSET:
        slug = slugify(slug or (name if name is not UNSET else department.name))
    set_given(
        department,
        {
            "name": name,
            "slug": slug,
            "description": description,
            "is_active": is_active,
            "assignment_mode": assignment_mode,
            "max_open_tickets_per_agent": max_open_tickets_per_agent,
        },
    )
    return _department_save(
        department, agents=None if agents is UNSET else list(agents), problems=problems
    )


def _routing_problems(mode: str | Unset, cap: int | Unset | None) -> list[Problem]:
    problems = [] if mode is UNSET else choice(mode, AssignmentMode, field="assignment_mode")
    if cap is not UNSET and cap is not None and cap < 1:
        problems.append(
            Problem(
                "The open-ticket limit must be at least 1 (or empty for no limit).",
                ErrorCode.INVALID,
                "max_open_tickets_per_agent",
            )
        )
    return problems


def _department_save(
    department: Department, *, agents: list[Any] | None, problems: list[Problem]
) -> Department:
    problems += _slug_problems(Department, department.slug, department.pk)
    collect(problems)
    with transaction.atomic():
        department.save()
        if agents is not None:
            department.agents.set(agents)
            for user in agents:
                forget(user)
    return department


def department_delete(*, actor: Any, department: Department) -> None:
    """Delete a department that holds no tickets. One that does is refused: its tickets would
    fall into no department, where every agent sees them, without any change being recorded.
    Move them first (ticketsBulkUpdate), or deactivate the department instead."""
    require_admin(actor)
    held = department.tickets.count()
    if held:
        raise DomainError(
            f"{held} ticket{'s are' if held != 1 else ' is'} in {department.name!r}: move "
            f"{'them' if held != 1 else 'it'} to another department first, or deactivate the "
            "department instead.",
            code=ErrorCode.IN_USE,
            field="id",
        )
    department.delete()


# --- tags -------------------------------------------------------------------------------------


def _colour_problems(color: str | Unset) -> list[Problem]:
    if color is UNSET or _HEX_COLOUR.fullmatch(color):
        return []
    return [Problem("Colour must be a hex colour such as #4F46E5.", ErrorCode.INVALID, "color")]


def tag_create(*, actor: Any, name: str, color: str = "#6B7280", slug: str = "") -> Tag:
    require_admin(actor)
    tag = Tag(name=(name or "").strip(), slug=slugify(slug or name or ""), color=color)
    collect(
        [
            *required_text(name, field="name", max_length=60),
            *_colour_problems(color),
            *_slug_problems(Tag, tag.slug, None),
        ]
    )
    tag.save()
    return tag


def tag_update(
    *,
    actor: Any,
    tag: Tag,
    name: str | Unset = UNSET,
    color: str | Unset = UNSET,
    slug: str | Unset = UNSET,
) -> Tag:
    require_admin(actor)
    problems = _colour_problems(color)
    if name is not UNSET:
        problems += required_text(name, field="name", max_length=60)
        name = name.strip()
    if slug is not UNSET:
        slug = slugify(slug or (name if name is not UNSET else tag.name))
    changed = set_given(tag, {"name": name, "color": color, "slug": slug})
    problems += _slug_problems(Tag, tag.slug, tag.pk)
    collect(problems)
    if changed:
        tag.save(update_fields=changed)
    return tag


def tag_delete(*, actor: Any, tag: Tag) -> None:
    """Take the tag off every ticket, each through the service (so the timeline, signals, SLA
    policies and rules see it go), then delete it."""
    require_admin(actor)
    with transaction.atomic():
        results = tickets_each(
            tickets=tag.tickets.all(),
            actor=actor,
            apply=lambda ticket: ticket_tags_remove(ticket=ticket, actor=actor, tags=[tag]),
            verb="tags_changed",
        )
        refused = [r for r in results if not r.ok]
        if refused:
            raise DomainError(
                f"The tag could not be taken off {refused[0].ticket.reference}: "
                f"{refused[0].problems[0].message}",
                code=ErrorCode.INVALID,
                field="id",
            )
        tag.delete()


# --- canned responses -------------------------------------------------------------------------


def canned_response_create(
    *, actor: Any, title: str, body: str, category: str = "", is_shared: bool = True
) -> CannedResponse:
    require_staff(actor)
    response = CannedResponse(
        title=(title or "").strip(),
        body=body or "",
        category=(category or "").strip(),
        is_shared=is_shared,
        owner=None if is_shared else actor,
    )
    require_may_manage(actor, response)
    collect(
        [
            *required_text(title, field="title", max_length=200),
            *required_text(body, field="body", max_length=MAX_BODY),
            *optional_text(category, field="category", max_length=100),
        ]
    )
    response.save()
    return response


def canned_response_update(
    *,
    actor: Any,
    response: CannedResponse,
    title: str | Unset = UNSET,
    body: str | Unset = UNSET,
    category: str | Unset = UNSET,
    is_shared: bool | Unset = UNSET,
) -> CannedResponse:
    require_staff(actor)
    require_may_manage(actor, response)
    problems: list[Problem] = []
    if title is not UNSET:
        problems += required_text(title, field="title", max_length=200)
    if body is not UNSET:
        problems += required_text(body, field="body", max_length=MAX_BODY)
    if category is not UNSET:
        problems += optional_text(category, field="category", max_length=100)
    collect(problems)
    changed = set_given(
        response, {"title": title, "body": body, "category": category, "is_shared": is_shared}
    )
    changed += reshare(actor, response, changed)
    if changed:
        response.save(update_fields=[*changed, "updated_at"])
    return response


def canned_response_delete(*, actor: Any, response: CannedResponse) -> None:
    require_staff(actor)
    require_may_manage(actor, response)
    response.delete()
