"""The Django admin shows tickets, replies and the timeline but cannot change them: changes
there would bypass the services (no timeline row, no signals, no notifications)."""

from __future__ import annotations

import pytest

from escalated.models import Reply, Ticket, TicketActivity
from tests.conftest import World
from tests.inertia.helpers import client_for
from tests.test_permission_matrix import snapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Ticket, Reply, TicketActivity])
def test_the_admin_reads_but_does_not_write(model: type, world: World) -> None:
    world.admin.is_superuser = True
    world.admin.save(update_fields=["is_superuser"])
    client = client_for(world.admin)
    name = model._meta.model_name
    obj = model.objects.first()
    before = snapshot()

    assert client.get(f"/admin/escalated/{name}/").status_code == 200
    assert client.get(f"/admin/escalated/{name}/{obj.pk}/change/").status_code == 200
    assert client.get(f"/admin/escalated/{name}/add/").status_code == 403
    assert (
        client.post(f"/admin/escalated/{name}/{obj.pk}/change/", {"subject": "Edited"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/escalated/{name}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert snapshot() == before
