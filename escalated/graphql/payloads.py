"""Webhook bodies shaped by the API itself: a GraphQL query run in-process against the schema.

Registered with :func:`escalated.services.webhooks.use_ticket_shaper` at start-up, so a webhook
receiver sees a ticket exactly as a GraphQL client does (same field names, enum values and global
ids), with one definition of the shape: this query.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from strawberry import relay
from strawberry.django.context import StrawberryDjangoContext

from escalated.access import SystemActor

WEBHOOK_QUERY = """
query EscalatedWebhook($ticket: ID!, $reply: ID!, $withReply: Boolean!) {
  ticket(id: $ticket) {
    id reference subject description status priority ticketType channel
    createdAt updatedAt firstResponseAt resolvedAt closedAt
    requester { id name email }
    assignee { id name email }
    department { id name slug }
    tags { id name slug }
  }
  reply: node(id: $reply) @include(if: $withReply) {
    ... on Reply { id body isInternalNote createdAt author { id name email } }
  }
}
"""

# Webhooks are set up by admins for their own systems: they see what the helpdesk sees.
WEBHOOK_VIEWER = SystemActor("webhook")


def webhook_subject(*, ticket_id: int, reply_id: int | None) -> dict[str, Any]:
    """``{"ticket": …}`` (and ``"reply": …`` for a reply event) as the GraphQL API shapes them."""
    from escalated.graphql.schema import schema

    request = HttpRequest()
    request.user = WEBHOOK_VIEWER  # type: ignore[assignment]
    ticket = relay.to_base64("Ticket", ticket_id)
    result = schema.execute_sync(
        WEBHOOK_QUERY,
        variable_values={
            "ticket": ticket,
            "reply": relay.to_base64("Reply", reply_id) if reply_id is not None else ticket,
            "withReply": reply_id is not None,
        },
        context_value=StrawberryDjangoContext(request=request, response=HttpResponse()),
    )
    if result.errors:
        raise RuntimeError("; ".join(error.message for error in result.errors))
    return dict(result.data or {})
