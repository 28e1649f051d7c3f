"""Every query field and mutation, as each kind of person: allowed ones succeed, refused ones
are refused the documented way and change nothing.

The operations live in ``tests/matrix/``, a module per feature. The world's ticket belongs to
``customer`` and sits in the billing department, where ``agent`` works; ``outsider`` is an
agent of sales.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from tests.conftest import World
from tests.matrix import DENIED, NOT_FOUND, NULL, OK, PERSONAS, Op, all_ops

MUTATIONS, QUERIES = all_ops()


def snapshot() -> list[Any]:
    """Every row Escalated owns, plus the users: enough to see that nothing changed."""
    users = get_user_model().objects.order_by("pk").values("pk", "username", "email", "is_active")
    state: list[Any] = [list(users)]
    for model in apps.get_app_config("escalated").get_models():
        state.append(list(model.objects.order_by("pk").values()))
    for through in ("tags", "followers"):
        m2m = getattr(apps.get_model("escalated", "Ticket"), through).through
        state.append(list(m2m.objects.order_by("pk").values()))
    return state


def _outcome(op: Op, result: dict[str, Any]) -> str:
    if result.get("errors"):
        codes = {e.get("extensions", {}).get("code") for e in result["errors"]}
        assert codes <= {"FORBIDDEN", "UNAUTHENTICATED"}, result["errors"]
        return DENIED
    data = result["data"]
    root = next(iter(data.values()))
    if root is None:
        return NULL
    if isinstance(root, dict) and "results" in root:
        codes = [e["code"] for r in root["results"] for e in r["errors"]]
        codes += [e["code"] for e in root["errors"]]
        return NOT_FOUND if codes == ["NOT_FOUND"] else (OK if not codes else str(codes))
    if isinstance(root, dict) and "errors" in root:
        codes = [e["code"] for e in root["errors"]]
        return NOT_FOUND if codes == ["NOT_FOUND"] else (OK if not codes else str(root["errors"]))
    return OK


def _cases(ops: list[Op]) -> list[Any]:
    return [
        pytest.param(op, persona, id=f"{op.name}-{persona}") for op in ops for persona in PERSONAS
    ]


@pytest.mark.parametrize(("op", "persona"), _cases(MUTATIONS))
def test_mutation_permissions(op: Op, persona: str, world: World, gql: Any, settings: Any) -> None:
    settings.ESCALATED = {**settings.ESCALATED, **op.settings}
    headers = world.guest_headers() if persona == "guest" else None
    op.setup(world)
    before = snapshot()

    result = gql(op.document, op.variables(world), user=world.person(persona), headers=headers)

    expected = op.outcomes[persona]
    assert _outcome(op, result) == expected, result
    if expected != OK:
        assert snapshot() == before, "a refused mutation changed something"
    else:
        assert snapshot() != before, "an allowed mutation changed nothing"


@pytest.mark.parametrize(("op", "persona"), _cases(QUERIES))
def test_query_permissions(op: Op, persona: str, world: World, gql: Any, settings: Any) -> None:
    settings.ESCALATED = {**settings.ESCALATED, **op.settings}
    headers = world.guest_headers() if persona == "guest" else None
    op.setup(world)

    result = gql(op.document, op.variables(world), user=world.person(persona), headers=headers)

    expected = op.outcomes[persona]
    assert _outcome(op, result) == expected, result
    if expected == OK and op.count is not None:
        assert op.count(result["data"]) == op.expected_counts[persona]


def test_every_field_and_mutation_is_in_the_matrix() -> None:
    from escalated.graphql.schema import schema

    definition = schema._schema
    mutations = set(definition.mutation_type.fields)
    queries = set(definition.query_type.fields)
    assert mutations == {op.field for op in MUTATIONS}
    assert queries == {op.field for op in QUERIES}
