"""The settings store and the agent directory: settings for admins, agents for staff."""

from __future__ import annotations

from escalated.settings_store import EDITABLE
from tests.matrix import ADMIN_ONLY, STAFF, Op, only, payload_mutation

MUTATIONS = [
    Op(
        "settingsUpdate",
        payload_mutation("settingsUpdate", "SettingsUpdateInput", "changed"),
        lambda w: {"input": {"values": {"allow_customer_close": False}}},
        ADMIN_ONLY,
    ),
]

QUERIES = [
    Op(
        "settings",
        "{ settings { key value isSet source } }",
        lambda w: {},
        ADMIN_ONLY,
        count=lambda d: len(d["settings"]),
        expected_counts={"admin": len(EDITABLE)},
    ),
    Op(
        "agents",
        '{ agents(search: "", first: 10) { totalCount } }',
        lambda w: {},
        only(STAFF | {"outsider"}),
        # Alan and Olga work in departments; Ada holds escalated.admin, and is one of the people
        # only admins may look up (visible_users).
        count=lambda d: d["agents"]["totalCount"],
        expected_counts={"agent": 2, "outsider": 2, "admin": 3},
    ),
]
