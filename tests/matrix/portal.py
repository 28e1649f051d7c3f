"""The customer portal's operations: guest tickets, their links and claims, and what a guest
may do with their own ticket. (The "guest" persona owns a guest ticket in billing.)"""

from __future__ import annotations

from escalated.services import guests, tickets
from tests.conftest import World, gid
from tests.matrix import DENIED, NOT_FOUND, NULL, OK, PERSONAS, STAFF, Op, only, payload_mutation

GUEST_INPUT = {"name": "Nia", "email": "nia@example.org", "subject": "Lost parcel"}


def _guest_ticket(w: World) -> None:
    w.guest_headers()


def _resolved_guest_ticket(w: World) -> None:
    w.guest_headers()
    tickets.ticket_resolve(ticket=w.guest_ticket, actor=w.agent)


def _customers_guest_ticket(w: World) -> None:
    """A guest ticket opened earlier with the customer's email address."""
    w.claimable = guests.guest_ticket_create(  # type: ignore[attr-defined]
        name="Cora", email=w.customer.email, subject="Before I signed up"
    )[0]


def _guest_ticket_input(w: World) -> dict[str, object]:
    return {"input": {"ticketId": gid(w.guest_ticket)}}


# On the guest's ticket (in billing): its guest and billing's staff act; customers and the
# sales agent do not find it.
ON_GUEST_TICKET = only(STAFF | {"guest"}, refused=NOT_FOUND, anonymous=DENIED, outsider=NOT_FOUND)
READ_GUEST_TICKET = {
    **dict.fromkeys(PERSONAS, NULL),
    "agent": OK,
    "admin": OK,
    "guest": OK,
}
ENABLED = {"GUEST_TICKETS_ENABLED": True, "GUEST_RATE_LIMIT": {"PER_EMAIL": 10**9}}

MUTATIONS = [
    Op(
        "guestTicketCreate (enabled)",
        payload_mutation("guestTicketCreate", "GuestTicketCreateInput", "ticket { id }"),
        lambda w: {"input": GUEST_INPUT},
        dict.fromkeys(PERSONAS, OK),
        settings=ENABLED,
    ),
    Op(
        "guestTicketCreate (disabled)",
        payload_mutation("guestTicketCreate", "GuestTicketCreateInput", "ticket { id }"),
        lambda w: {"input": GUEST_INPUT},
        dict.fromkeys(PERSONAS, DENIED),
    ),
    Op(
        "guestTokenRotate",
        payload_mutation("guestTokenRotate", "GuestTokenRotateInput", "ticket { id }"),
        _guest_ticket_input,
        only(STAFF, outsider=NOT_FOUND),
        setup=_guest_ticket,
    ),
    Op(
        "guestTicketsClaim",
        payload_mutation("guestTicketsClaim", "GuestTicketsClaimInput", "tickets { id }"),
        lambda w: {"input": {"references": [w.claimable.reference]}},  # type: ignore[attr-defined]
        only({"customer"}, refused=NOT_FOUND),
        setup=_customers_guest_ticket,
        settings={**ENABLED, "GUEST_CLAIM_EMAIL_VERIFIED": lambda user: True},
    ),
    Op(
        "ticketReply (the guest's ticket)",
        payload_mutation("ticketReply", "TicketReplyInput", "reply { id }"),
        lambda w: {"input": {"ticketId": gid(w.guest_ticket), "body": "Any news?"}},
        ON_GUEST_TICKET,
        setup=_guest_ticket,
    ),
    Op(
        "ticketClose (the guest's ticket)",
        payload_mutation("ticketClose", "TicketCloseInput", "ticket { id }"),
        _guest_ticket_input,
        ON_GUEST_TICKET,
        setup=_guest_ticket,
    ),
    Op(
        "ticketReopen (the guest's ticket)",
        payload_mutation("ticketReopen", "TicketReopenInput", "ticket { id }"),
        _guest_ticket_input,
        {**ON_GUEST_TICKET, "guest": DENIED},  # a guest link cannot reopen
        setup=_resolved_guest_ticket,
    ),
]

QUERIES = [
    Op(
        "ticket(id) (the guest's ticket)",
        "query($id: ID!) { ticket(id: $id) { id } }",
        lambda w: {"id": gid(w.guest_ticket)},
        READ_GUEST_TICKET,
        setup=_guest_ticket,
    ),
    Op(
        "node (the guest's ticket)",
        "query($id: ID!) { node(id: $id) { id } }",
        lambda w: {"id": gid(w.guest_ticket)},
        READ_GUEST_TICKET,
        setup=_guest_ticket,
    ),
]
