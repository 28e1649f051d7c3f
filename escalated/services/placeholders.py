"""Placeholders in the texts agents reuse (canned responses, macro replies and notes).

A placeholder is a dotted name in double braces, ``{{ requester.first_name }}``. The known names
are the keys of :func:`placeholder_values`. A known name whose value is missing (a ticket in no
department) renders as nothing; an unknown name is left exactly as written, so a typo shows in the
draft instead of silently vanishing, and is reported so a client can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape

from escalated.access import (
    TicketAction,
    can_use_own_or_shared,
    require_staff,
    require_ticket_action,
)
from escalated.errors import NotAllowed
from escalated.events import display_name, person
from escalated.models import CannedResponse, Ticket
from escalated.services.requesters import requester_of

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")


@dataclass(frozen=True)
class Rendered:
    text: str
    unknown: tuple[str, ...]  # unknown placeholder names, in order of first appearance


def _first_name(user: Any) -> str:
    return (getattr(user, "first_name", "") or "").strip() or display_name(user)


def placeholder_values(ticket: Ticket, agent: Any) -> dict[str, str]:
    """Every known placeholder for ``ticket`` answered by ``agent`` (the one writing)."""
    requester, department, writer = requester_of(ticket), ticket.department, person(agent)
    return {
        "ticket.reference": ticket.reference,
        "ticket.subject": ticket.subject,
        "ticket.status": str(ticket.get_status_display()),
        "ticket.priority": str(ticket.get_priority_display()),
        "requester.name": requester.name if requester else "",
        "requester.first_name": requester.first_name if requester else "",
        "requester.email": requester.email if requester else "",
        "agent.name": display_name(writer) if writer else "",
        "agent.first_name": _first_name(writer) if writer else "",
        "department.name": department.name if department else "",
    }


def render(text: str, *, ticket: Ticket, agent: Any) -> Rendered:
    """Fill the placeholders of ``text`` (HTML: values are escaped)."""
    values = placeholder_values(ticket, agent)
    unknown: dict[str, None] = {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return escape(values[name])
        unknown[name] = None
        return match.group(0)

    return Rendered(PLACEHOLDER.sub(fill, text), tuple(unknown))


def canned_response_render(*, response: CannedResponse, ticket: Ticket, actor: Any) -> Rendered:
    """The canned response's body filled in for ``ticket``, as ``actor`` would send it."""
    require_staff(actor)
    if not can_use_own_or_shared(actor, response):
        raise NotAllowed("This canned response belongs to another agent.")
    require_ticket_action(actor, ticket, TicketAction.WORK)
    return render(response.body, ticket=ticket, agent=actor)
