"""Escalation rules: every operation is for admins only."""

from __future__ import annotations

from escalated.models import EscalationRule
from escalated.services.escalation import rules
from tests.conftest import World, gid
from tests.matrix import ADMIN_ONLY, Op, payload_mutation


def _rule(w: World, name: str = "Stale") -> EscalationRule:
    return rules.escalation_rule_create(
        actor=w.admin,
        name=name,
        trigger="time_based",
        conditions=[{"field": "age_hours", "value": 24}],
        actions=[{"type": "escalate", "value": ""}],
    )


def _two_rules(w: World) -> None:
    _rule(w, "First")
    _rule(w, "Second")


def _rule_gid(w: World) -> str:
    return gid(EscalationRule.objects.order_by("pk").first())


def _reversed_gids(w: World) -> list[str]:
    return [gid(rule) for rule in EscalationRule.objects.order_by("-order", "-pk")]


MUTATIONS = [
    Op(
        "escalationRuleCreate",
        payload_mutation(
            "escalationRuleCreate", "EscalationRuleCreateInput", "escalationRule { id }"
        ),
        lambda w: {
            "input": {
                "name": "Stale",
                "trigger": "TIME_BASED",
                "conditions": [{"field": "age_hours", "value": "24"}],
                "actions": [{"type": "escalate", "value": ""}],
            }
        },
        ADMIN_ONLY,
    ),
    Op(
        "escalationRuleUpdate",
        payload_mutation(
            "escalationRuleUpdate", "EscalationRuleUpdateInput", "escalationRule { id }"
        ),
        lambda w: {"input": {"id": _rule_gid(w), "name": "Renamed"}},
        ADMIN_ONLY,
        setup=_rule,
    ),
    Op(
        "escalationRuleDelete",
        payload_mutation("escalationRuleDelete", "EscalationRuleDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _rule_gid(w)}},
        ADMIN_ONLY,
        setup=_rule,
    ),
    Op(
        "escalationRuleReorder",
        payload_mutation(
            "escalationRuleReorder", "EscalationRuleReorderInput", "escalationRules { id }"
        ),
        lambda w: {"input": {"ids": _reversed_gids(w)}},
        ADMIN_ONLY,
        setup=_two_rules,
    ),
]

QUERIES = [
    Op(
        "escalationRules",
        "{ escalationRules(first: 10) { totalCount edges { node { fireCount } } } }",
        lambda w: {},
        ADMIN_ONLY,
        setup=_rule,
        count=lambda d: d["escalationRules"]["totalCount"],
        expected_counts={"admin": 1},
    ),
    Op(
        "escalationRulePreview",
        "query($input: EscalationRulePreviewInput!) { escalationRulePreview(input: $input) "
        "{ errors { code } tickets(first: 10) { totalCount } } }",
        lambda w: {
            "input": {
                "trigger": "TIME_BASED",
                "conditions": [{"field": "status", "value": "waiting_on_customer"}],
            }
        },
        ADMIN_ONLY,
        count=lambda d: d["escalationRulePreview"]["tickets"]["totalCount"],
        expected_counts={"admin": 1},
    ),
]
