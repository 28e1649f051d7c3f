"""Every subscription, as each kind of person: allowed ones join their group and stay open,
refused ones are refused the documented way (anonymous sockets are refused at connect)."""

from __future__ import annotations

from typing import Any

import pytest

from escalated.graphql.schema import schema
from tests.conftest import World
from tests.matrix import DENIED, NOT_FOUND, OK, PERSONAS
from tests.matrix.realtime import SUBSCRIPTIONS, SubscriptionOp
from tests.realtime.conftest import communicator, joined

CODES = {DENIED: {"FORBIDDEN", "UNAUTHENTICATED"}, NOT_FOUND: {"NOT_FOUND"}}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("op", "persona"),
    [pytest.param(op, p, id=f"{op.name}-{p}") for op in SUBSCRIPTIONS for p in PERSONAS],
)
async def test_subscription_permissions(
    op: SubscriptionOp, persona: str, world: World, live: Any
) -> None:
    user = world.person(persona)
    expected = op.outcomes[persona]
    if user is None:
        assert expected == DENIED
        comm = communicator()
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "connection_init", "payload": {}})
        assert (await comm.receive_output())["code"] == 4403
        return

    connection = await live(user)
    sub = await connection.subscribe(op.document, op.variables(world))

    if expected == OK:
        await joined(op.group(world, user))
        if op.sends_current:
            await connection.next(sub)
        await connection.nothing(timeout=0.1)
    else:
        assert await connection.refused(sub) in CODES[expected]


def test_every_subscription_is_in_the_matrix() -> None:
    fields = set(schema._schema.subscription_type.fields)
    assert fields == {op.field for op in SUBSCRIPTIONS}
