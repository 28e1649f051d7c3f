"""Form posts run the API's mutations: success is a 303 on with a flash message; a refusal
changes nothing; a payload error comes back keyed by the form's own field names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from escalated.models import (
    CannedResponse,
    Department,
    EscalationRule,
    Macro,
    Reply,
    SatisfactionRating,
    SlaPolicy,
    StoredSetting,
    Tag,
    Ticket,
)
from escalated.services import tickets
from tests.conftest import World
from tests.inertia.helpers import INERTIA, client_for, errors_after, furnish, visit
from tests.test_permission_matrix import snapshot

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def post(
    client: Client, url: str, data: Any = None, *, method: str = "post", **headers: str
) -> Any:
    """Send ``data`` as Inertia does without files: a JSON body."""
    send = getattr(client, method)
    return send(url, data or {}, content_type="application/json", headers={**INERTIA, **headers})


def assert_see_other(response: Any, location: str | None = None) -> None:
    assert response.status_code == 303, (response.status_code, response.content[:300])
    if location is not None:
        assert response["Location"] == location


# --- the customer ---------------------------------------------------------------------------


def test_a_customer_opens_a_ticket(world: World) -> None:
    client = client_for(world.customer)

    response = post(
        client,
        "/support/tickets/",
        {
            "subject": "Printer on fire",
            "description": "Smoke.",
            "priority": "high",
            "department_id": world.billing.pk,
            "ticket_type": "incident",
            "attachments": [],
        },
    )

    ticket = Ticket.objects.get(subject="Printer on fire")
    assert_see_other(response, f"/support/tickets/{ticket.reference}/")
    assert (ticket.priority, ticket.department, ticket.ticket_type) == (
        "high",
        world.billing,
        "incident",
    )
    assert (
        visit(client, response["Location"])["props"]["flash"]["success"]
        == "Your ticket has been opened."
    )


def test_a_refused_ticket_comes_back_with_errors_under_the_forms_names(world: World) -> None:
    client = client_for(world.customer)
    before = snapshot()

    response = post(
        client,
        "/support/tickets/",
        {"subject": "", "description": ""},
        Referer="http://testserver/support/tickets/create/",
    )

    assert_see_other(response, "http://testserver/support/tickets/create/")
    assert set(errors_after(client, "/support/tickets/create/")) == {"subject"}
    assert errors_after(client, "/support/tickets/create/") == {}  # shown once
    post(client, "/support/tickets/", {"subject": "Hi", "department_id": 999999})
    assert set(errors_after(client, "/support/tickets/create/")) == {"department_id"}
    assert snapshot() == before


def test_a_bad_enum_value_is_a_field_error_not_a_crash(world: World) -> None:
    client = client_for(world.customer)

    response = post(client, "/support/tickets/", {"subject": "Hi", "priority": "whenever"})

    assert_see_other(response)
    assert set(errors_after(client, "/support/tickets/create/")) == {"priority"}


def test_a_customer_replies_with_a_file_as_multipart(world: World) -> None:
    client = client_for(world.customer)

    response = client.post(
        f"/support/tickets/{world.ticket.reference}/reply/",
        {
            "body": "Here is the screenshot",
            "is_internal_note": "0",
            "attachments[]": [SimpleUploadedFile("shot.png", PNG, content_type="image/png")],
        },
        headers=INERTIA,
    )

    assert_see_other(response, f"/support/tickets/{world.ticket.reference}/")
    reply = Reply.objects.get(body__contains="screenshot")
    assert [a.filename for a in reply.attachments.all()] == ["shot.png"]
    shown = visit(client, response["Location"])["props"]["ticket"]["replies"][-1]
    assert shown["attachments"][0]["original_filename"] == "shot.png"


def test_a_customer_closes_reopens_and_rates(world: World) -> None:
    client = client_for(world.customer)
    show = f"/support/tickets/{world.ticket.reference}/"

    assert_see_other(post(client, show + "close/"), show)
    assert Ticket.objects.get().status == "closed"
    assert_see_other(post(client, show + "rate/", {"rating": 5, "comment": "Great"}), show)
    assert SatisfactionRating.objects.get().rating == 5
    assert_see_other(post(client, show + "reopen/"), show)
    assert Ticket.objects.get().status == "reopened"


def test_an_empty_reply_is_an_error_on_body(world: World) -> None:
    client = client_for(world.customer)
    show = f"/support/tickets/{world.ticket.reference}/"

    assert_see_other(
        post(client, show + "reply/", {"body": ""}, Referer="http://testserver" + show)
    )

    assert set(errors_after(client, show)) == {"body"}


# --- refusals: a customer on an agent's route, an agent on an admin's, a guest elsewhere ----

AGENT_POSTS: list[tuple[str, Callable[[World], dict[str, Any]]]] = [
    ("reply/", lambda w: {"body": "As staff"}),
    ("note/", lambda w: {"body": "Sneaky note"}),
    ("status/", lambda w: {"status": "resolved"}),
    ("priority/", lambda w: {"priority": "urgent"}),
    ("assign/", lambda w: {"agent_id": w.customer.pk}),
    ("follow/", lambda w: {}),
    ("macro/", lambda w: {"macro_id": Macro.objects.get().pk}),
    ("tags/", lambda w: {"tag_ids": [w.urgent.pk]}),
    ("department/", lambda w: {"department_id": w.sales.pk}),
    ("replies/{reply}/pin/", lambda w: {}),
]


@pytest.mark.parametrize(("path", "data"), AGENT_POSTS, ids=[p for p, _ in AGENT_POSTS])
def test_a_customer_posting_to_an_agent_route_changes_nothing(
    path: str, data: Callable[[World], dict[str, Any]], world: World
) -> None:
    furnish(world)
    client = client_for(world.customer)
    before = snapshot()
    url = f"/support/agent/tickets/{world.ticket.reference}/" + path.format(reply=world.note.pk)

    response = post(client, url, data(world))

    assert response.status_code == 403
    assert snapshot() == before


def test_a_customer_bulk_update_changes_nothing(world: World) -> None:
    before = snapshot()
    response = post(
        client_for(world.customer),
        "/support/agent/tickets/bulk/",
        {"ticket_ids": [world.ticket.pk], "action": "status", "value": "closed"},
    )
    assert response.status_code == 403
    assert snapshot() == before


ADMIN_POSTS: list[tuple[str, str, Callable[[World], dict[str, Any]]]] = [
    ("post", "/support/admin/departments/", lambda w: {"name": "Legal"}),
    ("put", "/support/admin/departments/{billing}/", lambda w: {"name": "Money"}),
    ("delete", "/support/admin/departments/{billing}/", lambda w: {}),
    ("post", "/support/admin/sla-policies/", lambda w: {"name": "Fast"}),
    ("delete", "/support/admin/sla-policies/{policy}/", lambda w: {}),
    ("post", "/support/admin/escalation-rules/", lambda w: {"name": "R", "trigger_type": "time_based"}),
    ("delete", "/support/admin/escalation-rules/{rule}/", lambda w: {}),
    ("post", "/support/admin/tags/", lambda w: {"name": "VIP", "color": "#000000"}),
    ("put", "/support/admin/tags/{tag}/", lambda w: {"name": "Renamed"}),
    ("delete", "/support/admin/tags/{tag}/", lambda w: {}),
    ("post", "/support/admin/canned-responses/", lambda w: {"title": "T", "body": "B", "is_shared": True}),
    ("post", "/support/admin/settings/", lambda w: {"allow_customer_close": False}),
    ("post", "/support/admin/webhooks/", lambda w: {"url": "https://x.example.com", "events": ["ticket.created"]}),
    ("post", "/support/admin/api-tokens/", lambda w: {"name": "mine"}),
]  # fmt: skip


def _ids(world: World) -> dict[str, int]:
    return {
        "billing": world.billing.pk,
        "policy": SlaPolicy.objects.get().pk,
        "rule": EscalationRule.objects.get().pk,
        "tag": world.urgent.pk,
    }


@pytest.mark.parametrize(
    ("method", "url", "data"), ADMIN_POSTS, ids=[f"{m}-{u}" for m, u, _ in ADMIN_POSTS]
)
def test_an_agent_posting_to_an_admin_route_changes_nothing(
    method: str, url: str, data: Callable[[World], dict[str, Any]], world: World
) -> None:
    furnish(world)
    client = client_for(world.agent)
    before = snapshot()

    response = post(client, url.format(**_ids(world)), data(world), method=method)

    assert response.status_code == 403
    assert snapshot() == before


def _guest(world: World, settings: Any) -> str:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    world.guest_headers()
    return str(world._guest_token)  # type: ignore[attr-defined]


def test_a_guest_opens_a_ticket_and_lands_on_its_page(world: World, settings: Any) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    client = client_for()

    response = post(
        client,
        "/support/guest/",
        {
            "guest_name": "Gil",
            "guest_email": "gil@example.org",
            "subject": "Where is my order",
            "description": "It is late.",
            "priority": "medium",
            "department_id": "",
        },
    )

    assert_see_other(response)
    assert response["Location"].startswith("/support/guest/")
    page = visit(client, response["Location"])
    assert page["props"]["ticket"]["subject"] == "Where is my order"


def test_a_guest_ticket_without_an_email_is_an_error_on_guest_email(
    world: World, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}
    client = client_for()

    assert_see_other(post(client, "/support/guest/", {"guest_name": "Gil", "subject": "Hi"}))

    assert "guest_email" in errors_after(client, "/support/guest/create/")


def test_a_guest_replies_and_rates_through_the_link(world: World, settings: Any) -> None:
    token = _guest(world, settings)
    client = client_for()

    assert_see_other(post(client, f"/support/guest/{token}/reply/", {"body": "Any news?"}))
    assert world.guest_ticket.replies.filter(body__contains="Any news").exists()  # type: ignore[attr-defined]


def test_a_guest_cannot_reach_another_ticket(world: World, settings: Any) -> None:
    token = _guest(world, settings)
    client = client_for()
    before = snapshot()

    # The customer's routes, with the guest's link in the header the API accepts: not a
    # session, so the page door sends them to sign in and runs nothing.
    response = post(
        client,
        f"/support/tickets/{world.ticket.reference}/reply/",
        {"body": "Hijack"},
        **{"X-Escalated-Guest-Token": token},
    )
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    # A link that is not theirs (nor anyone's) finds nothing.
    assert (
        post(client, "/support/guest/" + "y" * 64 + "/reply/", {"body": "Hijack"}).status_code
        == 404
    )
    assert snapshot() == before


# --- the agent --------------------------------------------------------------------------------


def test_an_agent_works_a_ticket(world: World) -> None:
    furnish(world)
    client = client_for(world.agent)
    show = f"/support/agent/tickets/{world.ticket.reference}/"

    assert_see_other(
        post(client, show + "reply/", {"body": "On it", "is_internal_note": False}), show
    )
    assert_see_other(post(client, show + "note/", {"body": "Check the ledger"}), show)
    assert_see_other(post(client, show + "status/", {"status": "in_progress"}), show)
    assert_see_other(post(client, show + "priority/", {"priority": "urgent"}), show)
    assert_see_other(post(client, show + "assign/", {"agent_id": world.agent.pk}), show)
    assert_see_other(post(client, show + "follow/"), show)

    ticket = Ticket.objects.get(pk=world.ticket.pk)
    assert (ticket.status, ticket.priority, ticket.assignee) == (
        "in_progress",
        "urgent",
        world.agent,
    )
    assert ticket.replies.filter(is_internal_note=True, body__contains="ledger").exists()
    page = visit(client, show)["props"]
    assert page["is_following"] is True
    assert page["followers_count"] == 1
    assert page["flash"]["success"] == "You follow this ticket."

    assert_see_other(post(client, show + "follow/"), show)  # the button toggles
    assert visit(client, show)["props"]["is_following"] is False


def test_an_agent_pins_and_unpins_a_note(world: World) -> None:
    client = client_for(world.agent)
    pin = f"/support/agent/tickets/{world.ticket.reference}/replies/{world.note.pk}/pin/"

    assert_see_other(post(client, pin))
    assert Reply.objects.get(pk=world.note.pk).is_pinned is True
    assert_see_other(post(client, pin))
    assert Reply.objects.get(pk=world.note.pk).is_pinned is False


def test_an_agent_applies_a_macro(world: World) -> None:
    furnish(world)
    client = client_for(world.agent)
    show = f"/support/agent/tickets/{world.ticket.reference}/"

    assert_see_other(post(client, show + "macro/", {"macro_id": Macro.objects.get().pk}), show)

    assert Ticket.objects.get(pk=world.ticket.pk).status == "resolved"


def test_an_agent_runs_a_bulk_action(world: World) -> None:
    second = tickets.ticket_create(actor=world.customer, subject="Second", department=world.billing)
    client = client_for(world.agent)

    response = post(
        client,
        "/support/agent/tickets/bulk/",
        {"ticket_ids": [world.ticket.pk, second.pk], "action": "priority", "value": "high"},
    )

    assert_see_other(response, "/support/agent/tickets/")
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"high"}


def test_a_bulk_delete_changes_nothing_and_says_so(world: World) -> None:
    client = client_for(world.agent)
    before = snapshot()

    response = post(
        client,
        "/support/agent/tickets/bulk/",
        {"ticket_ids": [world.ticket.pk], "action": "delete", "value": None},
        Referer="http://testserver/support/agent/tickets/",
    )

    assert_see_other(response)
    assert errors_after(client, "/support/agent/tickets/")
    assert snapshot() == before


def test_presence_answers_who_is_viewing(world: World) -> None:
    response = post(
        client_for(world.agent), f"/support/agent/tickets/{world.ticket.reference}/presence/"
    )
    assert response.status_code == 200
    assert response.json() == {"viewers": [{"id": world.agent.pk, "name": "Alan Agent"}]}


@pytest.mark.parametrize(
    "url", ["/support/admin/agents/search", "/support/agent/admin/agents/search"]
)
def test_mentions_search_the_agents(url: str, world: World) -> None:
    response = client_for(world.agent).get(url, {"q": "olg"})
    assert response.status_code == 200
    assert response.json() == [
        {"id": world.outsider.pk, "name": "Olga Outsider", "email": "olga@example.com"}
    ]
    assert client_for(world.customer).get(url, {"q": "a"}).status_code == 403


# --- the admin ----------------------------------------------------------------------------------


def test_an_admin_creates_edits_and_deletes_a_department(world: World) -> None:
    client = client_for(world.admin)

    assert_see_other(
        post(
            client,
            "/support/admin/departments/",
            {"name": "Legal", "slug": "", "description": "Law", "is_active": True},
        ),
        "/support/admin/departments/",
    )
    legal = Department.objects.get(name="Legal")
    assert_see_other(
        post(
            client,
            f"/support/admin/departments/{legal.pk}/",
            {"name": "Legal team", "slug": "legal", "description": "", "is_active": False},
            method="put",
        ),
        "/support/admin/departments/",
    )
    legal.refresh_from_db()
    assert (legal.name, legal.is_active) == ("Legal team", False)
    assert_see_other(post(client, f"/support/admin/departments/{legal.pk}/", method="delete"))
    assert not Department.objects.filter(pk=legal.pk).exists()


def test_a_put_may_be_multipart_with_checkboxes_as_one_and_zero(world: World) -> None:
    from django.test.client import encode_multipart

    client = client_for(world.admin)
    body = encode_multipart(
        "BoUnDaRy", {"name": "Billing", "slug": "billing", "description": "", "is_active": "0"}
    )

    response = client.put(
        f"/support/admin/departments/{world.billing.pk}/",
        body,
        content_type="multipart/form-data; boundary=BoUnDaRy",
        headers=INERTIA,
    )

    assert_see_other(response)
    assert Department.objects.get(pk=world.billing.pk).is_active is False


def test_a_nameless_department_is_an_error_on_name(world: World) -> None:
    client = client_for(world.admin)
    before = snapshot()

    post(
        client,
        "/support/admin/departments/",
        {"name": ""},
        Referer="http://testserver/support/admin/departments/create/",
    )

    assert "name" in errors_after(client, "/support/admin/departments/create/")
    assert snapshot() == before


def test_an_admin_manages_sla_policies_rules_tags_and_canned_responses(world: World) -> None:
    client = client_for(world.admin)
    hours = {"low": 24, "medium": 8, "high": 4, "urgent": 1, "critical": "0.5"}

    assert_see_other(
        post(
            client,
            "/support/admin/sla-policies/",
            {
                "name": "Fast",
                "description": "",
                "is_default": False,
                "first_response_hours": hours,
                "resolution_hours": hours,
                "business_hours_only": False,
                "is_active": True,
            },
        )
    )
    policy = SlaPolicy.objects.get(name="Fast")
    assert_see_other(
        post(
            client,
            f"/support/admin/sla-policies/{policy.pk}/",
            {"name": "Faster", "first_response_hours": hours, "resolution_hours": hours},
            method="put",
        )
    )
    assert SlaPolicy.objects.get(pk=policy.pk).name == "Faster"
    form = visit(client, f"/support/admin/sla-policies/{policy.pk}/edit/")["props"]["policy"]
    assert form["first_response_hours"]["critical"] == 0.5

    rule = {
        "name": "Old",
        "description": "",
        "trigger_type": "time_based",
        "conditions": [{"field": "age_hours", "value": 48}],
        "actions": [{"type": "escalate", "value": ""}],
        "order": 1,
        "is_active": True,
    }
    assert_see_other(post(client, "/support/admin/escalation-rules/", rule))
    saved = EscalationRule.objects.get(name="Old")
    assert_see_other(
        post(
            client,
            f"/support/admin/escalation-rules/{saved.pk}/",
            {**rule, "name": "Older"},
            method="put",
        )
    )
    assert EscalationRule.objects.get(pk=saved.pk).name == "Older"
    assert_see_other(post(client, f"/support/admin/escalation-rules/{saved.pk}/", method="delete"))

    assert_see_other(post(client, "/support/admin/tags/", {"name": "VIP", "color": "#123456"}))
    vip = Tag.objects.get(name="VIP")
    assert_see_other(
        post(
            client,
            f"/support/admin/tags/{vip.pk}/",
            {"name": "Very VIP", "color": "#123456"},
            method="put",
        )
    )
    assert Tag.objects.get(pk=vip.pk).name == "Very VIP"
    assert_see_other(post(client, f"/support/admin/tags/{vip.pk}/", method="delete"))

    assert_see_other(
        post(
            client,
            "/support/admin/canned-responses/",
            {"title": "Hello", "body": "Hi {{ name }}", "category": "", "is_shared": True},
        )
    )
    response = CannedResponse.objects.get(title="Hello")
    assert_see_other(
        post(client, f"/support/admin/canned-responses/{response.pk}/", method="delete")
    )

    assert_see_other(post(client, f"/support/admin/sla-policies/{policy.pk}/", method="delete"))
    assert not SlaPolicy.objects.exists()


def test_an_unknown_escalation_trigger_is_an_error_on_trigger_type(world: World) -> None:
    client = client_for(world.admin)
    post(
        client,
        "/support/admin/escalation-rules/",
        {"name": "X", "trigger_type": "someday", "conditions": [], "actions": []},
    )
    assert "trigger_type" in errors_after(client, "/support/admin/escalation-rules/create/")


def test_an_admin_saves_settings_and_unsupported_keys_are_ignored(world: World) -> None:
    client = client_for(world.admin)
    page = visit(client, "/support/admin/settings/")["props"]["settings"]

    response = post(
        client,
        "/support/admin/settings/",
        {
            **page,
            "allow_customer_close": False,
            "max_attachments_per_reply": 3,
            "chat_enabled": True,
            "widget_color": "#000000",
            "imap_host": "mail.example.com",
        },
    )

    assert_see_other(response, "/support/admin/settings/")
    assert dict(StoredSetting.objects.values_list("key", "value")) == {
        "ALLOW_CUSTOMER_CLOSE": False,
        "MAX_ATTACHMENTS": 3,
    }
    shown = visit(client, "/support/admin/settings/")["props"]["settings"]
    assert (shown["allow_customer_close"], shown["max_attachments_per_reply"]) == (False, 3)
    assert shown["chat_enabled"] is False
    from escalated.conf import escalated_settings

    assert escalated_settings.ALLOW_CUSTOMER_CLOSE is False


def test_bad_settings_are_errors_by_field_and_change_nothing(world: World) -> None:
    client = client_for(world.admin)

    post(
        client,
        "/support/admin/settings/",
        {
            "max_attachments_per_reply": "lots",
            "ticket_reference_prefix": "no good",
            "allow_customer_close": False,
        },
    )

    assert set(errors_after(client, "/support/admin/settings/")) == {
        "max_attachments_per_reply",
        "ticket_reference_prefix",
    }
    assert not StoredSetting.objects.exists()


def test_puts_and_deletes_answer_303(world: World) -> None:
    client = client_for(world.admin)
    response = post(
        client,
        f"/support/admin/tags/{world.urgent.pk}/",
        {"name": "Hot", "color": "#DC2626"},
        method="put",
    )
    assert response.status_code == 303
    response = post(client, f"/support/admin/tags/{world.urgent.pk}/", method="delete")
    assert response.status_code == 303


def test_a_body_that_is_not_json_is_an_error_not_a_crash(world: World) -> None:
    client = client_for(world.customer)
    response = client.post(
        "/support/tickets/", b"{nope", content_type="application/json", headers=INERTIA
    )
    assert_see_other(response)
    assert errors_after(client, "/support/tickets/create/") == {
        "subject": "The body is not valid JSON."
    }
