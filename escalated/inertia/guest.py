"""The guest's pages: a ticket without an account, and the ticket behind a magic link.

The link's token makes the request the guest's (see :func:`escalated.inertia.views._settle`),
so the API shows and lets them change that one ticket and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.http import Http404, HttpRequest

from escalated.conf import PRIORITIES, escalated_settings
from escalated.inertia import customer
from escalated.inertia.customer import departments_offered, ticket_create_input
from escalated.inertia.forms import Form
from escalated.inertia.pages import Page, Prop, take
from escalated.inertia.shape import ticket_detail
from escalated.inertia.views import endpoint, form_view, page_view, url


def _guests_welcome(request: HttpRequest, _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    if not escalated_settings.GUEST_TICKETS_ENABLED:
        raise Http404("Guest tickets are not enabled.")
    return {}


CREATE = Page(
    "Escalated/Guest/Create",
    "GuestTicketCreate",
    {
        "departments": take("departments", departments_offered),
        "priorities": Prop(build=lambda _context: list(PRIORITIES)),
    },
    audience="any",
    variables=_guests_welcome,
)

SHOW = Page(
    "Escalated/Guest/Show",
    "GuestTicketShow",
    {
        "ticket": take("ticket", ticket_detail),
        "token": Prop(build=lambda context: str(context.kwargs["token"])),
    },
    audience="guest",
    variables=lambda _request, kwargs: {"id": kwargs["ticket_id"]},
    required=("ticket",),
)


def _guest_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields = ticket_create_input(body, kwargs)
    return {**fields, "name": body.get("guest_name"), "email": body.get("guest_email")}


def _created(_request: HttpRequest, payload: dict[str, Any], _kwargs: Any) -> str:
    return url("escalated.guest.tickets.show", payload["guestToken"])


def _show(_request: HttpRequest, _payload: dict[str, Any], kwargs: Mapping[str, Any]) -> str:
    return url("escalated.guest.tickets.show", kwargs["token"])


STORE = Form(
    "GuestTicketStore",
    "guestTicketCreate",
    _guest_input,
    _created,
    "Your ticket has been opened; we have emailed you a link to it.",
    fields={
        "name": "guest_name",
        "email": "guest_email",
        "departmentId": "department_id",
        "ticketType": "ticket_type",
    },
    general_field="subject",
    audience="any",
)
# The customer's reply and rating, answered on the guest's page and open to the link's holder.
REPLY = replace(customer.REPLY, success=_show, audience="guest")
RATE = replace(customer.RATE, success=_show, audience="guest")


def _back(kwargs: Mapping[str, Any]) -> str:
    return url("escalated.guest.tickets.show", kwargs["token"])


N = "escalated.guest.tickets"
urlpatterns = [
    *endpoint("guest/create/", GET=(f"{N}.create", page_view(CREATE))),
    *endpoint("guest/", POST=(f"{N}.store", form_view(STORE, lambda _k: url(f"{N}.create")))),
    *endpoint("guest/<str:token>/", GET=(f"{N}.show", page_view(SHOW))),
    *endpoint("guest/<str:token>/reply/", POST=(f"{N}.reply", form_view(REPLY, _back))),
    *endpoint("guest/<str:token>/rate/", POST=(f"{N}.rate", form_view(RATE, _back))),
]
