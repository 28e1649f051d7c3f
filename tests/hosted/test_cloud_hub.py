"""The hub's side of cloud mode: operations a site forwards with its key and a signed viewer
assertion run as the hub's person for the site's user, within the site's tickets; forged,
expired, replayed assertions and revoked keys are refused and change nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from escalated.access import SystemActor
from escalated.cloud import assertion
from escalated.models import Department, SitePerson, SpentAssertion, Ticket
from escalated.services import sites
from tests.conftest import gid
from tests.hosted.conftest import site_of

CREATE = """mutation($subject: String!) { ticketCreate(input: {subject: $subject}) {
  ticket { id reference requester { name } } errors { message } } }"""
TICKETS = "{ tickets(first: 50) { totalCount edges { node { id subject } } } }"
REPLIES = """query($id: ID!) { ticket(id: $id) { subject
  replies(first: 50) { totalCount edges { node { body isInternalNote } } } } }"""
NOTE = """mutation($id: ID!, $body: String!) { ticketNoteAdd(input: {ticketId: $id, body: $body}) {
  reply { id } errors { message } } }"""
DEPARTMENT = """mutation { departmentCreate(input: {name: "Mine"}) { errors { message } } }"""


def viewer(secret: str, sub: str | None, role: str, **claims: Any) -> str:
    return assertion.issue(
        secret,
        sub=sub,
        email=claims.pop("email", f"{sub}@shop.example"),
        name=claims.pop("name", f"Person {sub}"),
        role=role,
        **claims,
    )


def forwarded(
    key: str,
    header: str | None,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    path: str = "/support/graphql/",
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {key}"}
    if header is not None:
        headers[assertion.HEADER] = header
    response = Client().post(
        path,
        {"query": query, "variables": variables or {}},
        content_type="application/json",
        headers=headers,
    )
    return response.status_code, response.json()


def as_site(hub: dict[str, Any], name: str, sub: str, role: str, query: str, **kw: Any) -> Any:
    site = site_of(hub, name)
    status, body = forwarded(
        hub[f"{name}_key"], viewer(site.signing_secret, sub, role), query, **kw
    )
    assert status == 200 and "errors" not in body, body
    return body["data"]


def state() -> dict[str, Any]:
    """Everything a refused request could have changed."""
    return {
        "tickets": list(Ticket.objects.values_list("pk", "subject", "site_id", "requester_id")),
        "people": list(SitePerson.objects.values_list("site_id", "remote_id", "role", "email")),
        "users": list(get_user_model().objects.values_list("pk", "first_name", "last_name")),
        "spent": SpentAssertion.objects.count(),
    }


def test_a_sites_customer_opens_a_ticket_on_the_hub_as_a_person_made_on_first_sight(
    hub: dict[str, Any],
) -> None:
    made = as_site(hub, "shop", "7", "customer", CREATE, variables={"subject": "Lost parcel"})
    ticket = made["ticketCreate"]["ticket"]

    assert made["ticketCreate"]["errors"] == []
    assert ticket["requester"] == {"name": "Person 7"}
    row = Ticket.objects.get(reference=ticket["reference"])
    assert row.site_id == hub["shop"].pk and row.site_reference == row.reference
    assert row.department_id == hub["inbox"].pk
    [person] = SitePerson.objects.all()
    assert (person.site_id, person.remote_id, person.role, person.email) == (
        hub["shop"].pk,
        "7",
        "customer",
        "7@shop.example",
    )
    assert person.user.email == "" and not person.user.has_usable_password()

    # The second operation finds the same person (and takes a changed name).
    as_site(hub, "shop", "7", "customer", TICKETS, path="/support/hub/api/v1/graphql")
    secret = site_of(hub, "shop").signing_secret
    status, _ = forwarded(
        hub["shop_key"], viewer(secret, "7", "customer", name="Seven Renamed"), TICKETS
    )
    assert status == 200
    [person] = SitePerson.objects.select_related("user").all()
    assert (person.user.first_name, person.user.last_name) == ("Seven", "Renamed")


def test_each_viewer_sees_what_their_role_on_their_site_allows(hub: dict[str, Any]) -> None:
    shop_ticket = as_site(hub, "shop", "7", "customer", CREATE, variables={"subject": "Shop's"})
    shop_id = shop_ticket["ticketCreate"]["ticket"]["id"]
    as_site(hub, "blog", "7", "customer", CREATE, variables={"subject": "Blog's"})
    as_site(hub, "shop", "50", "agent", NOTE, variables={"id": shop_id, "body": "Check stock"})

    def subjects(name: str, sub: str, role: str) -> list[str]:
        data = as_site(hub, name, sub, role, TICKETS)["tickets"]
        return [edge["node"]["subject"] for edge in data["edges"]]

    assert subjects("shop", "7", "customer") == ["Shop's"]
    assert subjects("blog", "7", "customer") == ["Blog's"], (
        "same id on another site: another person"
    )
    assert subjects("shop", "8", "customer") == []
    assert subjects("shop", "50", "agent") == ["Shop's"]
    assert subjects("blog", "50", "agent") == ["Blog's"]
    assert subjects("shop", "99", "admin") == ["Shop's"], "a site's admin is an agent on the hub"

    as_customer = as_site(hub, "shop", "7", "customer", REPLIES, variables={"id": shop_id})
    assert as_customer["ticket"]["replies"]["totalCount"] == 0, "the note reached the customer"
    as_agent = as_site(hub, "shop", "50", "agent", REPLIES, variables={"id": shop_id})
    assert as_agent["ticket"]["replies"]["edges"][0]["node"]["isInternalNote"] is True
    for name, sub, role in (("blog", "50", "agent"), ("shop", "8", "customer")):
        assert as_site(hub, name, sub, role, REPLIES, variables={"id": shop_id})["ticket"] is None

    # The hub's own agent works the sites' department as before.
    client = Client()
    client.force_login(hub["agent"])
    body = client.post("/support/graphql/", {"query": TICKETS}, content_type="application/json")
    assert body.json()["data"]["tickets"]["totalCount"] == 2


AGENTS = "{ agents(first: 50) { edges { node { id name } } } }"
ASSIGN = """mutation($id: ID!, $to: ID) { ticketAssign(input: {ticketId: $id, assigneeId: $to}) {
  ticket { assignee { name } } errors { message code } } }"""


def test_a_sites_agents_are_offered_and_assigned_its_tickets(hub: dict[str, Any]) -> None:
    made = as_site(hub, "shop", "7", "customer", CREATE, variables={"subject": "Shop's"})
    ticket = made["ticketCreate"]["ticket"]["id"]
    as_site(hub, "shop", "51", "agent", TICKETS)  # seen once: made
    as_site(hub, "blog", "52", "agent", TICKETS)
    as_site(hub, "shop", "7", "customer", TICKETS)

    offered = as_site(hub, "shop", "50", "agent", AGENTS)["agents"]["edges"]
    names = {edge["node"]["name"]: edge["node"]["id"] for edge in offered}
    assert {"Person 50", "Person 51"} <= names.keys(), names
    assert "Hana Hub" not in names, "a site's agent sees the site's people, not the hub's staff"
    assert "Person 52" not in names, "another site's agent offered"
    assert "Person 7" not in names, "the site's customer offered as an agent"

    given = as_site(
        hub, "shop", "50", "agent", ASSIGN, variables={"id": ticket, "to": names["Person 51"]}
    )
    assert given["ticketAssign"] == {
        "ticket": {"assignee": {"name": "Person 51"}},
        "errors": [],
    }
    assigned = SitePerson.objects.get(site=site_of(hub, "shop"), remote_id="51").user_id
    assert Ticket.objects.get(subject="Shop's").assignee_id == assigned

    # Refused, changing nothing: another site's agent (not even visible to this site's agent)
    # and the site's customer (no agent).
    blog_agent = gid(SitePerson.objects.get(site=site_of(hub, "blog"), remote_id="52").user)
    customer = gid(SitePerson.objects.get(site=site_of(hub, "shop"), remote_id="7").user)
    for person, code in ((blog_agent, "NOT_FOUND"), (customer, "INVALID_ASSIGNEE")):
        refused = as_site(
            hub, "shop", "50", "agent", ASSIGN, variables={"id": ticket, "to": person}
        )
        assert refused["ticketAssign"]["errors"][0]["code"] == code, refused
    assert Ticket.objects.get(subject="Shop's").assignee_id == assigned


def test_a_sites_agent_cannot_administer_the_hub(hub: dict[str, Any]) -> None:
    secret = site_of(hub, "shop").signing_secret
    status, body = forwarded(hub["shop_key"], viewer(secret, "99", "admin"), DEPARTMENT)

    assert status == 200 and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Department.objects.filter(name="Mine").exists()


def _refusal_cases(hub: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    shop = site_of(hub, "shop")
    secret, key = shop.signing_secret, hub["shop_key"]
    good = viewer(secret, "7", "customer")
    version, claims, signature = good.split(".")
    other_claims = viewer(secret, "8", "agent").split(".")[1]
    now = time.time()
    return {
        "no assertion": (key, None),
        "garbage": (key, "not-an-assertion"),
        "signed with another site's secret": (
            key,
            viewer(site_of(hub, "blog").signing_secret, "7", "customer"),
        ),
        "claims swapped under the signature": (key, f"{version}.{other_claims}.{signature}"),
        "signature cut short": (key, f"{version}.{claims}.{signature[:-4]}"),
        "expired": (key, viewer(secret, "7", "customer", now=now - 90)),
        "issued in the future": (key, viewer(secret, "7", "customer", now=now + 300)),
        "lives too long": (key, viewer(secret, "7", "customer", lifetime=3600)),
        "another site's key": (hub["blog_key"], good),
        "wrong key": ("esk_000000000000_nope", good),
    }


CASES = [
    "no assertion",
    "garbage",
    "signed with another site's secret",
    "claims swapped under the signature",
    "signature cut short",
    "expired",
    "issued in the future",
    "lives too long",
    "another site's key",
    "wrong key",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_assertion_or_key_is_refused_and_changes_nothing(
    hub: dict[str, Any], case: str
) -> None:
    as_site(hub, "shop", "7", "customer", CREATE, variables={"subject": "Before"})
    key, header = _refusal_cases(hub)[case]
    before = state()

    status, body = forwarded(key, header, CREATE, {"subject": "Forged"})

    assert status == 401, body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert state() == before


def test_a_replayed_assertion_is_refused_and_changes_nothing(hub: dict[str, Any]) -> None:
    header = viewer(site_of(hub, "shop").signing_secret, "7", "customer")
    status, _ = forwarded(hub["shop_key"], header, CREATE, {"subject": "Once"})
    assert status == 200
    before = state()

    status, body = forwarded(hub["shop_key"], header, CREATE, {"subject": "Once"})

    assert status == 401 and "used before" in body["errors"][0]["message"]
    assert state() == before
    assert Ticket.objects.filter(subject="Once").count() == 1


def test_a_revoked_site_key_is_refused_and_changes_nothing(hub: dict[str, Any]) -> None:
    as_site(hub, "shop", "7", "customer", CREATE, variables={"subject": "Before"})
    sites.site_revoke(actor=SystemActor("test"), site=hub["shop"])
    before = state()

    header = viewer(site_of(hub, "shop").signing_secret, "7", "customer")
    status, body = forwarded(hub["shop_key"], header, CREATE, {"subject": "After"})

    assert status == 401 and "revoked" in body["errors"][0]["message"]
    assert state() == before


def test_a_site_key_means_nothing_on_a_helpdesk_that_is_not_a_hub(
    hub: dict[str, Any], settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "HUB": {"ENABLED": False}}
    header = viewer(site_of(hub, "shop").signing_secret, "7", "customer")
    before = state()

    status, _ = forwarded(hub["shop_key"], header, CREATE, {"subject": "Nope"})

    assert status == 401
    assert state() == before


def test_a_person_the_hub_deactivated_is_refused(hub: dict[str, Any]) -> None:
    as_site(hub, "shop", "7", "customer", TICKETS)
    person = SitePerson.objects.get(remote_id="7")
    get_user_model().objects.filter(pk=person.user_id).update(is_active=False)
    before = state()

    header = viewer(site_of(hub, "shop").signing_secret, "7", "customer")
    status, _ = forwarded(hub["shop_key"], header, CREATE, {"subject": "Nope"})

    assert status == 401
    assert {k: v for k, v in state().items() if k != "spent"} == {
        k: v for k, v in before.items() if k != "spent"
    }


def test_spent_assertions_are_forgotten_once_they_expired(hub: dict[str, Any]) -> None:
    secret = site_of(hub, "shop").signing_secret
    status, _ = forwarded(
        hub["shop_key"], viewer(secret, "7", "customer", now=time.time() - 58.5), TICKETS
    )
    assert status == 200 and SpentAssertion.objects.count() == 1
    time.sleep(2)

    forwarded(hub["shop_key"], viewer(secret, "7", "customer"), TICKETS)

    assert SpentAssertion.objects.count() == 1


def test_node_ids_of_another_sites_ticket_name_nothing(hub: dict[str, Any]) -> None:
    made = as_site(hub, "shop", "7", "customer", CREATE, variables={"subject": "Shop's"})
    ticket = Ticket.objects.get(reference=made["ticketCreate"]["ticket"]["reference"])
    query = "query($id: ID!) { node(id: $id) { id } }"

    data = as_site(hub, "blog", "50", "agent", query, variables={"id": gid(ticket)})

    assert data["node"] is None


def test_a_relayed_socket_is_authenticated_by_key_and_assertion_and_stays_bound(
    hub: dict[str, Any],
) -> None:
    from escalated.access import Role, role_of
    from escalated.access import site_of as bound_site
    from escalated.realtime import auth
    from escalated.realtime.rechecks import _Credentials, reread

    shop = site_of(hub, "shop")
    init = {
        "authorization": f"Bearer {hub['shop_key']}",
        "viewer": viewer(shop.signing_secret, "50", "agent"),
    }

    identity = auth.authenticate({}, init)

    assert (role_of(identity.user), bound_site(identity.user)) == (Role.AGENT, shop.pk)
    with pytest.raises(auth.Refused, match="used before"):
        auth.authenticate({}, init)
    forged = {**init, "viewer": viewer(site_of(hub, "blog").signing_secret, "50", "agent")}
    with pytest.raises(auth.Refused, match="does not match"):
        auth.authenticate({}, forged)
    anonymous = {**init, "viewer": viewer(shop.signing_secret, None, "anonymous")}
    with pytest.raises(auth.Refused, match="Sign in first"):
        auth.authenticate({}, anonymous)

    # The periodic re-read keeps the person's site and role, until the site's key is revoked.
    [again] = reread([_Credentials(identity.user, None, None)])
    assert again is not identity.user
    assert (role_of(again), bound_site(again)) == (Role.AGENT, shop.pk)
    sites.site_revoke(actor=SystemActor("test"), site=shop)
    assert reread([_Credentials(identity.user, None, None)]) == [None]
