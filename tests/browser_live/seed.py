"""``python -m tests.browser_live.seed`` (with the live browser settings): migrate, run the demo's
seed, and print one JSON line with a signed-in session per demo person and the tickets."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from escalated.models import Ticket

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    sessions, users = {}, {}
    for user in get_user_model()._default_manager.filter(
        username__in=("customer", "agent", "admin")
    ):
        client = Client()
        client.force_login(user)
        sessions[user.username] = client.cookies[settings.SESSION_COOKIE_NAME].value
        users[user.username] = {"id": user.pk, "name": user.get_full_name() or user.username}
    tickets = [
        {
            "id": t.pk,
            "reference": t.reference,
            "subject": t.subject,
            "requester": t.requester.username if t.requester else None,
            "assignee": t.assignee.username if t.assignee else None,
            "status": t.status,
        }
        for t in Ticket.objects.select_related("requester", "assignee").order_by("pk")
    ]
    print(
        json.dumps(
            {
                "cookie": settings.SESSION_COOKIE_NAME,
                "sessions": sessions,
                "users": users,
                "tickets": tickets,
            }
        )
    )


if __name__ == "__main__":
    main()
