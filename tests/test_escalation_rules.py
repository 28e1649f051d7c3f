"""Saving rules: what is stored, and every kind of bad input refused on save with a typed error."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from escalated.errors import DomainError, ErrorCode, NotAllowed
from escalated.models import Department, EscalationRule, RuleFiring, Tag
from escalated.services.escalation import rules
from escalated.services.escalation.evaluation import escalations_evaluate
from tests.conftest import World

ESCALATE = [{"type": "escalate", "value": ""}]


def _create(world: World, **given: Any) -> EscalationRule:
    arguments: dict[str, Any] = {
        "actor": world.admin,
        "name": "Rule",
        "trigger": "time_based",
        "actions": ESCALATE,
    }
    return rules.escalation_rule_create(**{**arguments, **given})


def _problems(world: World, **given: Any) -> list[tuple[str | None, ErrorCode]]:
    with pytest.raises(DomainError) as refused:
        _create(world, **given)
    return [(p.field, p.code) for p in refused.value.problems]


def test_the_operator_left_out_is_stored_as_the_fields_default(world: World) -> None:
    rule = _create(
        world,
        conditions=[
            {"field": "status", "value": "open"},
            {"field": "priority", "value": ["high", "urgent"]},
            {"field": "age_hours", "value": "24"},
        ],
    )

    rule.refresh_from_db()
    assert rule.conditions == [
        {"field": "status", "operator": "equals", "value": "open"},
        {"field": "priority", "operator": "in", "value": ["high", "urgent"]},
        {"field": "age_hours", "operator": "greater_than", "value": "24"},
    ]
    assert rule.actions == [{"type": "escalate", "value": ""}]


def test_new_rules_go_last_and_keep_their_details(world: World) -> None:
    first = _create(world, name="First")
    second = _create(
        world,
        name="  Second ",
        description="Why",
        category=" Billing ",
        match="any",
        stop_processing=True,
        is_active=False,
    )

    assert (first.order, second.order) == (0, 1)
    second.refresh_from_db()
    assert (second.name, second.category, second.description) == ("Second", "Billing", "Why")
    assert (second.match, second.stop_processing, second.is_active) == ("any", True, False)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([{"field": "colour", "value": "red"}], ("conditions.0.field", ErrorCode.UNKNOWN_FIELD)),
        ([{"value": "red"}], ("conditions.0.field", ErrorCode.REQUIRED)),
        (
            [{"field": "status", "operator": "like", "value": "open"}],
            ("conditions.0.operator", ErrorCode.INVALID_OPERATOR),
        ),
        (
            [{"field": "status", "operator": "greater_than", "value": "open"}],
            ("conditions.0.operator", ErrorCode.INVALID_OPERATOR),
        ),
        (
            [{"field": "age_hours", "operator": "equals", "value": 3}],
            ("conditions.0.operator", ErrorCode.INVALID_OPERATOR),
        ),
        ([{"field": "age_hours", "value": "soon"}], ("conditions.0.value", ErrorCode.INVALID)),
        ([{"field": "age_hours", "value": -1}], ("conditions.0.value", ErrorCode.INVALID)),
        ([{"field": "age_hours", "value": True}], ("conditions.0.value", ErrorCode.INVALID)),
        ([{"field": "status", "value": 5}], ("conditions.0.value", ErrorCode.INVALID)),
        ([{"field": "status", "value": "lost"}], ("conditions.0.value", ErrorCode.INVALID)),
        ([{"field": "assigned", "value": "maybe"}], ("conditions.0.value", ErrorCode.INVALID)),
        (
            [{"field": "status", "operator": "equals", "value": ["open"]}],
            ("conditions.0.value", ErrorCode.INVALID),
        ),
        (
            [{"field": "status", "operator": "in", "value": []}],
            ("conditions.0.value", ErrorCode.INVALID),
        ),
        (
            [{"field": "status", "operator": "in", "value": "open"}],
            ("conditions.0.value", ErrorCode.INVALID),
        ),
        ([{"field": "department", "value": "billing"}], ("conditions.0.value", ErrorCode.INVALID)),
        ([{"field": "department", "value": 999}], ("conditions.0.value", ErrorCode.NOT_FOUND)),
        ([{"field": "tag", "value": None}], ("conditions.0.value", ErrorCode.INVALID)),
        (["status is open"], ("conditions.0", ErrorCode.INVALID)),
        ("status is open", ("conditions", ErrorCode.INVALID)),
    ],
)
def test_bad_conditions_are_refused(
    world: World, conditions: Any, expected: tuple[str, ErrorCode]
) -> None:
    assert _problems(world, conditions=conditions) == [expected]
    assert not EscalationRule.objects.exists()


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([{"type": "explode"}], ("actions.0.type", ErrorCode.UNKNOWN_ACTION)),
        ([{"value": "x"}], ("actions.0.type", ErrorCode.REQUIRED)),
        ([], ("actions", ErrorCode.REQUIRED)),
        ([{"type": "change_priority", "value": "asap"}], ("actions.0.value", ErrorCode.INVALID)),
        ([{"type": "escalate", "value": False}], ("actions.0.value", ErrorCode.INVALID)),
        ([{"type": "add_note", "value": "  "}], ("actions.0.value", ErrorCode.INVALID)),
        ([{"type": "add_note", "value": 12}], ("actions.0.value", ErrorCode.INVALID)),
        ([{"type": "assign_to", "value": 999}], ("actions.0.value", ErrorCode.NOT_FOUND)),
        ([{"type": "add_tag", "value": "urgent"}], ("actions.0.value", ErrorCode.INVALID)),
    ],
)
def test_bad_actions_are_refused(
    world: World, actions: Any, expected: tuple[str, ErrorCode]
) -> None:
    assert _problems(world, actions=actions) == [expected]


def test_an_assignee_must_be_an_agent(world: World) -> None:
    problems = _problems(world, actions=[{"type": "assign_to", "value": world.customer.pk}])

    assert problems == [("actions.0.value", ErrorCode.INVALID)]


def test_a_department_to_move_to_must_be_active(world: World) -> None:
    closed = Department.objects.create(name="Closed", slug="closed", is_active=False)

    problems = _problems(world, actions=[{"type": "change_department", "value": closed.pk}])

    assert problems == [("actions.0.value", ErrorCode.INVALID)]


def test_every_problem_is_reported_at_once(world: World) -> None:
    problems = _problems(
        world,
        name=" ",
        trigger=None,
        match="some",
        conditions=[{"field": "colour"}, {"field": "status", "value": "lost"}],
        actions=[{"type": "explode"}],
        order=-1,
    )

    assert sorted(problems) == sorted(
        [
            ("name", ErrorCode.REQUIRED),
            ("trigger", ErrorCode.REQUIRED),
            ("match", ErrorCode.INVALID),
            ("order", ErrorCode.INVALID),
            ("conditions.0.field", ErrorCode.UNKNOWN_FIELD),
            ("conditions.1.value", ErrorCode.INVALID),
            ("actions.0.type", ErrorCode.UNKNOWN_ACTION),
        ]
    )


def test_an_unknown_trigger_is_refused(world: World) -> None:
    assert _problems(world, trigger="hourly") == [("trigger", ErrorCode.INVALID)]


@pytest.mark.parametrize("persona", ["agent", "customer"])
def test_only_admins_manage_rules(world: World, persona: str) -> None:
    with pytest.raises(NotAllowed):
        _create(world, actor=getattr(world, persona))


def test_update_changes_only_what_is_given(world: World) -> None:
    rule = _create(world, conditions=[{"field": "status", "value": "open"}], category="A")

    rules.escalation_rule_update(
        actor=world.admin, rule=rule, name="Renamed", actions=[{"type": "add_note", "value": "Hi"}]
    )

    rule.refresh_from_db()
    assert rule.name == "Renamed"
    assert rule.category == "A"
    assert rule.conditions == [{"field": "status", "operator": "equals", "value": "open"}]
    assert rule.actions == [{"type": "add_note", "value": "Hi"}]


def test_a_refused_update_changes_nothing(world: World) -> None:
    rule = _create(world)

    with pytest.raises(DomainError):
        rules.escalation_rule_update(
            actor=world.admin, rule=rule, name="New", conditions=[{"field": "colour"}]
        )

    rule.refresh_from_db()
    assert rule.name == "Rule"
    assert rule.conditions == []


def test_switching_a_rule_off_ends_its_open_episodes(world: World) -> None:
    rule = _create(world)
    escalations_evaluate()
    assert RuleFiring.objects.filter(rule=rule, ended_at__isnull=True).count() == 1

    rules.escalation_rule_update(actor=world.admin, rule=rule, is_active=False)

    assert not RuleFiring.objects.filter(rule=rule, ended_at__isnull=True).exists()


def test_reorder_takes_every_rule_once(world: World) -> None:
    a, b, c = (_create(world, name=n) for n in "abc")

    reordered = rules.escalation_rules_reorder(actor=world.admin, rules=[c, a, b])

    assert [r.name for r in reordered] == ["c", "a", "b"]
    assert list(EscalationRule.objects.values_list("name", flat=True)) == ["c", "a", "b"]
    for partial in ([c, a], [c, a, a, b]):
        with pytest.raises(DomainError) as refused:
            rules.escalation_rules_reorder(actor=world.admin, rules=partial)
        assert refused.value.problems[0].field == "ids"


def test_delete_removes_the_rule_and_its_record(world: World) -> None:
    rule = _create(world)
    escalations_evaluate()

    rules.escalation_rule_delete(actor=world.admin, rule=rule)

    assert not EscalationRule.objects.exists()
    assert not RuleFiring.objects.exists()


def test_a_rule_broken_in_the_database_is_skipped_not_fatal(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Rules are checked on save; one edited straight in the database is logged and left out
    of evaluation while the others still run."""
    broken = _create(world, name="Broken")
    EscalationRule.objects.filter(pk=broken.pk).update(
        conditions=[{"field": "colour", "operator": "equals", "value": "red"}]
    )
    tag = Tag.objects.create(name="Seen", slug="seen")
    _create(world, name="Fine", actions=[{"type": "add_tag", "value": tag.pk}])

    with caplog.at_level(logging.ERROR):
        report = escalations_evaluate()

    assert [run.rule.name for run in report.rules] == ["Fine"]
    assert "Broken" in caplog.text
    assert list(world.ticket.tags.all()) == [tag]


def test_the_django_admin_form_checks_rules_like_the_api(world: World) -> None:
    from escalated.admin import EscalationRuleForm

    def form(conditions: str, actions: str) -> EscalationRuleForm:
        return EscalationRuleForm(
            data={
                "name": "Admin made",
                "order": 0,
                "trigger": "time_based",
                "match": "all",
                "conditions": conditions,
                "actions": actions,
            }
        )

    bad = form('[{"field": "colour", "value": "red"}]', '[{"type": "explode"}]')
    good = form('[{"field": "age_hours", "value": "24"}]', '[{"type": "escalate"}]')

    assert not bad.is_valid()
    assert set(bad.errors) == {"conditions", "actions"}
    assert good.is_valid(), good.errors
    rule = good.save()
    assert rule.conditions == [{"field": "age_hours", "operator": "greater_than", "value": "24"}]


def test_every_stored_trigger_has_a_meaning() -> None:
    from escalated.models import RuleTrigger
    from escalated.services.escalation.triggers import EVENT_TRIGGERS, SWEEP_TRIGGERS, TRIGGERS

    assert set(TRIGGERS) == set(RuleTrigger.values)
    assert {"time_based", "sla_breach", "sla_warning"} == SWEEP_TRIGGERS
    assert set(RuleTrigger.values) == SWEEP_TRIGGERS | EVENT_TRIGGERS


def test_switching_a_rule_off_in_the_django_admin_ends_its_episodes(world: World) -> None:
    from django.contrib import admin

    rule = _create(world)
    escalations_evaluate()
    rule.is_active = False

    admin.site._registry[EscalationRule].save_model(None, rule, None, True)

    assert not RuleFiring.objects.filter(rule=rule, ended_at__isnull=True).exists()
