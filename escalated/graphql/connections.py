"""The connection the ticket lists use: strawberry-django's list connection, with the total
counted apart from the page.

strawberry-django counts a root connection's rows with ``COUNT(*) OVER ()`` on the page's own
statement. A window over the whole result makes PostgreSQL read every matching row, in the
page's order, before it can stop at the page's end: at 100,000 tickets an agent's queue read
100,000 rows through the ``created_at`` index to return 50 (87 ms). Here the total is an
uncorrelated scalar subquery in the same statement instead, so the page stops after its rows
and the count runs once, on whatever index suits it. Same number of statements, same answer.
"""

from __future__ import annotations

import inspect
from typing import Any

import strawberry
from django.db.models import Func, IntegerField, QuerySet, Subquery
from strawberry import Info, relay
from strawberry.types.nodes import InlineFragment
from strawberry_django.queryset import get_queryset_config
from strawberry_django.relay import DjangoListConnection


def _asks_total(info: Info) -> bool:
    return any(
        not isinstance(selection, InlineFragment) and selection.name == "totalCount"
        for field in info.selected_fields
        for selection in field.selections
    )


def counted(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``queryset``, each row carrying the number of rows it has (as strawberry-django's
    ``_strawberry_total_count``), from a subquery the database computes once."""
    # COUNT(*) names no column, so PostgreSQL can count from the indexes and the visibility map
    # without reading the table's pages.
    rows = Func(template="COUNT(*)", output_field=IntegerField())
    total = queryset.order_by().annotate(_total=rows).values("_total")
    return queryset.annotate(_strawberry_total_count=Subquery(total))


@strawberry.type(name="Connection", description="A connection to a list of items.")
class CountedListConnection(DjangoListConnection[relay.NodeType]):
    @classmethod
    def resolve_connection(
        cls,
        nodes: Any,
        *,
        info: Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ) -> Any:
        config = get_queryset_config(nodes) if isinstance(nodes, QuerySet) else None
        if (
            config is None
            or config.optimized_by_prefetching
            or (last or 0) > 0
            or not _asks_total(info)
        ):
            return super().resolve_connection(
                nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
            )
        nodes = counted(nodes)
        # The plain list connection's slicing, past strawberry-django's, which would add its
        # window count to the page.
        conn = super(DjangoListConnection, cls).resolve_connection(
            nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
        if inspect.isawaitable(conn):

            async def settled() -> Any:
                resolved = await conn
                resolved.nodes = nodes
                return resolved

            return settled()
        conn.nodes = nodes
        return conn
