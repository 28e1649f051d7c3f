"""Guest tickets: opened without an account, reached with a magic link, claimable later.

The link carries a token: 256 random bits, shown once, stored only as a SHA-256 hash, found by
its visible prefix and compared in constant time, valid for GUEST_TOKEN_EXPIRY_DAYS. Whoever
presents a live token acts as a :class:`~escalated.access.GuestActor`, the requester of exactly
that ticket, through the same access rules as customers.

:func:`guest_authenticate` is the one way to turn a presented token into a guest, whatever the
door: the HTTP header ``X-Escalated-Guest-Token``, a websocket's ``connection_init`` payload, a
page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from escalated import events
from escalated.access import GuestActor, TicketAction, require_signed_in, require_ticket_action
from escalated.conf import escalated_settings
from escalated.errors import DomainError, ErrorCode, NotAllowed, Problem, collect, not_found
from escalated.models import Channel, Department, GuestAccess, Reply, Site, Ticket
from escalated.services.attachments import attachments_attach, attachments_check, attachments_write
from escalated.services.common import lock_ticket
from escalated.services.ratelimit import (
    guest_requester_key,
    message_budgets_take,
    rate_limit_hit,
)
from escalated.services.secrets import secret_issue, secret_match, secret_visible_part
from escalated.services.text import required_text
from escalated.services.tickets import ticket_draft, ticket_save_new

TOKEN_PREFIX = "escg_"
MAX_NAME = 150


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def guest_link(raw_token: str) -> str:
    """The magic link for ``raw_token``: GUEST_LINK_URL with the token in place of ``{token}``,
    made absolute against SITE_URL (as every link in an email is) when it is a bare path."""
    template = (
        escalated_settings.GUEST_LINK_URL
        or f"/{escalated_settings.ROUTE_PREFIX.strip('/')}/guest/{{token}}"
    )
    link = template.replace("{token}", raw_token)
    if link.startswith("/"):
        return str(escalated_settings.SITE_URL).rstrip("/") + link
    return link


def _issue_token(access: GuestAccess) -> str:
    """Give ``access`` a fresh token, replacing any earlier one. Returns it in clear."""
    secret = secret_issue(TOKEN_PREFIX)
    now = timezone.now()
    access.token_prefix = secret.visible
    access.token_hash = secret.hashed
    access.token_issued_at = now
    access.token_expires_at = now + timedelta(days=escalated_settings.GUEST_TOKEN_EXPIRY_DAYS)
    return secret.raw


def guest_actor(access: GuestAccess) -> GuestActor:
    return GuestActor(
        ticket_id=access.ticket_id,
        access_id=access.pk,
        name=access.name,
        email=access.email,
        token_hash=access.token_hash or "",
    )


def guest_authenticate(raw: str) -> GuestActor | None:
    """The guest a presented token stands for, or None for anything else: unknown, expired,
    rotated away, or claimed into an account. Safe to call from any door."""
    visible = secret_visible_part(raw or "", TOKEN_PREFIX)
    if visible is None:
        return None
    candidates = GuestAccess.objects.filter(token_prefix=visible, token_hash__isnull=False)
    match = secret_match(raw, ((c, c.token_hash) for c in candidates))
    if match is None or not match.token_is_live:
        return None
    return guest_actor(match)


def guest_of_site(guest: GuestActor, site: Site) -> bool:
    """Whether ``guest``'s ticket is the (hub's copy of a) ticket of ``site``: a cloud-mode
    site forwards only its own visitors' links."""
    return Ticket.objects.filter(pk=guest.ticket_id, site=site).exists()


def guest_refresh(guest: GuestActor) -> GuestActor | None:
    """``guest`` as they stand now: None once their token was rotated away, expired, or the
    ticket was claimed into an account. For doors that hold a guest for long (websockets)."""
    access = GuestAccess.objects.filter(pk=guest.access_id, token_hash=guest.token_hash).first()
    if access is None or not access.token_is_live or access.claimed_at is not None:
        return None
    return guest_actor(access)


def _guest_problems(name: str | None, email: str) -> list[Problem]:
    problems = required_text(name, field="name", max_length=MAX_NAME)
    try:
        validate_email(email)
    except ValidationError:
        problems.append(Problem("Enter a valid email address.", ErrorCode.INVALID, "email"))
    return problems


def _rate_limit(email: str, client_ip: str | None) -> None:
    limits = escalated_settings.GUEST_RATE_LIMIT
    budgets = [("guest-email", email, limits["PER_EMAIL"])]
    if client_ip:
        budgets.append(("guest-ip", client_ip, limits["PER_IP"]))
    for scope, key, limit in budgets:
        retry_after = rate_limit_hit(
            scope=scope,
            key=key,
            limit=limit,
            window=limits["WINDOW_SECONDS"],
            cache=limits["CACHE"],
        )
        if retry_after is not None:
            minutes = -(-retry_after // 60)
            raise DomainError(
                f"Too many requests have been opened from here; try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.",
                code=ErrorCode.RATE_LIMITED,
            )


def guest_ticket_create(
    *,
    name: str | None,
    email: str | None,
    subject: str | None,
    description: str | None = "",
    priority: str | None = None,
    ticket_type: str | None = None,
    department: Department | None = None,
    attachments: Sequence[Any] = (),
    client_ip: str | None = None,
    channel: str = Channel.WEB,
    site: Site | None = None,
) -> tuple[Ticket, str]:
    """Open a ticket for someone without an account, when GUEST_TICKETS_ENABLED.

    ``site``: on a hub, the cloud-mode site whose visitor this is; the ticket is that site's
    (in the site's department unless one is chosen), as a signed-in visitor's would be.

    Returns the ticket and the guest's token in clear (for the creating client to carry on
    with); the magic link is also emailed after commit. Each address and each client IP may
    open GUEST_RATE_LIMIT tickets per window; only well-formed requests count.
    """
    if not escalated_settings.GUEST_TICKETS_ENABLED:
        raise NotAllowed("This helpdesk does not take tickets from guests; sign in first.")
    email = normalize_email(email)
    if site is not None and department is None:
        department = site.department
    ticket, problems = ticket_draft(
        subject=subject,
        description=description,
        priority=priority,
        ticket_type=ticket_type,
        channel=channel,
        department=department,
    )
    collect([*_guest_problems(name, email), *problems])
    ticket.site_id = site.pk if site is not None else None
    files = attachments_check(attachments)
    _rate_limit(email, client_ip)
    message_budgets_take(
        ticket_id=None, requester=guest_requester_key(email), replies=0, files=len(files)
    )

    with transaction.atomic():
        # Files first: the reference counter stays locked from numbering until commit. A guest
        # is nobody's user row, so the files have no uploading user either way.
        written = attachments_write(files=files, uploader=None)
        routed = ticket_save_new(ticket, from_customer=True)
        access = GuestAccess(ticket=ticket, name=(name or "").strip(), email=email)
        raw = _issue_token(access)
        access.save()
        guest = guest_actor(access)
        stored = attachments_attach(written, ticket=ticket, reply=None)
        events.record(
            events.GuestTicketCreated(
                ticket=ticket,
                actor=guest,
                attachments=tuple(stored),
                routed=routed,
                guest_name=access.name,
                guest_email=email,
                guest_link=guest_link(raw),
            )
        )
    return ticket, raw


def _open_guest_access(ticket: Ticket) -> GuestAccess:
    access = GuestAccess.objects.select_for_update().filter(ticket_id=ticket.pk).first()
    if access is None:
        raise DomainError(
            "This ticket was not opened by a guest.", code=ErrorCode.INVALID, field="ticket_id"
        )
    if access.claimed_at is not None:
        raise DomainError(
            "This guest ticket now belongs to an account; its guest link is gone for good.",
            code=ErrorCode.INVALID,
            field="ticket_id",
        )
    return access


def guest_token_rotate(*, ticket: Ticket, actor: Any) -> Ticket:
    """Replace a guest ticket's token (staff): every earlier link, and every signed download
    link made with it, stops working; the guest is emailed the new link."""
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        require_ticket_action(actor, ticket, TicketAction.WORK)
        access = _open_guest_access(ticket)
        raw = _issue_token(access)
        access.save(
            update_fields=["token_prefix", "token_hash", "token_issued_at", "token_expires_at"]
        )
        events.record(
            events.GuestLinkRotated(
                ticket=ticket,
                actor=actor,
                guest_name=access.name,
                guest_email=access.email,
                guest_link=guest_link(raw),
            )
        )
    return ticket


def email_verified(user: Any) -> bool:
    """Whether the host vouches for ``user``'s email address (GUEST_CLAIM_EMAIL_VERIFIED).
    Django keeps no such flag, so nothing is verified until the host says how to tell."""
    check = escalated_settings.GUEST_CLAIM_EMAIL_VERIFIED
    if check is None:
        return False
    verify = check if callable(check) else import_string(check)
    return bool(verify(user))


def guest_tickets_claim(*, actor: Any, references: Iterable[str] | None = None) -> list[Ticket]:
    """Move the guest tickets opened with the actor's (verified) email into their account.

    Each claimed ticket gets the actor as requester, its guest link stops working, and the
    guest's replies are credited to the account. ``references`` limits the claim to those
    tickets; by default every unclaimed one is taken. Claiming again finds nothing more.
    """
    require_signed_in(actor)
    email = normalize_email(getattr(actor, "email", ""))
    if not email:
        raise NotAllowed("Your account has no email address to match guest tickets against.")
    if not email_verified(actor):
        raise NotAllowed("Verify your email address before claiming guest tickets.")
    accesses = GuestAccess.objects.filter(email=email, claimed_at__isnull=True)
    if references is not None:
        wanted = {r.strip().upper() for r in references}
        accesses = accesses.filter(ticket__reference__in=wanted)
        found = set(accesses.values_list("ticket__reference", flat=True))
        missing = sorted(wanted - found)
        if missing:
            raise not_found("references", f"guest ticket of yours named {', '.join(missing)}")
    claimed = []
    with transaction.atomic():
        for access in accesses.select_for_update().order_by("pk"):
            ticket = lock_ticket(access.ticket)
            label = guest_actor(access).label
            ticket.requester = actor
            ticket.save(update_fields=["requester", "updated_at"])
            access.claimed_by, access.claimed_at = actor, timezone.now()
            access.token_hash, access.token_prefix = None, ""
            access.save(update_fields=["claimed_by", "claimed_at", "token_hash", "token_prefix"])
            Reply.objects.filter(ticket=ticket, author__isnull=True, author_label=label).update(
                author=actor
            )
            events.record(events.GuestTicketClaimed(ticket=ticket, actor=actor, guest_email=email))
            claimed.append(ticket)
    return claimed
