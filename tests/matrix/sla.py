"""SLA operations: policies, business schedules and the preview."""

from __future__ import annotations

from escalated.models import BusinessSchedule, SlaPolicy
from tests.conftest import World, gid
from tests.matrix import ADMIN_ONLY, STAFF, Op, only, payload_mutation

NINE_TO_FIVE = [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}]


def _schedule(w: World) -> None:
    BusinessSchedule.objects.create(
        name="Office", intervals=[{"weekday": 1, "start": "09:00", "end": "17:00"}]
    )


def _policy(w: World) -> None:
    SlaPolicy.objects.create(
        name="Standard",
        is_default=True,
        targets={"first_response": {"medium": {"seconds": 3600, "business_hours": False}}},
    )


def _node(model: type) -> str:
    return gid(model.objects.get())


MUTATIONS = [
    Op(
        "businessScheduleCreate",
        payload_mutation(
            "businessScheduleCreate", "BusinessScheduleCreateInput", "businessSchedule { id }"
        ),
        lambda w: {"input": {"name": "Office", "intervals": NINE_TO_FIVE}},
        ADMIN_ONLY,
    ),
    Op(
        "businessScheduleUpdate",
        payload_mutation(
            "businessScheduleUpdate", "BusinessScheduleUpdateInput", "businessSchedule { id }"
        ),
        lambda w: {"input": {"id": _node(BusinessSchedule), "timezone": "Europe/Berlin"}},
        ADMIN_ONLY,
        setup=_schedule,
    ),
    Op(
        "businessScheduleDelete",
        payload_mutation("businessScheduleDelete", "BusinessScheduleDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _node(BusinessSchedule)}},
        ADMIN_ONLY,
        setup=_schedule,
    ),
    Op(
        "slaPolicyCreate",
        payload_mutation("slaPolicyCreate", "SlaPolicyCreateInput", "slaPolicy { id }"),
        lambda w: {
            "input": {
                "name": "Standard",
                "targets": [{"metric": "FIRST_RESPONSE", "priority": "HIGH", "minutes": 60}],
            }
        },
        ADMIN_ONLY,
    ),
    Op(
        "slaPolicyUpdate",
        payload_mutation("slaPolicyUpdate", "SlaPolicyUpdateInput", "slaPolicy { id }"),
        lambda w: {"input": {"id": _node(SlaPolicy), "description": "For everyone"}},
        ADMIN_ONLY,
        setup=_policy,
    ),
    Op(
        "slaPolicyDelete",
        payload_mutation("slaPolicyDelete", "SlaPolicyDeleteInput", "deletedId"),
        lambda w: {"input": {"id": _node(SlaPolicy)}},
        ADMIN_ONLY,
        setup=_policy,
    ),
]

QUERIES = [
    Op(
        "slaPolicies",
        "{ slaPolicies(first: 10) { totalCount } }",
        lambda w: {},
        only(STAFF | {"outsider"}),
        setup=_policy,
        count=lambda d: d["slaPolicies"]["totalCount"],
        expected_counts={"agent": 1, "outsider": 1, "admin": 1},
    ),
    Op(
        "businessSchedules",
        "{ businessSchedules(first: 10) { totalCount } }",
        lambda w: {},
        only(STAFF | {"outsider"}),
        setup=_schedule,
        count=lambda d: d["businessSchedules"]["totalCount"],
        expected_counts={"agent": 1, "outsider": 1, "admin": 1},
    ),
    Op(
        "slaPreview",
        '{ slaPreview(input: {priority: MEDIUM, createdAt: "2025-03-03T14:00:00Z"}) '
        "{ firstResponseDueAt } }",
        lambda w: {},
        ADMIN_ONLY,
        setup=_policy,
    ),
]
