"""An admin creates, edits and deletes a department, an SLA policy, an escalation rule, a tag and
a canned response through the admin pages, and saves the settings. Every change is read back
from a freshly loaded page, so it was saved, not only shown."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.browser.conftest import HUB_ADMINISTRATION, Session, Site, self_hosted_only

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(visit: Callable[[str | None], Session], site: Site) -> Iterator[Session]:
    self_hosted_only(site, HUB_ADMINISTRATION)
    session = visit("admin")
    # Deleting asks `confirm()`; the admin says yes.
    session.page.on("dialog", lambda dialog: accept(dialog))
    yield session
    assert session.console.errors == []


def accept(dialog: Dialog) -> None:
    dialog.accept()


def row(page: Page, text: str) -> Locator:
    return page.locator("tr", has_text=text)


def reload(session: Session) -> None:
    session.page.reload()
    session.page.wait_for_load_state("networkidle")


def rename(admin: Session, index: str, old: str, new: str, heading: str) -> None:
    """Open ``old``'s edit form from the index, check it holds ``old``, save it as ``new``, and
    see the index show ``new`` after a fresh load."""
    page = admin.page
    row(page, old).get_by_role("link", name="Edit").click()
    expect(page.get_by_text(heading, exact=True).first).to_be_visible()
    name = page.locator("form input[type=text]").first
    expect(name).to_have_value(old)
    name.fill(new)
    page.locator("form").get_by_role("button", name="Update").click()
    expect(page).to_have_url(admin.site.url(index))
    reload(admin)
    expect(row(page, new)).to_be_visible()


def delete(admin: Session, name: str) -> None:
    """Delete the row ``name`` (confirming), and see it gone after a fresh load too."""
    page = admin.page
    row(page, name).get_by_role("button", name="Delete").click()
    expect(row(page, name)).to_have_count(0)
    reload(admin)
    expect(row(page, name)).to_have_count(0)


def test_admin_creates_edits_and_deletes_a_department(admin: Session) -> None:
    page = admin.page
    index = "/support/admin/departments/"
    admin.goto(index)
    page.get_by_role("link", name="Add Department").click()
    expect(page.get_by_text("New Department", exact=True).first).to_be_visible()
    form = page.locator("form")
    form.locator("input[type=text]").first.fill("Onboarding")
    form.locator("textarea").fill("New customers' first steps.")
    form.get_by_role("button", name="Create").click()
    expect(page).to_have_url(admin.site.url(index))
    expect(row(page, "Onboarding")).to_be_visible()

    rename(admin, index, "Onboarding", "Onboarding and training", "Edit Department")
    delete(admin, "Onboarding and training")
    expect(row(page, "Billing")).to_be_visible()
    admin.shot("admin-departments-after-crud")


def test_admin_creates_edits_and_deletes_an_sla_policy(admin: Session) -> None:
    page = admin.page
    index = "/support/admin/sla-policies/"
    admin.goto("/support/admin/sla-policies/create/")
    form = page.locator("form")
    form.locator("input[type=text]").first.fill("Premium")
    hours = form.locator("input[type=number]")
    for position in range(hours.count()):
        hours.nth(position).fill(str(position + 1))
    form.get_by_role("button", name="Create").click()
    expect(page).to_have_url(admin.site.url(index))
    expect(row(page, "Premium")).to_be_visible()

    rename(admin, index, "Premium", "Premium plus", "Edit SLA Policy")
    row(page, "Premium plus").get_by_role("link", name="Edit").click()
    first_hours = page.locator("form input[type=number]").first
    expect(first_hours).to_have_value("1")
    first_hours.fill("0.5")
    page.locator("form").get_by_role("button", name="Update").click()
    expect(page).to_have_url(admin.site.url(index))
    row(page, "Premium plus").get_by_role("link", name="Edit").click()
    expect(page.locator("form input[type=number]").first).to_have_value("0.5")

    admin.goto(index)
    delete(admin, "Premium plus")
    expect(row(page, "Standard")).to_be_visible()


def test_admin_creates_edits_and_deletes_an_escalation_rule(admin: Session) -> None:
    page = admin.page
    index = "/support/admin/escalation-rules/"
    admin.goto("/support/admin/escalation-rules/create/")
    form = page.locator("form")
    form.locator("input[type=text]").first.fill("Urgent and untouched")
    form.locator("select").first.select_option("priority_based")
    # The form starts with one empty condition and one empty action.
    form.locator("select").filter(has_text="No Response (hours)").select_option("priority")
    form.get_by_placeholder("Value").first.fill("urgent")
    form.locator("select").filter(has_text="Change Department").select_option("escalate")
    form.get_by_role("button", name="Create").click()
    expect(page).to_have_url(admin.site.url(index))
    expect(row(page, "Urgent and untouched")).to_be_visible()

    rename(
        admin, index, "Urgent and untouched", "Urgent tickets nobody took", "Edit Escalation Rule"
    )
    row(page, "Urgent tickets nobody took").get_by_role("link", name="Edit").click()
    expect(page.get_by_placeholder("Value").first).to_have_value("urgent")
    expect(page.locator("form select").first).to_have_value("priority_based")

    admin.goto(index)
    delete(admin, "Urgent tickets nobody took")


def test_admin_creates_edits_and_deletes_a_tag(admin: Session) -> None:
    page = admin.page
    admin.goto("/support/admin/tags/")
    page.get_by_role("button", name="Add Tag").click()
    form = page.locator("form").first
    form.locator("input[type=text]").fill("Churn risk")
    form.locator("input[type=color]").fill("#ff8800")
    form.get_by_role("button", name="Create").click()
    expect(row(page, "Churn risk")).to_be_visible()

    row(page, "Churn risk").get_by_role("button", name="Edit").click()
    editing = page.locator("tr").filter(has=page.locator("input[type=text]"))
    editing.locator("input[type=text]").fill("Churn warning")
    editing.get_by_role("button", name="Save").click()
    expect(row(page, "Churn warning")).to_be_visible()
    reload(admin)
    expect(row(page, "Churn warning")).to_be_visible()

    delete(admin, "Churn warning")
    expect(row(page, "VIP")).to_be_visible()


def test_admin_creates_and_deletes_a_canned_response(admin: Session) -> None:
    # The package's canned responses page has no edit form (the contract, section 1.17).
    page = admin.page
    admin.goto("/support/admin/canned-responses/")
    page.get_by_role("button", name="Add Response").click()
    page.get_by_placeholder("Title").fill("Ask for a screenshot")
    page.get_by_placeholder("Response body...").fill("Could you send us a screenshot of the error?")
    page.get_by_placeholder("Category (optional)").fill("Support")
    page.locator("form").get_by_role("button", name="Create").click()
    expect(page.get_by_text("Ask for a screenshot")).to_be_visible()
    reload(admin)
    expect(page.get_by_text("Could you send us a screenshot of the error?")).to_be_visible()

    entry = page.locator("div", has_text="Ask for a screenshot").filter(
        has=page.get_by_role("button", name="Delete")
    )
    entry.last.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Ask for a screenshot")).to_have_count(0)
    reload(admin)
    expect(page.get_by_text("Ask for a screenshot")).to_have_count(0)
    expect(page.get_by_text("Refund issued")).to_be_visible()


def after_label(page: Page, label: str) -> Locator:
    """The input that follows a label (the package's labels have no `for`)."""
    return page.locator(
        f"xpath=//label[contains(normalize-space(), '{label}')]/following::input[1]"
    )


def test_admin_saves_settings(admin: Session) -> None:
    page = admin.page
    admin.goto("/support/admin/settings/")
    after_label(page, "Reference Prefix").fill("HELP")
    after_label(page, "Auto-close resolved tickets after").fill("3")
    page.get_by_role("button", name="Save Settings").click()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()

    reload(admin)
    expect(after_label(page, "Reference Prefix")).to_have_value("HELP")
    expect(after_label(page, "Auto-close resolved tickets after")).to_have_value("3")
    admin.shot("admin-settings-after-save")


ADMIN_PAGES = (
    "/support/admin/reports/",
    "/support/admin/departments/",
    "/support/admin/departments/create/",
    "/support/admin/tags/",
    "/support/admin/settings/",
)


def test_in_cloud_mode_a_site_admin_works_tickets_but_administers_nothing(
    visit: Callable[[str | None], Session], site: Site
) -> None:
    if site.mode != "cloud":
        pytest.skip("the cloud-mode site's refusal; the self-hosted admin walks the pages above")
    session = visit("admin")
    page = session.page
    for path in ADMIN_PAGES:
        response = page.goto(site.url(path))
        assert response is not None and response.status == 403, (path, response and response.status)
    session.goto("/support/agent/tickets/")
    expect(row(page, "Charged twice for my subscription")).to_be_visible()
