"""Run as ``python -m tests.realtime.world_db`` (with tests.server_settings): migrate the
database, create the World, and print its ids and an API token per person as JSON."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command

    from escalated.services.tokens import api_token_create
    from tests.conftest import build_world, gid
    from tests.matrix import PERSONAS

    call_command("migrate", verbosity=0)
    world = build_world()
    # People with accounts (anonymous visitors and guests hold no API token).
    people = {name: world.person(name) for name in PERSONAS if name not in ("anonymous", "guest")}
    print(
        json.dumps(
            {
                "ticket": gid(world.ticket),
                "ticket_pk": world.ticket.pk,
                "tokens": {
                    name: api_token_create(actor=user, name="live")[1]
                    for name, user in people.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
