"""An export carries who works each ticket and the files' contents: what the site's export
command sent (to a real HTTP receiver) is then given to this helpdesk as a hub, through its
events endpoint. The hub's copy is assigned to its person for the site's agent (an agent of the
site, as their viewer assertions will name them once the site is in cloud mode), holds the
same bytes, and a second run, or a changed assignee, applies only what is new."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from django.contrib.auth.models import Permission
from django.core.management import call_command

from escalated.access import SystemActor
from escalated.models import Attachment, SitePerson, Ticket
from escalated.services import attachments, cloud_viewers
from escalated.services import tickets as service
from tests.conftest import make_user
from tests.files import pdf, png, upload
from tests.hosted.conftest import site_of
from tests.hosted.test_export import _bodies
from tests.hosted.test_hub import post
from tests.outbox.peers import HttpReceiver


def _site_ticket(db: Any) -> tuple[Ticket, Any]:
    agent = make_user("alan", first="Alan", last="Agent")
    agent.user_permissions.add(
        Permission.objects.get(codename="agent", content_type__app_label="escalated")
    )
    customer = make_user("cora", first="Cora", last="Customer")
    ticket = service.ticket_create(
        actor=customer, subject="Photo", attachments=[upload("shot.png", png(), "image/png")]
    )
    service.ticket_reply(
        ticket=ticket, author=customer, body="And the bill", attachments=[upload("bill.pdf", pdf())]
    )
    ticket = service.ticket_assign(ticket=ticket, actor=SystemActor("test"), assignee=agent)
    return ticket, agent


def _deliver(bodies: list[dict[str, Any]], key: str) -> list[str]:
    answers = []
    for body in bodies:
        response = post(body, key)
        assert response.status_code == 200, response.content
        answers.append(response.json()["status"])
    return answers


def _hub_copy(hub: dict[str, Any], ticket: Ticket) -> Ticket:
    return Ticket.objects.get(site=site_of(hub, "shop"), site_reference=ticket.reference)


def test_the_hubs_copy_has_the_sites_agent_and_the_files_bytes(
    receiver: HttpReceiver, hub: dict[str, Any], file_store: Any, db: Any
) -> None:
    ticket, agent = _site_ticket(db)

    call_command("escalated_export_to_hub")
    bodies = _bodies(receiver)
    created, reply, state = bodies
    assert state["payload"]["assignee"] == {
        "id": str(agent.pk),
        "name": "Alan Agent",
        "email": "alan@example.com",
    }
    [shot] = created["payload"]["attachments"]
    assert base64.b64decode(shot["content_base64"]) == png()
    assert shot["sha256"] == hashlib.sha256(png()).hexdigest()
    assert base64.b64decode(reply["payload"]["attachments"][0]["content_base64"]) == pdf()

    assert _deliver(bodies, hub["shop_key"]) == ["applied"] * 3
    copy = _hub_copy(hub, ticket)
    person = SitePerson.objects.get(site=site_of(hub, "shop"), remote_id=str(agent.pk))
    assert person.role == SitePerson.Role.AGENT
    assert copy.assignee_id == person.user_id != agent.pk
    kept = {}
    for file in Attachment.objects.filter(ticket=copy):
        with attachments.attachment_open(file) as handle:
            kept[file.filename] = handle.read()
    assert kept == {"shot.png": png(), "bill.pdf": pdf()}

    # The site's agent, in cloud mode, is that same person, and works the ticket.
    viewer = cloud_viewers.site_viewer(
        site=site_of(hub, "shop"), sub=str(agent.pk), name="Alan Agent", email="", role="agent"
    )
    assert viewer.pk == copy.assignee_id

    # Again: nothing new. Unassigned on the site: one new state event, and only it applies.
    receiver.calls.clear()
    call_command("escalated_export_to_hub")
    assert _deliver(_bodies(receiver), hub["shop_key"]) == ["duplicate"] * 3
    service.ticket_assign(ticket=ticket, actor=SystemActor("test"), assignee=None)
    receiver.calls.clear()
    call_command("escalated_export_to_hub")
    assert _deliver(_bodies(receiver), hub["shop_key"]) == ["duplicate", "duplicate", "applied"]
    assert _hub_copy(hub, ticket).assignee_id is None


def test_an_assignee_that_names_nobody_is_refused_and_changes_nothing(
    receiver: HttpReceiver, hub: dict[str, Any], file_store: Any, db: Any
) -> None:
    ticket, _agent = _site_ticket(db)
    call_command("escalated_export_to_hub")
    created, reply, state = _bodies(receiver)
    assert _deliver([created, reply], hub["shop_key"]) == ["applied", "applied"]
    people = SitePerson.objects.count()

    state["event_id"] = "f" * 32
    state["payload"]["assignee"] = {"id": "", "name": "Nobody"}
    response = post(state, hub["shop_key"])

    assert response.status_code == 422, response.content
    assert json.loads(response.content)["status"] == "refused"
    assert _hub_copy(hub, ticket).assignee_id is None
    assert SitePerson.objects.count() == people
