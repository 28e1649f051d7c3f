"""Shared fixtures: the people of a small helpdesk, and a GraphQL client that can act as each."""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client, override_settings
from strawberry import relay

from escalated.models import Department, Reply, Tag, Ticket
from escalated.services import tickets as ticket_service

User = get_user_model()

NODE_NAMES = {
    "Ticket": "Ticket",
    "Reply": "Reply",
    "Department": "Department",
    "Tag": "Tag",
    "CannedResponse": "CannedResponse",
    "TicketActivity": "TicketActivity",
    "ApiToken": "ApiToken",
    "Attachment": "Attachment",
    "Macro": "Macro",
    "SatisfactionRating": "SatisfactionRating",
    "Delivery": "Delivery",
    "Webhook": "Webhook",
    "BusinessSchedule": "BusinessSchedule",
    "SlaPolicy": "SlaPolicy",
    "EscalationRule": "EscalationRule",
    "InboundEmail": "InboundEmail",
    "Site": "Site",
}


def gid(obj: Any) -> str:
    """The global id of a model instance."""
    name = NODE_NAMES.get(type(obj).__name__, "User")
    return relay.to_base64(name, obj.pk)


# --- services the suite needs ----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's package, driven by Playwright's executable_path
# The browser suites that also need the built demo frontend: they run only with
# ESCALATED_TEST_BROWSER=1 (make test-browser, CI's browser steps). Other `browser` tests
# (GraphiQL's) need only chromium.
NEEDS_BUILD = ("browser", "browser_live")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked postgres/redis/browser skip when those services are not configured (or
    Debian's chromium is not installed), and fail instead when ESCALATED_REQUIRE_SERVICES=1
    (CI's second pass), so they never skip silently there."""
    require = os.environ.get("ESCALATED_REQUIRE_SERVICES") == "1"
    have = {
        "postgres": os.environ.get("ESCALATED_TEST_DB") == "postgres",
        "redis": bool(os.environ.get("ESCALATED_TEST_REDIS")),
        "browser": os.path.exists(CHROMIUM),
    }
    tests = Path(__file__).parent
    built = os.environ.get("ESCALATED_TEST_BROWSER") == "1"
    for item in items:
        if (
            not built
            and item.get_closest_marker("browser")
            and any(Path(item.path).is_relative_to(tests / folder) for folder in NEEDS_BUILD)
        ):
            item.add_marker(
                pytest.mark.skip(
                    reason="browser test: run make test-browser (ESCALATED_TEST_BROWSER=1)"
                )
            )
            continue
        for service, available in have.items():
            if item.get_closest_marker(service) and not available:
                if require:
                    raise pytest.UsageError(
                        f"{item.nodeid} needs {service}, which this run does not configure"
                    )
                item.add_marker(pytest.mark.skip(reason=f"needs {service}: see .ci/run"))


@pytest.fixture(autouse=True)
def _settings_store_empty() -> Any:
    """Every test starts (and leaves) with the settings store's process copy as empty as its
    rolled-back database, so what one test stored never answers in another, and no test pays
    for reloading it."""
    from escalated import settings_store

    settings_store.assume_empty()
    yield
    settings_store.assume_empty()


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Rate-limit counters live in the default cache (local memory here): each test starts
    with none, so that ids reused across tests do not inherit each other's counts."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture
def on_postgres() -> None:
    assert connection.vendor == "postgresql", "this test must run on PostgreSQL"


# --- people -----------------------------------------------------------------------------------


def make_user(username: str, *, first: str = "", last: str = "", **extra: Any) -> Any:
    return User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password="pw",
        first_name=first,
        last_name=last,
        **extra,
    )


@dataclass
class World:
    """A helpdesk with two departments, their agents, an admin and two customers.

    ``ticket`` belongs to ``customer``, sits in billing, and carries one public reply and one
    internal note.
    """

    admin: Any
    agent: Any
    outsider: Any
    customer: Any
    other_customer: Any
    billing: Department
    sales: Department
    urgent: Tag
    ticket: Ticket
    reply: Reply
    note: Reply

    def person(self, name: str) -> Any:
        return None if name in ("anonymous", "guest") else getattr(self, name)

    def guest_headers(self) -> dict[str, str]:
        """Credentials of a guest with a ticket of their own in billing, made on first use."""
        if not hasattr(self, "_guest_token"):
            from escalated.services import guests

            unlimited = {"PER_EMAIL": 10**9, "PER_IP": 10**9}
            with override_settings(
                ESCALATED={"GUEST_TICKETS_ENABLED": True, "GUEST_RATE_LIMIT": unlimited}
            ):
                ticket, token = guests.guest_ticket_create(
                    name="Gus Guest",
                    email="gus@example.org",
                    subject="My parcel",
                    department=self.billing,
                )
            self.guest_ticket, self._guest_token = ticket, token
        return guest_header(self._guest_token)


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def build_world() -> World:
    """Create the :class:`World` in the current database."""
    admin = make_user("ada", first="Ada", last="Admin", is_staff=True)
    admin.user_permissions.add(
        Permission.objects.get(codename="admin", content_type__app_label="escalated")
    )
    agent = make_user("alan", first="Alan", last="Agent")
    outsider = make_user("olga", first="Olga", last="Outsider")
    customer = make_user("cora", first="Cora", last="Customer")
    other_customer = make_user("otto", first="Otto", last="Other")
    billing = Department.objects.create(name="Billing", slug="billing")
    sales = Department.objects.create(name="Sales", slug="sales")
    billing.agents.add(agent)
    sales.agents.add(outsider)
    urgent = Tag.objects.create(name="Urgent", slug="urgent", color="#DC2626")
    ticket = ticket_service.ticket_create(
        actor=customer,
        subject="Invoice is wrong",
        description="I was charged twice.",
        department=billing,
    )
    reply = ticket_service.ticket_reply(ticket=ticket, author=agent, body="<p>Looking into it.</p>")
    note = ticket_service.ticket_note_add(
        ticket=ticket, author=agent, body="Secret: refund pending approval"
    )
    ticket.refresh_from_db()
    return World(
        admin=User.objects.get(pk=admin.pk),
        agent=User.objects.get(pk=agent.pk),
        outsider=User.objects.get(pk=outsider.pk),
        customer=User.objects.get(pk=customer.pk),
        other_customer=User.objects.get(pk=other_customer.pk),
        billing=billing,
        sales=sales,
        urgent=urgent,
        ticket=ticket,
        reply=reply,
        note=note,
    )


# --- GraphQL ----------------------------------------------------------------------------------


class GraphQL:
    """Posts GraphQL operations to /support/graphql/ as a given user (None: anonymous)."""

    url = "/support/graphql/"

    def __init__(self) -> None:
        self.client = Client()

    def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        response = self.client.post(
            self.url,
            {"query": query, "variables": variables or {}},
            content_type="application/json",
            headers=headers or {},
        )
        assert response.status_code in (200, 400), response.content
        return response.json()

    def multipart(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, Any],
        *,
        user: Any = None,
        headers: dict[str, str] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        """Post per the GraphQL multipart request spec: ``files`` maps a variable path (e.g.
        ``"variables.input.attachments.0"``) to an uploaded file."""
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        names = {path: str(n) for n, path in enumerate(files)}
        data = {
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({name: [path] for path, name in names.items()}),
            **{name: files[path] for path, name in names.items()},
        }
        response = self.client.post(self.url, data, headers=headers or {})
        assert response.status_code == expect, response.content
        return response.json()


@pytest.fixture
def gql(db: Any) -> GraphQL:
    return GraphQL()


def data_of(result: dict[str, Any]) -> dict[str, Any]:
    """The data of a result that must have no top-level errors."""
    assert "errors" not in result, result["errors"]
    return result["data"]


# --- attachments and guests -------------------------------------------------------------------


@pytest.fixture
def file_store(settings: Any, tmp_path: Any) -> Any:
    """Attachments go to a FileSystemStorage in a fresh directory, under their own alias."""
    location = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "escalated_test": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    settings.ESCALATED = {**settings.ESCALATED, "ATTACHMENT_STORAGE": "escalated_test"}
    return location


def stored_files(location: Any) -> list[str]:
    """Every file under a storage directory, relative to it."""
    return sorted(str(p.relative_to(location)) for p in location.rglob("*") if p.is_file())


@pytest.fixture
def guests_on(settings: Any) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "GUEST_TICKETS_ENABLED": True}


def open_guest_ticket(**extra: Any) -> tuple[Ticket, str]:
    """A guest ticket (guest tickets must be enabled) and its guest token."""
    from escalated.services import guests

    values = {"name": "Gail Guest", "email": "gail@example.net", "subject": "Where is my order?"}
    return guests.guest_ticket_create(**{**values, **extra})


def guest_header(token: str) -> dict[str, str]:
    return {"X-Escalated-Guest-Token": token}


@pytest.fixture
def compare_digest_calls(monkeypatch: Any) -> list[tuple[str, str]]:
    """Every call to hmac.compare_digest while the test runs (the real function still answers)."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls
