"""The load test's proofs, read from the database after the run (run inside Django).

1. ``writes``: every acknowledged create, reply and note is in the database exactly once (found
   by the marker its text carries, with the id the answer gave); nothing answered with an
   error, and nothing never sent, is there; a write whose server died before answering ("lost")
   is there once or not at all; no marked row exists that the load did not send.
2. ``activities``: every activity row of the run's tickets belongs to exactly one action, every
   acknowledged action has exactly one, a lost one has one or none (and when it has one, the
   change it records is there too: the reply, the ticket, the outbox rows).
3. ``outbox``: every delivery row ended delivered; every webhook row's idempotency key reached
   the HTTP receiver and every email row's the SMTP sink, and nothing else did. A key received
   twice is allowed only for a row sent again after its lease ran out (attempts > 1: the worker
   killed mid-batch); they are counted.
4. ``subscriptions``: every event a subscriber received is one it may see (``can_see_ticket``
   on the ticket as the database holds it, with the subscriber loaded from the database), none
   twice; and within each of its sessions it received every acknowledged action's event that it
   may see (sessions that a killed server ended: all but the last SESSION_MARGIN seconds; all
   sessions: from SESSION_MARGIN seconds after their first event).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

# Events near a session's edges may or may not reach it: its subscription was joining, or its
# server died with them in hand. Seconds, on the activity's own time.
SESSION_MARGIN = 2.0

KIND_VERB = {
    "CREATED": "created",
    "REPLY_ADDED": "replied",
    "NOTE_ADDED": "note_added",
    "STATUS_CHANGED": "status_changed",
    "PRIORITY_CHANGED": "priority_changed",
    "ASSIGNED": "assigned",
}
MARKED = re.compile(r"\b(reply|note) ([0-9a-f]{32})\b")


def everything(
    *,
    actions: list[Any],
    subscribers: list[Any],
    world: dict[str, Any],
    webhook_calls: list[dict[str, str]],
    emails: list[dict[str, str]],
    kill_at: float | None,
) -> dict[str, dict[str, Any]]:
    from escalated.models import Reply, Ticket, TicketActivity

    markers = {d["marker"]["pk"] for d in world["departments"]}
    tickets = {t.pk: t for t in Ticket.objects.filter(subject__startswith="Load ")}
    run_tickets = set(tickets) | markers
    replies = list(Reply.objects.filter(ticket_id__in=run_tickets))
    activities = list(
        TicketActivity.objects.filter(ticket_id__in=run_tickets)
        .order_by("id")
        .values("id", "ticket_id", "actor_id", "verb", "before", "after", "created_at")
    )
    writes, owner = _writes(actions, tickets, replies)
    proved_activities, activity_action = _activities(
        actions, activities, owner, markers, tickets, replies
    )
    return {
        "writes": writes,
        "activities": proved_activities,
        "outbox": _outbox(webhook_calls, emails, activities, kill_at),
        "subscriptions": _subscriptions(subscribers, activities, activity_action),
    }


def _writes(
    actions: list[Any], tickets: dict[int, Any], replies: list[Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Match rows to the actions that made them; ``owner`` maps ('ticket'|'reply', pk) to the
    action."""
    problems: list[str] = []
    found: dict[str, list[Any]] = defaultdict(list)
    for ticket in tickets.values():
        found[ticket.subject.removeprefix("Load ")].append(("ticket", ticket))
    for reply in replies:
        for op, marker in MARKED.findall(reply.body):
            found[marker].append((op, reply))
    owner: dict[tuple[str, int], Any] = {}
    lost = Counter()
    sent = set()
    for action in actions:
        if action.op not in ("create", "reply", "note"):
            continue
        sent.add(action.marker)
        rows = found.get(action.marker, [])
        if action.outcome == "ack":
            if len(rows) != 1:
                problems.append(f"{action.op} {action.marker} acknowledged, {len(rows)} rows")
                continue
            kind, row = rows[0]
            if row.pk != action.result_id:
                problems.append(
                    f"{action.op} {action.marker}: row {row.pk}, answer said {action.result_id}"
                )
            if kind != "ticket" and (
                row.ticket_id != action.ticket or row.is_internal_note != (kind == "note")
            ):
                problems.append(f"{action.op} {action.marker}: wrong ticket or note flag")
            owner["ticket" if kind == "ticket" else "reply", row.pk] = action
        elif action.outcome == "lost":
            lost[f"{action.op}:{'present' if rows else 'absent'}"] += 1
            if len(rows) > 1:
                problems.append(f"lost {action.op} {action.marker}: {len(rows)} rows")
            for kind, row in rows:
                owner["ticket" if kind == "ticket" else "reply", row.pk] = action
        elif rows:
            problems.append(f"{action.op} {action.marker} ({action.outcome}) is in the database")
    extra = set(found) - sent
    problems += [f"row with marker {m} that the load never sent" for m in sorted(extra)]
    return {
        "ok": not problems,
        "checked": sum(1 for a in actions if a.op in ("create", "reply", "note")),
        "lost": dict(lost),
        "problems": problems[:20],
    }, owner


def _activities(
    actions: list[Any],
    activities: list[dict[str, Any]],
    owner: dict[tuple[str, int], Any],
    markers: set[int],
    tickets: dict[int, Any],
    replies: list[Any],
) -> tuple[dict[str, Any], dict[int, Any]]:
    from escalated.models import Delivery, DeliveryKind

    problems: list[str] = []
    of: dict[int, Any] = {}  # activity id -> action
    # Assignments, resolutions and marker priority changes, per ticket, in the order sent.
    waiting: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for action in actions:
        if action.op in ("assign", "resolve", "priority") and action.outcome in ("ack", "lost"):
            waiting[action.ticket, action.op].append(action)
    reply_ids = {r.pk for r in replies}
    for row in activities:
        verb, ticket = row["verb"], row["ticket_id"]
        action = None
        if verb == "created":
            if ticket in markers:
                continue  # seeded before the run
            action = owner.get(("ticket", ticket))
        elif verb in ("replied", "note_added"):
            reply_id = row["after"].get("reply_id")
            if reply_id not in reply_ids:
                problems.append(f"activity {row['id']} names reply {reply_id}, not in the db")
            action = owner.get(("reply", reply_id))
        elif verb in ("assigned", "status_changed", "priority_changed"):
            op = {"assigned": "assign", "status_changed": "resolve"}.get(verb, "priority")
            action = _take(waiting[ticket, op], row)
        if action is None:
            problems.append(f"activity {row['id']} ({verb} on {ticket}) matches no action")
            continue
        if id(action) in {id(a) for a in of.values()}:
            problems.append(f"{action.op} {action.marker or action.ticket}: two activity rows")
        of[row["id"]] = action
    matched = {id(a) for a in of.values()}
    unmatched = [a for a in actions if a.outcome == "ack" and id(a) not in matched]
    problems += [f"acknowledged {a.op} on {a.ticket} has no activity row" for a in unmatched]
    # A lost write that happened happened whole: its webhook rows are there too (each action
    # writes at least one, to WEBHOOK_URL, in its own transaction).
    hooks = Counter(
        Delivery.objects.filter(
            kind=DeliveryKind.WEBHOOK, ticket_id__in=[*tickets, *markers]
        ).values_list("ticket_id", flat=True)
    )
    per_ticket = Counter(row["ticket_id"] for row in activities if row["id"] in of)
    for ticket, count in per_ticket.items():
        if hooks[ticket] < count:
            problems.append(f"ticket {ticket}: {count} actions, {hooks[ticket]} webhook rows")
    lost_present = sum(1 for a in of.values() if a.outcome == "lost")
    return {
        "ok": not problems,
        "activity_rows": len(activities),
        "matched": len(of),
        "lost_present": lost_present,
        "problems": problems[:20],
    }, of


def _take(candidates: list[Any], row: dict[str, Any]) -> Any:
    """The first action of ``candidates`` that this activity row records (removed)."""
    for i, action in enumerate(candidates):
        if action.actor != row["actor_id"]:
            continue
        assignee = (row["after"].get("assignee") or {}).get("id")
        if action.op == "assign" and assignee != action.target:
            continue
        if action.op == "resolve" and row["after"].get("status") != "resolved":
            continue
        if (
            action.op == "priority"
            and row["after"].get("priority") != ("low", "high")[action.target]
        ):
            continue
        return candidates.pop(i)
    return None


def _outbox(
    webhook_calls: list[dict[str, str]],
    emails: list[dict[str, str]],
    activities: list[dict[str, Any]],
    kill_at: float | None,
) -> dict[str, Any]:
    from escalated.models import Delivery, DeliveryKind, DeliveryStatus

    problems: list[str] = []
    rows = list(Delivery.objects.values("idempotency_key", "kind", "status", "attempts"))
    statuses = Counter(r["status"] for r in rows)
    if set(statuses) - {DeliveryStatus.DELIVERED}:
        problems.append(f"not all delivered: {dict(statuses)}")
    received = {
        DeliveryKind.WEBHOOK: Counter(h.get("X-Escalated-Delivery", "") for h in webhook_calls),
        DeliveryKind.EMAIL: Counter(_email_key(m) for m in emails),
    }
    twice = 0
    for kind, got in received.items():
        keys = {r["idempotency_key"]: r for r in rows if r["kind"] == kind}
        missing = set(keys) - set(got)
        unknown = set(got) - set(keys)
        if missing:
            problems.append(f"{len(missing)} {kind} rows never arrived, e.g. {sorted(missing)[:3]}")
        if unknown:
            problems.append(f"{len(unknown)} {kind} arrivals match no row: {sorted(unknown)[:3]}")
        for key, count in got.items():
            if count > 1 and key in keys:
                if keys[key]["attempts"] > 1 and kill_at is not None:
                    twice += count - 1
                else:
                    problems.append(f"{kind} {key} arrived {count} times, sent once")
    return {
        "ok": not problems,
        "rows": len(rows),
        "by_kind": dict(Counter(r["kind"] for r in rows)),
        "webhook_calls": len(webhook_calls),
        "emails": len(emails),
        "resent_after_kill": twice,
        "problems": problems[:20],
    }


def _email_key(headers: dict[str, str]) -> str:
    match = re.search(r"\.([0-9a-f-]{32,36})@", headers.get("Message-ID", ""))
    return match.group(1) if match else f"?{headers.get('Message-ID')}"


def _subscriptions(
    subscribers: list[Any], activities: list[dict[str, Any]], activity_action: dict[int, Any]
) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from escalated.access import can_see_ticket
    from escalated.models import Ticket

    problems: list[str] = []
    users = get_user_model()._default_manager.in_bulk([s.user_id for s in subscribers])
    tickets = Ticket.objects.in_bulk({row["ticket_id"] for row in activities})
    # Every activity row of the run is an event queue subscribers may hear of, keyed as they
    # see it: (verb, ticket). Only acknowledged actions' events are owed.
    by_key: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in activities:
        by_key[row["verb"], row["ticket_id"]].append(row)
    owed_total = received_total = optional = 0
    unentitled = doubled = missing = 0
    for subscriber in subscribers:
        user = users[subscriber.user_id]
        may_see = {pk: can_see_ticket(user, t) for pk, t in tickets.items()}
        seen: set[tuple[str, int, float]] = set()
        for session in subscriber.sessions:
            got: Counter[tuple[str, int]] = Counter()
            for kind, ticket, at, _arrived in session.events:
                received_total += 1
                verb = KIND_VERB.get(kind, kind)
                if (kind, ticket, at) in seen:
                    doubled += 1
                    problems.append(f"agent {user.pk} got {kind} on {ticket} at {at} twice")
                seen.add((kind, ticket, at))
                if not may_see.get(ticket, False):
                    unentitled += 1
                    problems.append(f"agent {user.pk} got {kind} on ticket {ticket}: not theirs")
                got[verb, ticket] += 1
            if not session.events:
                continue
            first, last = session.events[0][2], max(event[2] for event in session.events)
            end = last if session.ended == "closed" else last - SESSION_MARGIN
            for (verb, ticket), rows in by_key.items():
                if not may_see.get(ticket, False):
                    continue
                owed = 0
                for row in rows:
                    at = row["created_at"].timestamp()
                    action = activity_action.get(row["id"])
                    inside = first + SESSION_MARGIN < at <= end
                    if inside and action is not None and action.outcome == "ack":
                        owed += 1
                    elif first - SESSION_MARGIN < at <= last + SESSION_MARGIN:
                        optional += 1
                owed_total += owed
                if got[verb, ticket] > len(rows):
                    doubled += 1
                    problems.append(
                        f"agent {user.pk}: {got[verb, ticket]} {verb} on {ticket}, "
                        f"{len(rows)} happened"
                    )
                if got[verb, ticket] < owed:
                    missing += owed - got[verb, ticket]
                    problems.append(
                        f"agent {user.pk} ({session.server}, {session.ended}): "
                        f"{got[verb, ticket]} of {owed} {verb} on {ticket}"
                    )
    return {
        "ok": not problems,
        "subscribers": len(subscribers),
        "received": received_total,
        "owed": owed_total,
        "edge_events_not_owed": optional,
        "missing": missing,
        "doubled": doubled,
        "unentitled": unentitled,
        "problems": problems[:20],
    }
