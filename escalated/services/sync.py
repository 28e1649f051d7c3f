"""The bookkeeping of a sync between a site and a hub: which events were applied, each synced
ticket's field clocks and stream position, and how a site's tickets and people are labelled on
the hub. The doors (:mod:`escalated.hosted`, :mod:`escalated.hub`) write through these."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from escalated.models import ReceivedEvent, Site, SitePerson, SyncState, Ticket


class AlreadyApplied(Exception):
    """This event_id was applied before: a repeat changes nothing."""


def event_receive(
    *,
    source: str,
    event_id: str,
    event: str,
    occurred_at: datetime,
    ticket: Ticket | None = None,
    sequence: int | None = None,
) -> ReceivedEvent:
    """Note an event as applied, inside the transaction that applies it; raise
    :class:`AlreadyApplied` if it was (a concurrent twin waits on the unique index, then
    fails here). No savepoint of its own (two statements fewer per event): the failed insert
    leaves the caller's transaction to be rolled back, which letting AlreadyApplied end it does."""
    try:
        with transaction.atomic(savepoint=False):
            return ReceivedEvent.objects.create(
                source=source,
                event_id=event_id,
                event=event,
                ticket=ticket,
                sequence=sequence,
                occurred_at=occurred_at,
            )
    except IntegrityError as error:
        raise AlreadyApplied(event_id) from error


def is_received(*, source: str, event_id: str) -> bool:
    return ReceivedEvent.objects.filter(source=source, event_id=event_id).exists()


def state_for(ticket: Ticket | None) -> SyncState | None:
    """The ticket's sync state under a row lock (unsaved and empty when it has none yet)."""
    if ticket is None:
        return None
    found = SyncState.objects.select_for_update().filter(ticket=ticket).first()
    return found if found is not None else SyncState(ticket=ticket, clocks={})


def state_save(state: SyncState) -> None:
    state.save()


def clocks_touch(ticket: Ticket, keys: Iterable[str], at: str) -> None:
    """Move the clocks of the fields a change made here touched to its time (ISO 8601)."""
    moved = dict.fromkeys(keys, at)
    if not moved:
        return
    state = state_for(ticket)
    assert state is not None
    state.clocks = {**state.clocks, **moved}
    state_save(state)


def ticket_site_link(*, ticket: Ticket, site: Site, reference: str) -> Ticket:
    """Label a hub ticket with its site and its reference there."""
    ticket.site = site
    ticket.site_reference = reference
    ticket.save(update_fields=["site", "site_reference", "updated_at"])
    return ticket


def site_person(*, site: Site, remote: dict[str, Any]) -> Any:
    """The hub user standing for a site's customer (made on first sight). It has no email
    address: the site writes to its own customers, so the hub never emails them twice."""
    remote_id = str(remote.get("id") or f"anonymous:{remote.get('email', '')}")[:120]
    found = SitePerson.objects.select_related("user").filter(site=site, remote_id=remote_id)
    person = found.first()
    if person is not None:
        return person.user
    name = str(remote.get("name") or "")[:150]
    first, _, last = name.partition(" ")
    user = get_user_model().objects.create(
        username=f"site{site.pk}-{uuid.uuid4().hex[:16]}",
        first_name=first[:150],
        last_name=last[:150],
        email="",
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    SitePerson.objects.create(
        site=site, remote_id=remote_id, user=user, email=str(remote.get("email") or "")[:254]
    )
    return user
