"""Who hears about what: the table of ticket events to webhook events and notification emails.

Emails go out while ``"email"`` is in ``NOTIFICATION_CHANNELS``, each kind behind its switch in
``NOTIFICATIONS``; webhook calls go to whatever endpoints are active (and ``WEBHOOK_URL``).

:func:`notify` runs inside the change's transaction (it is a handler in ``events.IN_TRANSACTION``):
it decides the recipients and writes one outbox row per email and per webhook endpoint.
:func:`notify_many` does the same for a sweep's batch (check_sla's breaches) in a number of
statements that does not grow with the batch: endpoints and department agents are read once,
and each person's role once. The
emails are rendered later, at their first attempt, from the templates under
``escalated/email/`` (a host overrides them by shipping templates of the same names).

Rules that hold for every email:

* nobody is emailed about their own action;
* a recipient must be active, have an address, and be able to see the ticket;
* an internal note never reaches a customer: no rule picks one, :func:`notify` drops any
  non-staff recipient of a note, and rendering refuses such a row outright.
"""

from __future__ import annotations

import contextvars
import re
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string

from escalated import events
from escalated.access import (
    GuestActor,
    ParticipantActor,
    SystemActor,
    TicketAction,
    can_see_ticket,
    is_staff,
    prime_department_ids,
    require_ticket_action,
)
from escalated.conf import escalated_settings
from escalated.events import TicketEvent, display_name, person
from escalated.models import (
    Delivery,
    DeliveryKind,
    Department,
    GuestAccess,
    Reply,
    Status,
    Ticket,
    Webhook,
)
from escalated.services import outbox, webhooks
from escalated.services.message_ids import message_id, reply_address, thread_root
from escalated.services.requesters import Requester, requester_of
from escalated.services.shared_reads import read_once
from escalated.services.tickets import is_agent_reply

Recipients = Callable[[TicketEvent], Iterable[Any]]


@dataclass(frozen=True)
class Email:
    """One email rule: its switch in ``ESCALATED["NOTIFICATIONS"]``, its templates
    (``escalated/email/<template>.subject.txt``, ``.txt``, ``.html``) and who receives it."""

    switch: str
    template: str
    recipients: Recipients
    # What the email needs beyond the event's record (put in the row's payload, under "context").
    context: Callable[[Any], dict[str, Any]] | None = None
    # A receipt for the person who acted (a guest's magic link), not a notification about them.
    to_actor: bool = False


class Route:
    """What one kind of ticket event sends: a webhook event (a name, or a function of the event
    giving one) and any number of emails."""

    def __init__(
        self,
        webhook: str | Callable[[Any], str] | None,
        *emails: Email,
        also: Callable[[Any], list[str]] | None = None,
    ) -> None:
        self.webhook = webhook
        self.emails = emails
        # Further webhook events the same change amounts to (a reply that moved the status).
        self.also = also

    def event_name(self, event: TicketEvent) -> str:
        """The webhook event's name, or (for a route without webhooks) the kind of event."""
        if self.webhook is None:
            return event.verb
        return self.webhook if isinstance(self.webhook, str) else self.webhook(event)


# --- recipients -------------------------------------------------------------------------------


class _Batch:
    """What writing one batch of events reads once: the active webhook endpoints, the agents of
    the departments involved, and one object per person (so each role is worked out once)."""

    def __init__(self, batch: Sequence[TicketEvent]) -> None:
        self.batch = batch
        self.endpoints = read_once(
            "webhooks.active", lambda: list(Webhook.objects.filter(is_active=True))
        )
        self._agents: dict[int, list[Any]] | None = None
        self._people: dict[int, Any] = {}

    def person(self, user: Any) -> Any:
        return self._people.setdefault(user.pk, user)

    def department_agents(self, department_id: int | None) -> list[Any]:
        if department_id is None:
            return []
        if self._agents is None:
            ids = {e.ticket.department_id for e in self.batch if e.ticket.department_id}
            memberships = Department.agents.through.objects.filter(
                department_id__in=ids, department__is_active=True
            ).select_related("user")
            self._agents = {}
            for row in memberships:
                self._agents.setdefault(row.department_id, []).append(self.person(row.user))
            # Each agent's role and sight of the ticket need their departments: read them all
            # at once rather than once per agent.
            prime_department_ids(self._people.values())
        return self._agents.get(department_id, [])


_current: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
    "escalated_notification_batch", default=None
)


def _department_agents(ticket: Ticket) -> Iterable[Any]:
    return _department_agents_of(ticket.department_id)


def _department_agents_of(department_id: int | None) -> Iterable[Any]:
    batch = _current.get()
    if batch is not None:
        return batch.department_agents(department_id)
    if department_id is None:
        return []
    return get_user_model().objects.filter(
        escalated_departments=department_id, escalated_departments__is_active=True
    )


def department_agents(event: TicketEvent) -> Iterable[Any]:
    return _department_agents(event.ticket)


def assignee_and_department(event: TicketEvent) -> Iterable[Any]:
    return [event.ticket.assignee, *_department_agents(event.ticket)]


def assignee_on_creation(event: TicketEvent) -> Iterable[Any]:
    return [event.ticket.assignee]


def new_assignee(event: Any) -> Iterable[Any]:
    return [event.agent]


def _public_reply(event: Any) -> bool:
    return not event.reply.is_internal_note


def assignee_of_customer_reply(event: Any) -> Iterable[Any]:
    if _public_reply(event) and not is_agent_reply(event.ticket, event.actor):
        return [event.ticket.assignee]
    return []


def requester_of_agent_reply(event: Any) -> Iterable[Any]:
    if _public_reply(event) and is_agent_reply(event.ticket, event.actor):
        return [requester_of(event.ticket)]
    return []


def notified_people(event: Any) -> Iterable[Any]:
    """Whom a notice names: a department's agents (default: the ticket's department), the
    assignee, or an address; "webhooks" names nobody by email."""
    if event.to == "department":
        department = event.department or event.ticket.department
        return [] if department is None else _department_agents_of(department.pk)
    if event.to == "assignee":
        return [event.ticket.assignee]
    if event.to == "email":
        return [Requester(name="", first_name="", email=event.email, user=None)]
    return []


def the_guest(event: Any) -> Iterable[Any]:
    return [Requester(name=event.guest_name, first_name="", email=event.guest_email, user=None)]


def guest_link_context(event: Any) -> dict[str, Any]:
    return {"link": event.guest_link, "rotated": isinstance(event, events.GuestLinkRotated)}


def requester_when_resolved(event: Any) -> Iterable[Any]:
    return [requester_of(event.ticket)] if event.new == Status.RESOLVED else []


# --- the table --------------------------------------------------------------------------------

NEW_TICKET = Email("TICKET_CREATED", "ticket_created", department_agents)
ASSIGNED_ON_CREATION = Email("TICKET_ASSIGNED", "ticket_assigned", assignee_on_creation)
ASSIGNED = Email("TICKET_ASSIGNED", "ticket_assigned", new_assignee)
CUSTOMER_REPLY = Email("CUSTOMER_REPLY", "customer_reply", assignee_of_customer_reply)
AGENT_REPLY = Email("AGENT_REPLY", "agent_reply", requester_of_agent_reply)
RESOLVED = Email("TICKET_RESOLVED", "ticket_resolved", requester_when_resolved)
SLA_WARNING = Email("SLA_WARNING", "sla_warning", assignee_and_department)
SLA_BREACHED = Email("SLA_BREACHED", "sla_breached", assignee_and_department)
NOTICE = Email("ESCALATION_NOTICE", "escalation_notice", notified_people)
# The magic link is the guest's only way back to their ticket: always sent, and wiped from the
# outbox once it is (see outbox.REDACT).
GUEST_LINK = Email("GUEST_LINK", "guest_link", the_guest, context=guest_link_context, to_actor=True)


def _assignment(event: Any) -> str:
    return "ticket.assigned" if event.agent is not None else "ticket.unassigned"


def _reply_moved_status(event: Any) -> list[str]:
    return ["ticket.status_changed"] if event.status_change else []


def _reply(event: Any) -> str:
    return "note.created" if event.reply.is_internal_note else "reply.created"


# One row per kind of event; an event not listed sends nothing. A new kind of event joins with
# one line.
ROUTES: dict[type[TicketEvent], Route] = {
    events.TicketCreated: Route("ticket.created", NEW_TICKET, ASSIGNED_ON_CREATION),
    events.TicketUpdated: Route("ticket.updated"),
    events.TicketStatusChanged: Route("ticket.status_changed", RESOLVED),
    events.TicketAssigned: Route(_assignment, ASSIGNED),
    events.TicketPriorityChanged: Route("ticket.priority_changed"),
    events.TicketDepartmentChanged: Route("ticket.department_changed"),
    events.TicketTagsChanged: Route("ticket.tags_changed"),
    events.ReplyAdded: Route(_reply, CUSTOMER_REPLY, AGENT_REPLY, also=_reply_moved_status),
    events.TicketRated: Route("ticket.rated"),
    events.SlaWarning: Route("sla.warning", SLA_WARNING),
    events.SlaBreached: Route("sla.breached", SLA_BREACHED),
    events.TicketNotified: Route("ticket.notified", NOTICE),
    events.GuestTicketCreated: Route(
        "ticket.created", NEW_TICKET, ASSIGNED_ON_CREATION, GUEST_LINK
    ),
    events.GuestLinkRotated: Route(None, GUEST_LINK),
}


# --- writing the rows -------------------------------------------------------------------------


def _actor_name(actor: Any) -> str:
    if isinstance(actor, SystemActor):
        return actor.label
    if isinstance(actor, ParticipantActor) and actor.user is None:
        return actor.name or actor.email
    user = person(actor)
    return display_name(user) if user is not None else ""


def event_facts(event: TicketEvent) -> dict[str, Any]:
    """What a delivery keeps of its event, to build its message from later."""
    reply = getattr(event, "reply", None)
    before, after = event.change()
    return {
        "reply_id": reply.pk if reply is not None else None,
        "actor": _actor_name(event.actor),
        "before": before,
        "after": after,
    }


def route_of(event: TicketEvent) -> Route | None:
    """The route of ``event``'s kind, or of the nearest kind it refines (a guest's new ticket is a
    new ticket)."""
    return next((ROUTES[kind] for kind in type(event).__mro__ if kind in ROUTES), None)


def notify(event: TicketEvent) -> None:
    """Write the outbox rows ``event`` calls for (runs inside the change's transaction)."""
    notify_many([event])


RowWriter = Callable[[Sequence[TicketEvent]], list[Delivery]]
# Doors that hear of every event through the outbox (the synced push, the hub's calls back to
# sites) add their rows here, registered when the app loads.
ROW_WRITERS: list[RowWriter] = []


def register_rows(writer: RowWriter) -> None:
    if writer not in ROW_WRITERS:
        ROW_WRITERS.append(writer)


def notify_many(batch: Sequence[TicketEvent]) -> None:
    """Write the outbox rows of every event of ``batch``, in one INSERT."""
    extra = [row for writer in ROW_WRITERS for row in writer(batch)]
    routed = [(event, route) for event in batch if (route := route_of(event)) is not None]
    if not routed:
        outbox.enqueue(extra)
        return
    context = _Batch([event for event, _route in routed])
    token = _current.set(context)
    # Read once for the batch: the settings are layered (host, environment, stored overrides)
    # on every read.
    emails = "email" in escalated_settings.NOTIFICATION_CHANNELS
    switches = escalated_settings.NOTIFICATIONS if emails else {}
    try:
        rows: list[Delivery] = []
        for event, route in routed:
            name = route.event_name(event)
            facts = event_facts(event)
            if route.webhook is not None:
                rows += webhooks.webhook_rows(event, name, facts, endpoints=context.endpoints)
            for also in route.also(event) if route.also is not None else ():
                rows += webhooks.webhook_rows(event, also, facts, endpoints=context.endpoints)
            if emails:
                rows += _email_rows(event, route, name, facts, switches)
    finally:
        _current.reset(token)
    outbox.enqueue([*rows, *extra])


def _email_rows(
    event: TicketEvent, route: Route, name: str, facts: dict[str, Any], switches: Any
) -> list[Delivery]:
    actor = person(event.actor)
    reply = getattr(event, "reply", None)
    note = reply is not None and reply.is_internal_note
    seen: set[int] = set()
    rows = []
    for rule in route.emails:
        if not switches[rule.switch]:
            continue
        payload = {**facts, "template": rule.template}
        if rule.context is not None:
            payload.update({"context": rule.context(event), outbox.REDACT: True})
        for user in rule.recipients(event):
            if isinstance(user, Requester):
                if user.user is None:
                    rows += _address_row(event, user, name, payload, to_actor=rule.to_actor)
                    continue
                user = user.user
            if user is not None and (batch := _current.get()) is not None:
                user = batch.person(user)
            if (
                user is None
                or user.pk in seen
                or (actor is not None and user.pk == actor.pk)
                or not user.is_active
                or not user.email
                or not can_see_ticket(user, event.ticket)
                or (note and not is_staff(user))
            ):
                continue
            seen.add(user.pk)
            rows.append(
                Delivery(
                    kind=DeliveryKind.EMAIL,
                    event=name,
                    ticket=event.ticket,
                    recipient_user=user,
                    recipient=user.email,
                    payload=payload,
                )
            )
    return rows


def _address_row(
    event: TicketEvent,
    guest: Requester,
    name: str,
    payload: dict[str, Any],
    *,
    to_actor: bool = False,
) -> list[Delivery]:
    """Someone reached only at an address (a guest requester, an address a rule names): they only
    ever hear of public messages, and a guest never of their own actions (unless the email is a
    receipt meant for them, ``to_actor``)."""
    reply = getattr(event, "reply", None)
    if (
        not guest.email
        or (isinstance(event.actor, GuestActor) and not to_actor)
        or (reply is not None and reply.is_internal_note)
    ):
        return []
    return [
        Delivery(
            kind=DeliveryKind.EMAIL,
            event=name,
            ticket=event.ticket,
            recipient_user=None,
            recipient=guest.email,
            payload={**payload, "recipient_name": guest.name},
        )
    ]


# --- building and sending an email ------------------------------------------------------------


def ticket_link(template: str, ticket: Ticket) -> str:
    """``template`` (TICKET_URL, RATING_URL) filled in for ``ticket``."""
    return template.format(
        site_url=str(escalated_settings.SITE_URL).rstrip("/"),
        route_prefix=str(escalated_settings.ROUTE_PREFIX).strip("/"),
        reference=ticket.reference,
        id=ticket.pk,
    )


def sender() -> str:
    return str(escalated_settings.EMAIL_FROM or settings.DEFAULT_FROM_EMAIL)


def email_build(row: Delivery) -> outbox.Content:
    # The guest's access row comes with the ticket (a LEFT JOIN): one statement, not two.
    ticket = (
        Ticket.objects.select_related("department", "requester", "assignee", "guest_access")
        .filter(pk=row.ticket_id or 0)
        .first()
    )
    if ticket is None:
        raise outbox.DeliveryError("The ticket no longer exists.", permanent=True)
    recipient = row.recipient_user
    payload = row.payload
    reply = None
    if payload.get("reply_id") is not None:
        reply = Reply.objects.select_related("author").filter(pk=payload["reply_id"]).first()
        if reply is None:
            raise outbox.DeliveryError("The reply no longer exists.", permanent=True)
        if reply.is_internal_note and (recipient is None or not is_staff(recipient)):
            raise outbox.DeliveryError(
                "Internal notes are never emailed to customers.", permanent=True
            )
    context = {
        "ticket": ticket,
        "reply": reply,
        "recipient": recipient,
        "recipient_name": (
            display_name(recipient) if recipient is not None else payload.get("recipient_name", "")
        ),
        "actor_name": payload.get("actor", ""),
        "before": payload.get("before", {}),
        "after": payload.get("after", {}),
        "ticket_url": ticket_link(escalated_settings.TICKET_URL, ticket),
        "rating_url": ticket_link(escalated_settings.RATING_URL, ticket),
        "guest": _guest_access(ticket),
        "can_close": escalated_settings.ALLOW_CUSTOMER_CLOSE,
        **payload.get("context", {}),
    }
    base = f"escalated/email/{payload['template']}"
    line = re.sub(r"\s+", " ", render_to_string(f"{base}.subject.txt", context)).strip()
    root = thread_root(ticket.pk)
    return {
        "subject": f"[{ticket.reference}] {line}",
        "text": render_to_string(f"{base}.txt", context),
        "html": render_to_string(f"{base}.html", context),
        "from": sender(),
        "to": row.recipient,
        "headers": {
            "Message-ID": message_id(ticket.pk, row.idempotency_key),
            "In-Reply-To": root,
            "References": root,
            "X-Escalated-Ticket": ticket.reference,
            # An automatic message: out-of-office replies should not answer it.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "OOF, AutoReply",
            **({"Reply-To": reply_to} if (reply_to := reply_address(ticket.pk)) else {}),
        },
    }


def _guest_access(ticket: Ticket) -> GuestAccess | None:
    try:
        return ticket.guest_access
    except GuestAccess.DoesNotExist:
        return None


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def _mail_connection() -> Any:
    """Django's mail connection, bounded when the host set no EMAIL_TIMEOUT: a mail server
    that accepts and never answers must not hold the sender for ever."""
    if settings.EMAIL_BACKEND == SMTP_BACKEND and settings.EMAIL_TIMEOUT is None:
        return get_connection(timeout=escalated_settings.OUTBOX["SMTP_TIMEOUT_SECONDS"])
    return get_connection()


def email_send(row: Delivery, content: outbox.Content) -> None:
    message = EmailMultiAlternatives(
        subject=content["subject"],
        body=content["text"],
        from_email=content["from"],
        to=[content["to"]],
        headers=content["headers"],
        connection=_mail_connection(),
    )
    message.attach_alternative(content["html"], "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        raise outbox.DeliveryError(
            f"The mail server refused the recipient: {error.recipients}",
            permanent=all(code >= 500 for code in codes),
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise outbox.DeliveryError(f"{type(error).__name__}: {error}") from error


EMAIL = outbox.Channel(build=email_build, send=email_send)


# --- notices ----------------------------------------------------------------------------------


def ticket_notify(
    *,
    ticket: Ticket,
    actor: Any,
    to: str,
    department: Department | None = None,
    email: str = "",
    message: str = "",
) -> None:
    """Tell people about ``ticket`` (see :func:`notified_people`); the notice reaches them through
    the outbox and is on the ticket's timeline."""
    with transaction.atomic():
        require_ticket_action(actor, ticket, TicketAction.WORK)
        events.record(
            events.TicketNotified(
                ticket=ticket,
                actor=actor,
                to=to,
                department=department,
                email=email,
                message=message,
            )
        )
