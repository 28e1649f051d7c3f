"""Full-text search of the ticket queue on PostgreSQL.

A ticket's document is its subject (weight A) and description (B); each reply is a document of
its own, so which replies count can depend on the viewer (a customer's search never looks into
internal notes). Both are GIN expression indexes (migration 0013_search): the expressions below
are the one definition of what is indexed, and a query matches through an index only while it
builds exactly the same expression — change one, and a new migration must rebuild the index.

The words are read the way people type them into a search box (``websearch_to_tsquery``:
``refund "credit card" -paypal``, ``invoice or receipt``). Elsewhere (SQLite), the queue's
filter falls back to plain substring matching; see :class:`escalated.filters.TicketFilter`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Q, QuerySet
from django.db.models.expressions import CombinedExpression

# The text search configuration: English stemming ("charged" finds "charge") and stop words.
CONFIG = "english"


def ticket_document() -> CombinedExpression:
    return SearchVector("subject", weight="A", config=CONFIG) + SearchVector(
        "description", weight="B", config=CONFIG
    )


def reply_document() -> SearchVector:
    return SearchVector("body", config=CONFIG)


def ticket_index() -> GinIndex:
    return GinIndex(ticket_document(), name="esc_ticket_search")


def reply_index() -> GinIndex:
    return GinIndex(reply_document(), name="esc_reply_search")


def search_query(words: str) -> SearchQuery:
    return SearchQuery(words, search_type="websearch", config=CONFIG)


def matching(tickets: QuerySet[Any], words: str, replies: QuerySet[Any]) -> QuerySet[Any]:
    """The tickets whose reference is ``words``, or whose document or one of ``replies`` (the
    replies the viewer may read) matches them.

    One list of ids from the two indexes (a UNION ALL; the IN removes repeats), joined to the
    tickets by key: the cost follows the number of matches, not the size of the tables.
    """
    query = search_query(words)
    # The ticket's own document is asked of the queue as filtered so far, so the database
    # combines the text index with the other conditions' indexes before reading any row.
    by_document = tickets.alias(document=ticket_document()).filter(document=query)
    by_reply = replies.alias(document=reply_document()).filter(document=query)
    by_reference = tickets.model._default_manager.filter(reference__in={words, words.upper()})
    found = (
        by_document.order_by()
        .values("pk")
        .union(by_reply.order_by().values("ticket_id"), all=True)
        .union(by_reference.order_by().values("pk"), all=True)
    )
    return tickets.filter(Q(pk__in=found))


def by_relevance(tickets: QuerySet[Any], words: str) -> QuerySet[Any]:
    """Best matches first (by subject, then description); replies-only matches after, newest
    first among equals."""
    rank = SearchRank(ticket_document(), search_query(words))
    return tickets.alias(relevance=rank).order_by("-relevance", "-created_at", "-id")
