"""The ``tickets`` query's filter and order inputs, mapped onto
:class:`escalated.filters.TicketFilter`.

Every input field here is a filter of the FilterSet under the same (camelCased) name; a test
keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import django_filters
import strawberry
from django.db.models import QuerySet
from django.http import HttpRequest
from graphql import GraphQLError
from strawberry import relay

from escalated.access import is_staff
from escalated.authentication import request_actor
from escalated.filters import TicketFilter, order_by_relevance, order_tickets
from escalated.graphql.enums import Direction, TicketKind, TicketPriority, TicketStatus
from escalated.models import Ticket


@strawberry.input(name="TicketFilter", description="Narrow a ticket queue; all parts must match.")
class TicketFilterInput:
    status: list[TicketStatus] | None = None
    priority: list[TicketPriority] | None = None
    ticket_type: list[TicketKind] | None = None
    assignee: relay.GlobalID | None = None
    unassigned: bool | None = None
    department: relay.GlobalID | None = None
    site: relay.GlobalID | None = strawberry.field(
        default=None, description="On a hub: only the tickets of this site (staff)."
    )
    tag: relay.GlobalID | None = None
    requester: relay.GlobalID | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Words in the reference, subject, description or replies, as typed into a "
        'search box (on PostgreSQL: full-text, with "quoted phrases", -exclusions and or); '
        "without an order, best matches come first.",
    )
    created_after: datetime | None = None
    created_before: datetime | None = None
    following: bool | None = strawberry.field(
        default=None, description="Only tickets the viewer follows (or, with false, does not)."
    )
    sla_breached: bool | None = strawberry.field(
        default=None,
        description="Only tickets with an SLA clock that has run out (or, with false, none).",
    )
    sla_due_before: datetime | None = strawberry.field(
        default=None, description="Only tickets with a running SLA clock due before this time."
    )

    # The node type each id filter expects.
    ID_TYPES = {
        "assignee": "User",
        "department": "Department",
        "tag": "Tag",
        "requester": "User",
        "site": "Site",
    }

    def to_data(self) -> dict[str, Any]:
        return filter_data(self, TicketFilter, self.ID_TYPES)


def filter_data(
    given: Any, filterset: type[django_filters.FilterSet], id_types: dict[str, str]
) -> dict[str, Any]:
    """A GraphQL filter input as a FilterSet's data: snake_case keys, plain values; each global id
    must name the node type ``id_types`` gives for its key."""
    data: dict[str, Any] = {}
    for name in filterset.base_filters:
        value = getattr(given, name)
        if value is None:
            continue
        if isinstance(value, relay.GlobalID):
            if value.type_name != id_types[name]:
                raise GraphQLError(f"filter.{name} must be a {id_types[name]} id.")
            value = value.node_id
        elif isinstance(value, list):
            value = [v.value if isinstance(v, Enum) else v for v in value]
        elif isinstance(value, datetime):
            value = value.isoformat()
        data[name] = value
    return data


def apply_filter(
    filterset: type[django_filters.FilterSet],
    data: dict[str, Any],
    queryset: QuerySet[Any],
    request: HttpRequest,
) -> QuerySet[Any]:
    """``queryset`` narrowed by ``filterset``; a bad value is a GraphQL error naming the key.
    No data narrows nothing and cannot be wrong, so it skips the FilterSet: building and
    validating its form for nothing was several per cent of an unfiltered list's time."""
    if not data:
        return queryset
    bound = filterset(data, queryset=queryset, request=request)
    if not bound.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in bound.errors.items())
        raise GraphQLError(f"Invalid filter: {problems}")
    return bound.qs


@strawberry.enum(description="What a ticket list can be sorted by.")
class TicketOrderField(Enum):
    CREATED = "created"
    UPDATED = "updated"
    PRIORITY = "priority"
    STATUS = "status"


@strawberry.input(description="Sort order of a ticket list (default: newest first).")
class TicketOrder:
    field: TicketOrderField = TicketOrderField.CREATED
    direction: Direction = Direction.DESC


def filter_tickets(
    queryset: QuerySet[Ticket],
    request: HttpRequest,
    filter: TicketFilterInput | None,
    order: TicketOrder | None,
) -> QuerySet[Ticket]:
    filtered = apply_filter(TicketFilter, filter.to_data() if filter else {}, queryset, request)
    if order is None and filter is not None and filter.search:
        return order_by_relevance(filtered, filter.search)
    order = order or TicketOrder()
    key = order.field.value
    if order.field is TicketOrderField.UPDATED and not is_staff(request_actor(request)):
        key = "public_activity"  # the time they are shown as updatedAt
    return order_tickets(filtered, key, descending=order.direction is Direction.DESC)
