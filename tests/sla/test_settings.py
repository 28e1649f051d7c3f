"""The SLA settings this engine adds: their defaults and the start-up checks that name them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from escalated.checks import check_escalated_settings
from escalated.conf import escalated_settings


def test_defaults() -> None:
    sla = escalated_settings.SLA
    assert sla["WARNING_THRESHOLD_MINUTES"] == 30
    assert sla["PAUSE_STATUSES"] == ["waiting_on_customer"]
    hours = sla["BUSINESS_HOURS"]
    assert (hours["HOLIDAYS"], hours["HOLIDAY_COUNTRY"], hours["HOLIDAY_SUBDIVISION"]) == (
        [],
        None,
        None,
    )


@pytest.mark.parametrize(
    ("sla", "named"),
    [
        ({"WARNING_THRESHOLD_MINUTES": -5}, "['WARNING_THRESHOLD_MINUTES'] must be an integer"),
        ({"PAUSE_STATUSES": ["napping"]}, "['PAUSE_STATUSES'] has unknown entries"),
        ({"BUSINESS_HOURS": {"HOLIDAYS": ["25/12"]}}, "['HOLIDAYS'] must be a list of dates"),
        ({"BUSINESS_HOURS": {"HOLIDAYS": ["02-30"]}}, "['HOLIDAYS'] has an impossible date"),
        ({"BUSINESS_HOURS": {"HOLIDAY_COUNTRY": "Narnia"}}, "['HOLIDAY_COUNTRY'] must be None"),
    ],
)
def test_bad_values_are_named(sla: dict[str, Any], named: str) -> None:
    with override_settings(ESCALATED={"SLA": sla}):
        messages = [error.msg for error in check_escalated_settings()]
    assert len(messages) == 1 and named in messages[0], messages


def test_good_values_pass() -> None:
    hours = {
        "HOLIDAYS": ["2025-12-24", "12-25", "02-29"],
        "HOLIDAY_COUNTRY": "DE",
        "HOLIDAY_SUBDIVISION": "BY",
    }
    with override_settings(ESCALATED={"SLA": {"BUSINESS_HOURS": hours, "PAUSE_STATUSES": []}}):
        assert check_escalated_settings() == []
