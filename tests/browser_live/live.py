"""Small helpers the live browser tests share: a GraphQL post as the page's signed-in person, and
a marker that tells a page reload from a live update."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page

# Posts a GraphQL operation from inside the page, as that person (session cookie + Django CSRF
# pair), and answers the time just before the request left, in the page's clock (Date.now()).
POST_FROM_PAGE = """async ([query, variables]) => {
    const token = document.cookie.split('; ').find((c) => c.startsWith('csrftoken='))?.split('=')[1]
        ?? document.querySelector('meta[name="csrf-token"]')?.content;
    const sent = Date.now();
    const response = await fetch('/support/graphql/', {
        method: 'POST',
        credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
        body: JSON.stringify({query, variables}),
    });
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return {sent, data: body.data};
}"""

REPLY = "mutation($i: TicketReplyInput!) { ticketReply(input: $i) { errors { message } } }"
NOTE = "mutation($i: TicketNoteAddInput!) { ticketNoteAdd(input: $i) { errors { message } } }"
ASSIGN = "mutation($i: TicketAssignInput!) { ticketAssign(input: $i) { errors { message } } }"


def gid(type_name: str, pk: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def post_graphql(page: Page, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(POST_FROM_PAGE, [query, variables])
    payload = next(iter(result["data"].values()))
    assert payload.get("errors") in (None, []), json.dumps(payload)
    return result


def mark_document(page: Page) -> None:
    """Tag this document; a full reload would lose the tag."""
    page.evaluate("() => { window.__liveMark = 'still-here'; }")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("() => window.__liveMark === 'still-here'"))
