"""Who gets a department's next ticket, and agents' availability for new work.

A department's ``assignment_mode`` says how its new tickets find an agent:

* ``off``: they wait, unassigned, in the department's queue;
* ``round_robin``: each goes to the next available agent after the one who got the last ticket,
  in a fixed order (by user id), wrapping around;
* ``least_loaded``: each goes to the available agent holding the fewest open tickets, taking
  turns (as in round robin) among agents with equal loads.

An agent is available when their account is active, they have not marked themselves away, and
they hold fewer open tickets (in any department) than the department's
``max_open_tickets_per_agent``, when it sets one. When nobody is available the ticket stays
unassigned in the queue.

Fairness under concurrency: :func:`next_agent` locks the department's :class:`RoutingCursor` row
until the caller's transaction ends, so tickets created at the same moment take their turns one
after another, each seeing the assignments committed before it.

Entry points: :func:`next_agent` chooses (``ticket_create`` calls it for new tickets);
:func:`escalated.services.tickets.ticket_auto_assign` gives an existing ticket to the chosen agent
through ``ticket_assign`` (for escalation rules and the like).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from escalated.access import Role, require_admin, require_staff, role_of
from escalated.errors import DomainError, ErrorCode, collect
from escalated.models import (
    OPEN_STATUSES,
    AgentProfile,
    AssignmentMode,
    Availability,
    Department,
    RoutingCursor,
    Ticket,
)
from escalated.services.common import choice


def open_ticket_counts() -> Subquery:
    """Per user (as ``OuterRef("pk")``): how many open tickets are assigned to them."""
    return Subquery(
        Ticket.objects.filter(assignee_id=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def _has_is_active_field(user_model: Any) -> bool:
    """Custom user models need not store ``is_active`` (AbstractBaseUser makes it a constant)."""
    return any(field.name == "is_active" for field in user_model._meta.concrete_fields)


def available_agents(department: Department) -> QuerySet[Any]:
    """The department's agents who may take a new ticket now, in rotation order, each annotated
    with ``open_tickets``. One SQL statement."""
    agents = department.agents.all()
    if _has_is_active_field(agents.model):
        agents = agents.filter(is_active=True)
    agents = (
        agents.exclude(escalated_agent_profile__availability=Availability.AWAY)
        .annotate(open_tickets=Coalesce(open_ticket_counts(), Value(0)))
        .order_by("pk")
    )
    cap = department.max_open_tickets_per_agent
    return agents if cap is None else agents.filter(open_tickets__lt=cap)


def _locked_cursor(department: Department) -> RoutingCursor:
    RoutingCursor.objects.bulk_create([RoutingCursor(department=department)], ignore_conflicts=True)
    return RoutingCursor.objects.select_for_update().get(department=department)


def next_agent(department: Department, *, mode: str | None = None) -> Any | None:
    """The agent who should get ``department``'s next ticket, or None when nobody is available
    (or the mode is ``off``).

    ``mode`` overrides the department's ``assignment_mode`` (an escalation rule that says "assign
    round robin within Billing" passes ``AssignmentMode.ROUND_ROBIN``). Must run inside the
    transaction that assigns the ticket: the choice takes this department's turn, and the lock on
    its rotation holds until that transaction ends (a rollback gives the turn back).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_agent() must run inside the transaction that assigns the ticket")
    mode = mode or department.assignment_mode
    if mode == AssignmentMode.OFF or not department.is_active:
        return None
    cursor = _locked_cursor(department)
    agents = list(available_agents(department))
    if not agents:
        return None
    last = cursor.last_agent_id
    after_last = [agent for agent in agents if last is not None and agent.pk > last]
    rotation = after_last + agents[: len(agents) - len(after_last)]
    if mode == AssignmentMode.LEAST_LOADED:
        chosen = min(rotation, key=lambda agent: agent.open_tickets)  # first of the least loaded
    else:
        chosen = rotation[0]
    cursor.last_agent = chosen
    cursor.save(update_fields=["last_agent", "updated_at"])
    return chosen


# --- availability -----------------------------------------------------------------------------


def agent_availability(user: Any) -> str:
    """The user's availability (agents without a profile are available)."""
    try:
        return str(user.escalated_agent_profile.availability)
    except AgentProfile.DoesNotExist:
        return Availability.AVAILABLE


def agent_availability_set(*, actor: Any, agent: Any, availability: str) -> AgentProfile:
    """Mark ``agent`` available or away. Agents set their own; admins anyone's."""
    require_staff(actor)
    if agent.pk != actor.pk:
        require_admin(actor)
    collect(choice(availability, Availability, field="availability"))
    if role_of(agent) not in (Role.AGENT, Role.ADMIN):
        raise DomainError(
            f"{agent.get_username()} is not an agent.", code=ErrorCode.INVALID, field="agent_id"
        )
    with transaction.atomic():
        profile, _created = AgentProfile.objects.select_for_update().get_or_create(
            user=agent, defaults={"availability": Availability.AVAILABLE}
        )
        if profile.availability != availability:
            profile.availability = availability
            profile.availability_changed_at = timezone.now()
            profile.save(update_fields=["availability", "availability_changed_at", "updated_at"])
    return profile
