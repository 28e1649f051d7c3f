"""Every support page renders in chromium for its role: its key content visible, nothing in the
console. One screenshot per page goes to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HUB_ADMINISTRATION, Session, Site, self_hosted_only

pytestmark = pytest.mark.browser

CHARGED_TWICE = "Charged twice for my subscription"  # a seeded ticket (demo/seed_demo.py)


@dataclass(frozen=True)
class Shown:
    name: str
    role: str
    path: Callable[[Site], str]
    texts: tuple[str, ...]


def at(path: str) -> Callable[[Site], str]:
    return lambda site: path


def ticket(prefix: str) -> Callable[[Site], str]:
    return lambda site: f"{prefix}{site.world['tickets'][CHARGED_TWICE]}/"


PAGES = [
    Shown("customer-index", "customer", at("/support/"), ("My Tickets", CHARGED_TWICE)),
    Shown("customer-index-tickets", "customer", at("/support/tickets/"), ("My Tickets",)),
    Shown(
        "customer-create", "customer", at("/support/tickets/create/"), ("Create Ticket", "Subject")
    ),
    Shown("customer-show", "customer", ticket("/support/tickets/"), (CHARGED_TWICE,)),
    # The agent layout shows no page title: its key content is the page's own.
    Shown("agent-dashboard", "agent", at("/support/agent/"), ("Recent Tickets", "Open Tickets")),
    Shown("agent-queue", "agent", at("/support/agent/tickets/"), ("Assigned to Me", CHARGED_TWICE)),
    Shown("agent-show", "agent", ticket("/support/agent/tickets/"), ("Conversation", "Details")),
    Shown("admin-reports", "admin", at("/support/admin/reports/"), ("Reports",)),
    Shown(
        "admin-departments", "admin", at("/support/admin/departments/"), ("Departments", "Billing")
    ),
    Shown(
        "admin-department-new",
        "admin",
        at("/support/admin/departments/create/"),
        ("New Department",),
    ),
    Shown(
        "admin-department-edit",
        "admin",
        lambda site: site.path(
            "escalated.admin.departments.edit", site.world["departments"]["Billing"]
        ),
        ("Edit Department",),
    ),
    Shown("admin-sla-policies", "admin", at("/support/admin/sla-policies/"), ("SLA Policies",)),
    Shown(
        "admin-sla-policy-new",
        "admin",
        at("/support/admin/sla-policies/create/"),
        ("New SLA Policy",),
    ),
    Shown(
        "admin-escalation-rules",
        "admin",
        at("/support/admin/escalation-rules/"),
        ("Escalation Rules",),
    ),
    Shown(
        "admin-escalation-rule-new",
        "admin",
        at("/support/admin/escalation-rules/create/"),
        ("New Escalation Rule",),
    ),
    Shown("admin-tags", "admin", at("/support/admin/tags/"), ("Tags", "VIP")),
    Shown(
        "admin-canned-responses",
        "admin",
        at("/support/admin/canned-responses/"),
        ("Canned Responses", "Refund issued"),
    ),
    Shown("admin-settings", "admin", at("/support/admin/settings/"), ("Settings",)),
    Shown("admin-macros", "admin", at("/support/admin/macros/"), ("Macros",)),
    Shown("admin-webhooks", "admin", at("/support/admin/webhooks/"), ("Webhooks",)),
    Shown("admin-api-tokens", "admin", at("/support/admin/api-tokens/"), ("API Tokens",)),
    Shown(
        "admin-business-hours", "admin", at("/support/admin/business-hours/"), ("Business Hours",)
    ),
    Shown(
        "admin-unavailable-feature",
        "admin",
        at("/support/admin/workflows/"),
        ("Workflows is not available here", "Tags"),
    ),
    Shown(
        "customer-unavailable-feature",
        "customer",
        at("/support/kb/"),
        ("Knowledge base is not available here",),
    ),
    Shown("guest-create", "guest", at("/support/guest/create/"), ("Submit a Support Ticket",)),
]


@pytest.mark.parametrize("shown", PAGES, ids=[shown.name for shown in PAGES])
def test_page_renders_its_content_without_console_errors(
    visit: Callable[[str | None], Session], site: Site, shown: Shown
) -> None:
    if shown.role == "admin":
        self_hosted_only(site, HUB_ADMINISTRATION)
    session = visit(None if shown.role == "guest" else shown.role)
    session.goto(shown.path(site))
    for text in shown.texts:
        expect(session.page.get_by_text(text, exact=True).first).to_be_visible()
    session.shot(shown.name)
    assert session.console.errors == []
