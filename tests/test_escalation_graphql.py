"""Escalation rules over GraphQL: the admin form's shape round-trips, bad input is a typed
UserError, previews act on nothing, and the rule list costs a constant number of statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.models import EscalationRule, Ticket
from escalated.services import tickets
from escalated.services.escalation import rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World, data_of, gid
from tests.test_permission_matrix import snapshot

RULE_FIELDS = """id name description category order isActive trigger match stopProcessing
    conditions { field operator value } actions { type value } fireCount lastFiredAt"""
CREATE = f"""mutation($input: EscalationRuleCreateInput!) {{ escalationRuleCreate(input: $input) {{
    escalationRule {{ {RULE_FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($input: EscalationRuleUpdateInput!) {{ escalationRuleUpdate(input: $input) {{
    escalationRule {{ {RULE_FIELDS} }} errors {{ field code message }} }} }}"""
FORM_READ = """query($id: ID!) { node(id: $id) { ... on EscalationRule {
    name description trigger conditions { field value } actions { type value } order isActive
} } }"""
PREVIEW = """query($input: EscalationRulePreviewInput!) { escalationRulePreview(input: $input) {
    errors { field code } tickets(first: 20) { totalCount edges { node { reference } } } } }"""


def _create(gql: Any, world: World, **given: Any) -> dict[str, Any]:
    given = {"name": "Rule", "trigger": "TIME_BASED", "actions": [{"type": "escalate"}], **given}
    return data_of(gql(CREATE, {"input": given}, user=world.admin))["escalationRuleCreate"]


def _errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def test_the_admin_forms_shape_round_trips(world: World, gql: Any) -> None:
    """What the shared Vue form posts (every value as text, no operators) reads back the same.
    The page adapter only renames keys: trigger_type <-> trigger, is_active <-> isActive."""
    form = {
        "name": "Stale urgent tickets",
        "description": "",
        "trigger_type": "priority_based",
        "conditions": [
            {"field": "priority", "value": "urgent"},
            {"field": "assigned", "value": "false"},
            {"field": "age_hours", "value": "24"},
            {"field": "no_response_hours", "value": "4"},
            {"field": "status", "value": "open"},
        ],
        "actions": [
            {"type": "escalate", "value": ""},
            {"type": "change_priority", "value": "critical"},
            {"type": "assign_to", "value": gid(world.agent)},
            {"type": "change_department", "value": gid(world.sales)},
        ],
        "order": 3,
        "is_active": True,
    }
    sent = {
        "name": form["name"],
        "description": form["description"],
        "trigger": form["trigger_type"].upper(),
        "conditions": form["conditions"],
        "actions": form["actions"],
        "order": form["order"],
        "isActive": form["is_active"],
    }

    created = data_of(gql(CREATE, {"input": sent}, user=world.admin))["escalationRuleCreate"]
    assert created["errors"] == []
    read = data_of(gql(FORM_READ, {"id": created["escalationRule"]["id"]}, user=world.admin))
    rule = read["node"]

    assert {
        "name": rule["name"],
        "description": rule["description"],
        "trigger_type": rule["trigger"].lower(),
        "conditions": rule["conditions"],
        "actions": rule["actions"],
        "order": rule["order"],
        "is_active": rule["isActive"],
    } == form
    stored = EscalationRule.objects.get()
    assert stored.actions[2] == {"type": "assign_to", "value": world.agent.pk}, "kept as a key"


def test_a_rule_reads_back_with_operators_and_global_ids(world: World, gql: Any) -> None:
    payload = _create(
        gql,
        world,
        match="ANY",
        category="Billing",
        stopProcessing=True,
        conditions=[
            {"field": "department", "operator": "in", "value": [gid(world.billing), None]},
            {"field": "tag", "operator": "not_equals", "value": gid(world.urgent)},
        ],
        actions=[
            {"type": "add_tag", "value": gid(world.urgent)},
            {"type": "add_note", "value": "x"},
        ],
    )

    rule = payload["escalationRule"]
    assert payload["errors"] == []
    assert (rule["match"], rule["category"], rule["stopProcessing"]) == ("ANY", "Billing", True)
    assert rule["conditions"] == [
        {"field": "department", "operator": "in", "value": [gid(world.billing), None]},
        {"field": "tag", "operator": "not_equals", "value": gid(world.urgent)},
    ]
    assert rule["actions"] == [
        {"type": "add_tag", "value": gid(world.urgent)},
        {"type": "add_note", "value": "x"},
    ]
    assert (rule["fireCount"], rule["lastFiredAt"]) == (0, None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"conditions": [{"field": "colour", "value": "red"}]},
            ("conditions.0.field", "UNKNOWN_FIELD"),
        ),
        (
            {"conditions": [{"field": "status", "operator": "around", "value": "open"}]},
            ("conditions.0.operator", "INVALID_OPERATOR"),
        ),
        (
            {"conditions": [{"field": "age_hours", "value": "soon"}]},
            ("conditions.0.value", "INVALID"),
        ),
        ({"conditions": [{"field": "department", "value": 1}]}, ("conditions.0.value", "INVALID")),
        ({"actions": [{"type": "explode"}]}, ("actions.0.type", "UNKNOWN_ACTION")),
        ({"actions": [{"type": "change_priority", "value": 3}]}, ("actions.0.value", "INVALID")),
        (
            {"actions": [{"type": "assign_to", "value": "VXNlcjo5OTk="}]},
            ("actions.0.value", "NOT_FOUND"),
        ),
        (
            {"actions": [{"type": "change_department", "value": "bm9wZQ=="}]},
            ("actions.0.value", "INVALID"),
        ),
        ({"name": None}, ("name", "REQUIRED")),
        ({"trigger": None}, ("trigger", "REQUIRED")),
        ({"actions": []}, ("actions", "REQUIRED")),
    ],
)
def test_bad_rules_are_typed_errors_and_save_nothing(
    world: World, gql: Any, given: dict[str, Any], expected: tuple[str, str]
) -> None:
    before = snapshot()

    payload = _create(gql, world, **given)

    assert payload["escalationRule"] is None
    assert _errors(payload) == [expected]
    assert snapshot() == before


def test_a_department_id_given_for_a_tag_is_refused(world: World, gql: Any) -> None:
    payload = _create(gql, world, conditions=[{"field": "tag", "value": gid(world.billing)}])

    assert _errors(payload) == [("conditions.0.value", "INVALID")]


def test_update_changes_what_is_given(world: World, gql: Any) -> None:
    rule_id = _create(gql, world, category="A")["escalationRule"]["id"]

    payload = data_of(
        gql(
            UPDATE,
            {
                "input": {
                    "id": rule_id,
                    "isActive": False,
                    "conditions": [{"field": "status", "value": "open"}],
                }
            },
            user=world.admin,
        )
    )["escalationRuleUpdate"]

    rule = payload["escalationRule"]
    assert (rule["isActive"], rule["category"], rule["name"]) == (False, "A", "Rule")
    assert rule["conditions"] == [{"field": "status", "operator": "equals", "value": "open"}]


def test_a_bad_update_is_a_typed_error(world: World, gql: Any) -> None:
    rule_id = _create(gql, world)["escalationRule"]["id"]

    payload = data_of(
        gql(UPDATE, {"input": {"id": rule_id, "actions": [{"type": "fly"}]}}, user=world.admin)
    )["escalationRuleUpdate"]

    assert _errors(payload) == [("actions.0.type", "UNKNOWN_ACTION")]
    assert EscalationRule.objects.get().actions == [{"type": "escalate", "value": None}]


def test_reorder_and_delete(world: World, gql: Any) -> None:
    first = _create(gql, world, name="First")["escalationRule"]["id"]
    second = _create(gql, world, name="Second")["escalationRule"]["id"]

    reorder = """mutation($input: EscalationRuleReorderInput!) { escalationRuleReorder(input: $input) {
        escalationRules { name order } errors { field code } } }"""
    payload = data_of(gql(reorder, {"input": {"ids": [second, first]}}, user=world.admin))
    assert payload["escalationRuleReorder"]["escalationRules"] == [
        {"name": "Second", "order": 0},
        {"name": "First", "order": 1},
    ]
    partial = data_of(gql(reorder, {"input": {"ids": [second]}}, user=world.admin))
    assert _errors(partial["escalationRuleReorder"]) == [("ids", "INVALID")]

    delete = """mutation($input: EscalationRuleDeleteInput!) { escalationRuleDelete(input: $input) {
        deletedId errors { code } } }"""
    deleted = data_of(gql(delete, {"input": {"id": first}}, user=world.admin))
    assert deleted["escalationRuleDelete"] == {"deletedId": first, "errors": []}
    assert list(EscalationRule.objects.values_list("name", flat=True)) == ["Second"]


def _preview(gql: Any, world: World, given: dict[str, Any]) -> dict[str, Any]:
    return data_of(gql(PREVIEW, {"input": given}, user=world.admin))["escalationRulePreview"]


def test_preview_lists_the_tickets_and_acts_on_nothing(world: World, gql: Any) -> None:
    tickets.ticket_create(actor=world.customer, subject="New", priority="urgent")
    rule_id = _create(gql, world, conditions=[{"field": "status", "value": "waiting_on_customer"}])[
        "escalationRule"
    ]["id"]
    before = snapshot()

    saved = _preview(gql, world, {"id": rule_id})
    draft = _preview(
        gql,
        world,
        {"trigger": "TIME_BASED", "conditions": [{"field": "priority", "value": "urgent"}]},
    )
    changed = _preview(gql, world, {"id": rule_id, "conditions": []})

    assert snapshot() == before
    assert [e["node"]["reference"] for e in saved["tickets"]["edges"]] == ["ESC-00001"]
    assert [e["node"]["reference"] for e in draft["tickets"]["edges"]] == ["ESC-00002"]
    assert changed["tickets"]["totalCount"] == 2


def test_preview_of_a_saved_rule_leaves_out_tickets_it_already_acted_on(
    world: World, gql: Any
) -> None:
    rule_id = _create(gql, world)["escalationRule"]["id"]
    escalations_evaluate()

    assert _preview(gql, world, {"id": rule_id})["tickets"]["totalCount"] == 0


def test_preview_honours_earlier_stopping_rules(world: World, gql: Any) -> None:
    _create(
        gql,
        world,
        name="Stop",
        order=5,
        stopProcessing=True,
        conditions=[{"field": "priority", "value": "medium"}],
    )

    after = _preview(gql, world, {"trigger": "TIME_BASED"})
    before_it = _preview(gql, world, {"trigger": "TIME_BASED", "order": 0})

    assert (after["tickets"]["totalCount"], before_it["tickets"]["totalCount"]) == (0, 1)


def test_preview_input_problems_are_typed_errors(world: World, gql: Any) -> None:
    missing = _preview(gql, world, {"conditions": [{"field": "status", "value": "open"}]})
    unknown = _preview(gql, world, {"trigger": "TIME_BASED", "conditions": [{"field": "mood"}]})

    assert (missing["errors"], missing["tickets"]["totalCount"]) == (
        [{"field": "trigger", "code": "REQUIRED"}],
        0,
    )
    assert unknown["errors"] == [{"field": "conditions.0.field", "code": "UNKNOWN_FIELD"}]


def test_rules_are_invisible_to_everyone_but_admins(world: World, gql: Any) -> None:
    rule_id = _create(gql, world)["escalationRule"]["id"]
    query = "query($id: ID!) { node(id: $id) { id } }"

    for person in (world.agent, world.customer):
        assert data_of(gql(query, {"id": rule_id}, user=person))["node"] is None
    assert data_of(gql(query, {"id": rule_id}, user=world.admin))["node"] == {"id": rule_id}


LIST = """{ escalationRules(first: 20) { totalCount edges { node {
    id name trigger conditions { field operator value } actions { type value }
    fireCount lastFiredAt
} } } }"""


def _fill(world: World, count: int) -> None:
    for n in range(count):
        rules.escalation_rule_create(
            actor=world.admin,
            name=f"Rule {n}",
            trigger="time_based",
            conditions=[{"field": "department", "value": world.billing.pk}],
            actions=[{"type": "assign_to", "value": world.agent.pk}],
        )
    for n in range(3):
        Ticket.objects.create(reference=f"X-{n}", subject=f"Billing {n}", department=world.billing)
    escalations_evaluate()


@pytest.mark.parametrize("size", [3, 30])
def test_the_rule_list_costs_the_same_statements_at_any_size(
    world: World, gql: Any, size: int
) -> None:
    _fill(world, size)
    gql.client.force_login(world.admin)

    with CaptureQueriesContext(connection) as queries:
        response = gql.client.post(gql.url, {"query": LIST}, content_type="application/json")

    data = data_of(response.json())["escalationRules"]
    assert data["totalCount"] == size
    node = data["edges"][0]["node"]
    assert node["fireCount"] == 4 and node["lastFiredAt"] is not None
    assert node["actions"] == [{"type": "assign_to", "value": gid(world.agent)}]
    # The session and the user (2), the admin's role permissions (1), and one statement for the
    # page of rules with their fire counts, latest firings and the total.
    assert len(queries) == 4
