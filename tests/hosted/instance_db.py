"""Run as ``python -m tests.hosted.instance_db <command>`` with tests.hosted.instance_settings:

* ``hub <site webhook URL>``: create the database, migrate, make a hub with an agent and one
  site; print the site's key and signing secret and the agent's API token;
* ``site``: create the database, migrate, make a customer, an agent and an admin; print their
  tokens and the department's id;
* ``stream <tickets> <first step> <last step>``: as the site's agent and customer, through the
  services, open ``tickets`` tickets at step 0, then for each step give every ticket one event
  (see :func:`step_action`);
* ``people``: create the database, migrate, make two customers and an agent (a department
  member, or on a cloud-mode site a holder of ``escalated.agent``, since the site keeps no
  departments); print their tokens (the acceptance flow of every mode);
* ``session <username>``: print a signed-in session cookie of that user;
* ``tables``: print a digest of every row of every Escalated table (a cloud-mode site must
  write none);
* ``history <tickets>``: as the site's customers, agent and a guest, through the services, open
  ``tickets`` tickets with varied histories (replies both ways, notes, priorities, tags added
  and removed, resolved, closed, reopened), for the export to the hub;
* ``requesters``: each ticket's requester as the site knows them (on a hub: the site's id for
  the hub person standing for them), keyed by the site's reference;
* ``revoke``: revoke the hub's site (its key stops working);
* ``reply_file <username> <reference> <body> <filename> <hex bytes>``: a reply with one file,
  through the services, to the ticket with that reference here or on its site;
* ``requeue``: make every delivered hub row due again, as it was before its first attempt (the
  benchmark sends one backlog twice);
* ``digest``: print the state of every synced ticket (subject, status, priority, tags, replies)
  keyed by the site's reference, and (on a hub) the sequence numbers received per ticket in the
  order they were applied.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import django


def _create_database() -> None:
    if os.environ.get("ESCALATED_INSTANCE_ENGINE") != "postgres":
        return
    import psycopg

    name = os.environ["ESCALATED_INSTANCE_DB"]
    with psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _token(user: Any) -> str:
    from escalated.services.tokens import api_token_create

    return api_token_create(actor=user, name="instance")[1]


def hub(webhook_url: str) -> dict[str, Any]:
    from escalated.access import SystemActor
    from escalated.models import Department
    from escalated.services import sites
    from tests.conftest import make_user

    inbox = Department.objects.create(name="Apps", slug="apps")
    agent = make_user("hana", first="Hana", last="Hub")
    inbox.agents.add(agent)
    site, key = sites.site_create(
        actor=SystemActor("setup"), name="Shop", webhook_url=webhook_url, department=inbox
    )
    return {"key": key, "secret": site.signing_secret, "agent": _token(agent)}


def site() -> dict[str, Any]:
    from escalated.models import Department
    from tests.conftest import gid, make_user

    billing = Department.objects.create(name="Billing", slug="billing")
    agent = make_user("alan", first="Alan", last="Agent")
    billing.agents.add(agent)
    customer = make_user("cora", first="Cora", last="Customer")
    admin = make_user("root", is_superuser=True, is_staff=True)
    return {
        "department": gid(billing),
        "customer": _token(customer),
        "agent": _token(agent),
        "admin": _token(admin),
    }


def people() -> dict[str, Any]:
    from django.contrib.auth.models import Permission

    from escalated.conf import escalated_settings
    from escalated.models import Department
    from tests.conftest import make_user

    agent = make_user("alan", first="Alan", last="Agent")
    if escalated_settings.MODE == "cloud":
        agent.user_permissions.add(
            Permission.objects.get(codename="agent", content_type__app_label="escalated")
        )
    else:
        Department.objects.create(name="Billing", slug="billing").agents.add(agent)
    customer = make_user("cora", first="Cora", last="Customer")
    other = make_user("otto", first="Otto", last="Other")
    return {"agent": _token(agent), "customer": _token(customer), "other": _token(other)}


def session(username: str) -> dict[str, Any]:
    """A signed-in browser session of ``username`` (its cookie value), as logging in makes."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {"cookie": settings.SESSION_COOKIE_NAME, "value": store.session_key}


def tables() -> dict[str, Any]:
    from django.apps import apps
    from django.core import serializers

    rows = {}
    for model in apps.get_app_config("escalated").get_models():
        found = model.objects.order_by("pk")
        rows[model._meta.label] = {
            "count": found.count(),
            "digest": hashlib.sha256(serializers.serialize("json", found).encode()).hexdigest(),
        }
    return rows


PRIORITIES = ("high", "low", "urgent")


def step_action(step: int) -> tuple[str, str]:
    """What step ``step`` (1 and on) does to every ticket: ("priority", value), or ("reply",
    "agent" | "customer"). Each is exactly one event."""
    if step % 3 == 0:
        return "priority", PRIORITIES[(step // 3) % 3]
    return "reply", "agent" if step % 3 == 1 else "customer"


def stream(count: int, first: int, last: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from escalated.models import Department, Ticket
    from escalated.services import tickets as service

    people = get_user_model().objects
    agent, customer = people.get(username="alan"), people.get(username="cora")
    if first == 0:
        billing = Department.objects.get(slug="billing")
        for n in range(count):
            service.ticket_create(actor=customer, subject=f"Ticket {n}", department=billing)
        first = 1
    tickets = list(Ticket.objects.order_by("pk"))
    for step in range(first, last + 1):
        action, value = step_action(step)
        for n, ticket in enumerate(tickets):
            if action == "priority":
                service.ticket_priority_change(ticket=ticket, actor=agent, priority=value)
            else:
                author = agent if value == "agent" else customer
                service.ticket_reply(ticket=ticket, author=author, body=f"step {step} on {n}")
    return {"tickets": [ticket.reference for ticket in tickets]}


def history(count: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from escalated.models import Department, Tag
    from escalated.services import guests
    from escalated.services import tickets as service
    from tests.conftest import make_user

    people = get_user_model().objects
    agent, cora = people.get(username="alan"), people.get(username="cora")
    dora = make_user("dora", first="Dora", last="Other")
    billing = Department.objects.get(slug="billing")
    vip, old = (
        Tag.objects.create(name="VIP", slug="vip"),
        Tag.objects.create(name="Old", slug="old"),
    )
    references = []
    for n in range(count):
        customer = dora if n % 3 == 2 else cora
        priority = PRIORITIES[n % 3]
        ticket = service.ticket_create(
            actor=customer, subject=f"Ticket {n}", description=f"Details {n}", department=billing
        )
        references.append(ticket.reference)
        service.ticket_priority_change(ticket=ticket, actor=agent, priority=priority)
        if n % 2 == 0:
            service.ticket_reply(ticket=ticket, author=agent, body=f"answer {n}")
            service.ticket_reply(ticket=ticket, author=customer, body=f"thanks {n}")
        if n % 3 == 0:
            service.ticket_note_add(ticket=ticket, author=agent, body=f"note {n}")
        if n % 5 == 0:
            service.ticket_tags_add(ticket=ticket, actor=agent, tags=[vip, old])
            service.ticket_tags_remove(ticket=ticket, actor=agent, tags=[old])
        if n % 4 == 1:
            service.ticket_resolve(ticket=ticket, actor=agent)
            if n % 8 == 1:
                service.ticket_close(ticket=ticket, actor=agent)
            else:
                service.ticket_reply(ticket=ticket, author=customer, body=f"not yet {n}")
    ticket, token = guests.guest_ticket_create(
        name="Gail Guest", email="gail@example.com", subject="From a guest", department=billing
    )
    service.ticket_reply(ticket=ticket, author=guests.guest_authenticate(token), body="More")
    service.ticket_reply(ticket=ticket, author=agent, body="Answered, guest")
    references.append(ticket.reference)
    return {"tickets": references}


def requesters() -> dict[str, Any]:
    from escalated.models import GuestAccess, SitePerson, Ticket

    people = {p.user_id: p.remote_id for p in SitePerson.objects.all()}
    guests = {g.ticket_id: f"guest:{g.email}" for g in GuestAccess.objects.all()}
    found = {}
    for ticket in Ticket.objects.order_by("pk"):
        if ticket.site_id is not None:
            found[ticket.site_reference] = people.get(ticket.requester_id)
        else:
            found[ticket.reference] = (
                str(ticket.requester_id) if ticket.requester_id else guests.get(ticket.pk)
            )
    return {"requesters": found}


def revoke() -> dict[str, Any]:
    from escalated.access import SystemActor
    from escalated.models import Site
    from escalated.services import sites

    site = Site.objects.get()
    sites.site_revoke(actor=SystemActor("test"), site=site)
    return {"revoked": site.slug}


def reply_file(username: str, reference: str, body: str, filename: str, content: str) -> Any:
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.db.models import Q

    from escalated.models import Ticket
    from escalated.services import tickets as service

    author = get_user_model().objects.get(username=username)
    ticket = Ticket.objects.get(Q(reference=reference) | Q(site_reference=reference))
    upload = ContentFile(bytes.fromhex(content), name=filename)
    reply = service.ticket_reply(ticket=ticket, author=author, body=body, attachments=[upload])
    return {"reply": reply.pk}


def requeue() -> dict[str, Any]:
    from django.utils import timezone

    from escalated.models import Delivery, DeliveryKind, DeliveryStatus

    count = Delivery.objects.filter(kind=DeliveryKind.HUB).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        delivered_at=None,
        content=None,
        next_attempt_at=timezone.now(),
    )
    return {"requeued": count}


def digest() -> dict[str, Any]:
    from escalated.models import ReceivedEvent, Ticket
    from escalated.services.attachments import attachment_open

    tickets = Ticket.objects.prefetch_related("tags", "replies", "attachments").order_by("pk")
    state = {}
    for ticket in tickets:
        key = ticket.site_reference or ticket.reference
        state[key] = {
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "tags": sorted(tag.slug for tag in ticket.tags.all()),
            "replies": [[r.body, r.is_internal_note] for r in ticket.replies.all()],
        }
        files = []
        for attachment in ticket.attachments.all():
            with attachment_open(attachment) as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            reply = attachment.reply.body if attachment.reply else None
            files.append([reply, attachment.filename, attachment.content_type, digest])
        if files:
            state[key]["files"] = sorted(files, key=str)
    sequences: dict[str, list[int]] = {}
    received = ReceivedEvent.objects.filter(source__startswith="site:").select_related("ticket")
    for row in received.order_by("pk"):
        if row.ticket is not None:
            sequences.setdefault(row.ticket.site_reference, []).append(row.sequence or 0)
    text = json.dumps(state, sort_keys=True)
    return {
        "digest": hashlib.sha256(text.encode()).hexdigest(),
        "state": state,
        "sequences": sequences,
        "received": received.count(),
    }


def main() -> None:
    command = sys.argv[1]
    if command in ("hub", "site", "people"):
        _create_database()
    django.setup()
    from django.core.management import call_command

    if command == "hub":
        call_command("migrate", verbosity=0)
        result = hub(sys.argv[2])
    elif command == "site":
        call_command("migrate", verbosity=0)
        result = site()
    elif command == "people":
        call_command("migrate", verbosity=0)
        result = people()
    elif command == "tables":
        result = tables()
    elif command == "session":
        result = session(sys.argv[2])
    elif command == "history":
        result = history(int(sys.argv[2]))
    elif command == "requesters":
        result = requesters()
    elif command == "revoke":
        result = revoke()
    elif command == "requeue":
        result = requeue()
    elif command == "reply_file":
        result = reply_file(*sys.argv[2:7])
    elif command == "stream":
        result = stream(*(int(arg) for arg in sys.argv[2:5]))
    else:
        result = digest()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
