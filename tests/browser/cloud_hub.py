"""The hub behind the browser tests' cloud-mode run, prepared as
``python -m tests.browser.cloud_hub '<site people JSON>'`` with tests.hosted.instance_settings.

It migrates the hub's database, registers the site, makes the hub's person for each of the
site's demo people (as their first forwarded operation would, through
:func:`escalated.services.cloud_viewers.site_viewer`), and then runs the demo seed's own
organisation and tickets as those people: the cloud run walks the same departments, tags,
macros and tickets (the same stories: replies, notes, escalation, resolution, a rating) as the
self-hosted run. It prints the site's key and secret and the ids the tests need (the WORLD of
tests/browser/conftest.py, read from the hub, where the cloud-mode site's pages get them)."""

from __future__ import annotations

import json
import sys
from typing import Any

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from demo.management.commands.seed_demo import Command as SeedDemo
    from escalated.access import SystemActor
    from escalated.models import Department, Tag, Ticket
    from escalated.services import cloud_viewers, sites

    call_command("migrate", verbosity=0)
    site_people: dict[str, dict[str, Any]] = json.loads(sys.argv[1])
    inbox = Department.objects.create(name="Inbox", slug="inbox")
    site, key = sites.site_create(
        actor=SystemActor("setup"), name="Demo", webhook_url="", department=inbox
    )
    seed = SeedDemo()
    with transaction.atomic():
        people = {
            username: cloud_viewers.site_viewer(
                site=site,
                sub=str(person["id"]),
                name=person["name"],
                email=person["email"],
                role=person["role"],
            )
            for username, person in site_people.items()
        }
        seed._organisation(people)
        seed._tickets(people)
    print(
        json.dumps(
            {
                "key": key,
                "secret": site.signing_secret,
                "world": {
                    "tickets": {t.subject: t.reference for t in Ticket.objects.all()},
                    "departments": {d.name: d.pk for d in Department.objects.all()},
                    "tags": {t.name: t.pk for t in Tag.objects.all()},
                },
            }
        )
    )


if __name__ == "__main__":
    main()
