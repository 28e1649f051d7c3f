"""The Django admin pages of the agent workflow's models open, with data in them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from escalated.services import macros, ratings, routing, tickets
from tests.conftest import World, make_user


@pytest.mark.parametrize("page", ["department", "agentprofile", "macro", "satisfactionrating"])
def test_changelists_open(world: World, page: str) -> None:
    routing.agent_availability_set(actor=world.agent, agent=world.agent, availability="away")
    macros.macro_create(
        actor=world.admin,
        name="Triage",
        actions=[macros.MacroAction(type="set_priority", priority="high")],
    )
    tickets.ticket_resolve(ticket=world.ticket, actor=world.agent)
    ratings.ticket_rate(ticket=world.ticket, actor=world.customer, rating=4)
    superuser: Any = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)

    response = client.get(f"/admin/escalated/{page}/")

    assert response.status_code == 200
