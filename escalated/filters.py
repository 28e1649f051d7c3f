"""The queue filters: one definition, used by the GraphQL ``tickets`` query and by any door that
filters from query parameters (the same snake_case keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django.db import connections
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from escalated import search
from escalated.access import is_staff
from escalated.authentication import request_actor
from escalated.models import (
    PRIORITY_RANK,
    STATUS_RANK,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    InboundEmail,
    InboundProvider,
    InboundStatus,
    Priority,
    Reply,
    SlaClock,
    Status,
    Ticket,
    TicketFollower,
    TicketType,
)


class TicketFilter(django_filters.FilterSet):
    """Filters for a ticket queue. Pass ``request`` so viewer-relative filters know the viewer.

    Filters on what only staff may see (tags, SLA clocks) are refused to everyone else: a
    customer filtering their own tickets by a tag id would learn which tags they carry.
    """

    STAFF_ONLY = ("tag", "sla_breached", "sla_due_before", "site")

    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    ticket_type = django_filters.MultipleChoiceFilter(choices=TicketType.choices)
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    department = django_filters.NumberFilter(field_name="department_id")
    site = django_filters.NumberFilter(field_name="site_id")
    tag = django_filters.NumberFilter(method="filter_tag")
    requester = django_filters.NumberFilter(field_name="requester_id")
    search = django_filters.CharFilter(method="filter_search")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    following = django_filters.BooleanFilter(method="filter_following")
    sla_breached = django_filters.BooleanFilter(method="filter_sla_breached")
    sla_due_before = django_filters.IsoDateTimeFilter(method="filter_sla_due_before")

    class Meta:
        model = Ticket
        fields: list[str] = []

    @property
    def viewer(self) -> Any:
        return request_actor(self.request) if self.request is not None else None

    def is_valid(self) -> bool:
        valid = bool(super().is_valid())
        if valid and not is_staff(self.viewer):
            for name in self._staff_only_given():
                self.form.add_error(name, "Only agents can filter by this.")
                valid = False
        return valid

    def filter_queryset(self, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if not is_staff(self.viewer):  # whoever skipped is_valid() still gets no answer
            for name in self._staff_only_given():
                self.form.cleaned_data[name] = None
        return super().filter_queryset(queryset)

    def _staff_only_given(self) -> list[str]:
        data = self.form.cleaned_data
        return [name for name in self.STAFF_ONLY if data.get(name) not in (None, "")]

    def filter_tag(self, queryset: QuerySet[Ticket], name: str, value: int) -> QuerySet[Ticket]:
        tagged = Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"), tag_id=value)
        return queryset.filter(Exists(tagged))

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        """Match the reference, subject, description and replies the viewer may read: a
        customer's search never looks inside internal notes. Full-text on PostgreSQL
        (:mod:`escalated.search`); substrings elsewhere."""
        value = value.strip()
        if not value:
            return queryset
        replies = Reply.objects.all()
        if not is_staff(self.viewer):
            replies = replies.filter(is_internal_note=False)
        if connections[queryset.db].vendor == "postgresql":
            return search.matching(queryset, value, replies)
        replies = replies.filter(ticket_id=OuterRef("pk"), body__icontains=value)
        return queryset.filter(
            Q(reference__iexact=value)
            | Q(subject__icontains=value)
            | Q(description__icontains=value)
            | Exists(replies)
        )

    def filter_following(
        self, queryset: QuerySet[Ticket], name: str, value: bool | None
    ) -> QuerySet[Ticket]:
        viewer = self.viewer
        if value is None or viewer is None or not viewer.is_authenticated:
            return queryset
        follows = TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=viewer.pk)
        return queryset.filter(Exists(follows)) if value else queryset.exclude(Exists(follows))

    def filter_sla_breached(
        self, queryset: QuerySet[Ticket], name: str, value: bool | None
    ) -> QuerySet[Ticket]:
        """Tickets with a current SLA clock that has run out (met late, or overdue now)."""
        if value is None:
            return queryset
        breached = (
            SlaClock.objects.current().breached(timezone.now()).filter(ticket_id=OuterRef("pk"))
        )
        return queryset.filter(Exists(breached)) if value else queryset.exclude(Exists(breached))

    def filter_sla_due_before(
        self, queryset: QuerySet[Ticket], name: str, value: datetime
    ) -> QuerySet[Ticket]:
        """Tickets with a running SLA clock due before ``value`` (overdue ones included)."""
        due = SlaClock.objects.current().unmet().filter(ticket_id=OuterRef("pk"), due_at__lt=value)
        return queryset.filter(Exists(due))


def _rank(field: str, ranks: dict[str, int]) -> Case:
    return Case(
        *(When(**{field: key}, then=Value(rank)) for key, rank in ranks.items()),
        default=Value(len(ranks)),
        output_field=IntegerField(),
    )


# Sort keys the queue offers; priority and status sort by severity and workflow, not by name.
TICKET_ORDERINGS: dict[str, Any] = {
    "created": "created_at",
    "updated": "updated_at",
    # "updated" as customers and guests see it (see Ticket.public_activity_at).
    "public_activity": "public_activity_at",
    "priority": _rank("priority", PRIORITY_RANK),
    "status": _rank("status", STATUS_RANK),
}


def order_by_relevance(queryset: QuerySet[Ticket], words: str) -> QuerySet[Ticket]:
    """Best matches for ``words`` first where the database ranks them (PostgreSQL); else the
    default order, newest first."""
    if connections[queryset.db].vendor == "postgresql" and words.strip():
        return search.by_relevance(queryset, words.strip())
    return order_tickets(queryset, "created", descending=True)


def order_tickets(queryset: QuerySet[Ticket], key: str, descending: bool) -> QuerySet[Ticket]:
    """Order by one of :data:`TICKET_ORDERINGS`, newest first among equals, ids as tie-break."""
    expression = TICKET_ORDERINGS[key]
    if isinstance(expression, str):
        primary = f"-{expression}" if descending else expression
        return queryset.order_by(primary, "-id" if descending else "id")
    annotated = queryset.annotate(_sort_rank=expression)
    primary = "-_sort_rank" if descending else "_sort_rank"
    return annotated.order_by(primary, "-created_at", "-id")


class DeliveryFilter(django_filters.FilterSet):
    """Filters for the outbox log that admins read."""

    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=DeliveryKind.choices)
    event = django_filters.CharFilter()
    ticket = django_filters.NumberFilter(field_name="ticket_id")
    webhook = django_filters.NumberFilter(field_name="webhook_id")
    recipient = django_filters.CharFilter(lookup_expr="icontains")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields: list[str] = []


class InboundEmailFilter(django_filters.FilterSet):
    """Filters for the inbound email log that admins read."""

    status = django_filters.MultipleChoiceFilter(choices=InboundStatus.choices)
    provider = django_filters.MultipleChoiceFilter(choices=InboundProvider.choices)
    ticket = django_filters.NumberFilter(field_name="ticket_id")
    sender = django_filters.CharFilter(lookup_expr="icontains")
    message_id = django_filters.CharFilter()
    received_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = InboundEmail
        fields: list[str] = []
