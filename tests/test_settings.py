"""ESCALATED settings: defaults, merging, and start-up checks that name the bad key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from escalated.checks import check_escalated_settings, check_hosting_mode
from escalated.conf import escalated_settings


def _messages(value: Any) -> list[str]:
    with override_settings(ESCALATED=value):
        return [error.msg for error in check_escalated_settings()]


def test_defaults_match_the_seed() -> None:
    assert escalated_settings.MODE == "self_hosted"
    assert escalated_settings.TABLE_PREFIX == "escalated_"
    assert escalated_settings.ROUTE_PREFIX == "support"
    assert escalated_settings.DEFAULT_PRIORITY == "medium"
    assert escalated_settings.ALLOW_CUSTOMER_CLOSE is True
    assert escalated_settings.AUTO_CLOSE_RESOLVED_AFTER_DAYS == 7
    assert escalated_settings.MAX_ATTACHMENTS == 5
    assert escalated_settings.MAX_ATTACHMENT_SIZE_KB == 10240
    assert escalated_settings.NOTIFICATION_CHANNELS == ["email"]
    assert escalated_settings.WEBHOOK_URL is None
    assert escalated_settings.HOSTED_API_KEY is None
    hours = escalated_settings.SLA["BUSINESS_HOURS"]
    assert {key: hours[key] for key in ("START", "END", "TIMEZONE", "DAYS")} == {
        "START": "09:00",
        "END": "17:00",
        "TIMEZONE": "UTC",
        "DAYS": [1, 2, 3, 4, 5],
    }


@override_settings(ESCALATED={"SLA": {"BUSINESS_HOURS": {"TIMEZONE": "Europe/Berlin"}}})
def test_nested_settings_merge_over_the_defaults() -> None:
    hours = escalated_settings.SLA["BUSINESS_HOURS"]

    assert hours["TIMEZONE"] == "Europe/Berlin"
    assert hours["START"] == "09:00"
    assert escalated_settings.SLA["ENABLED"] is True


def test_good_settings_pass() -> None:
    assert _messages({"MODE": "synced", "REFERENCE_PREFIX": "HELP", "AGENT_SCOPE": "all"}) == []


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"MODEE": "synced"}, "ESCALATED['MODEE'] is not a known setting"),
        ({"MODE": "hybrid"}, "ESCALATED['MODE'] must be one of"),
        ({"DEFAULT_PRIORITY": "asap"}, "ESCALATED['DEFAULT_PRIORITY']"),
        ({"MAX_ATTACHMENTS": -1}, "ESCALATED['MAX_ATTACHMENTS'] must be an integer, 0 or more"),
        ({"ALLOW_CUSTOMER_CLOSE": "yes"}, "ESCALATED['ALLOW_CUSTOMER_CLOSE']"),
        (
            {"SLA": {"BUSINESS_HOURS": {"TIMEZONE": "Mars/Olympus"}}},
            "ESCALATED['SLA']['BUSINESS_HOURS']['TIMEZONE'] is not a known IANA time zone",
        ),
        (
            {"SLA": {"BUSINESS_HOURS": {"START": "9am"}}},
            "ESCALATED['SLA']['BUSINESS_HOURS']['START']",
        ),
        ({"SLA": {"WARP": True}}, "ESCALATED['SLA']['WARP'] is not a known setting"),
        ({"STATUS_TRANSITIONS": {"open": ["done"]}}, "ESCALATED['STATUS_TRANSITIONS']"),
        ({"NOTIFICATION_CHANNELS": ["pigeon"]}, "ESCALATED['NOTIFICATION_CHANNELS']"),
        ({"REFERENCE_PREFIX": "esc-"}, "ESCALATED['REFERENCE_PREFIX']"),
    ],
)
def test_bad_settings_fail_naming_the_key(value: dict[str, Any], named: str) -> None:
    messages = _messages(value)

    assert len(messages) == 1
    assert named in messages[0]


def test_a_bad_setting_stops_start_up() -> None:
    with override_settings(ESCALATED={"MODE": "hybrid"}), pytest.raises(SystemCheckError) as stop:
        call_command("check")

    assert "escalated.E001" in str(stop.value)


def test_cloud_mode_needs_the_hubs_url_a_site_key_and_the_signing_secret(settings: Any) -> None:
    settings.ESCALATED = {
        "MODE": "cloud",
        "HOSTED_API_URL": "https://hub?x=1",
        "HUB": {"ENABLED": True},
    }
    problems = check_hosting_mode()

    assert [p.id for p in problems] == ["escalated.E009"] * 4
    text = " ".join(p.msg for p in problems)
    for named in (
        "HOSTED_API_URL",
        "HOSTED_API_KEY",
        "HOSTED_SIGNING_SECRET",
        "['HUB']['ENABLED']",
    ):
        assert named in text

    settings.ESCALATED = {
        "MODE": "cloud",
        "HOSTED_API_URL": "https://hub.example.com/support/hub/api/v1",
        "HOSTED_API_KEY": "not-a-site-key",
        "HOSTED_SIGNING_SECRET": "s" * 32,
    }
    [key] = check_hosting_mode()
    assert "HOSTED_API_KEY" in key.msg and "esk_" in key.msg

    settings.ESCALATED = {**settings.ESCALATED, "HOSTED_API_KEY": "esk_abc_def"}
    assert check_hosting_mode() == []
    settings.ESCALATED = {}
    assert check_hosting_mode() == []


def test_synced_mode_needs_the_hubs_url_key_and_signing_secret(settings: Any) -> None:
    settings.ESCALATED = {"MODE": "synced", "HOSTED_API_URL": "ftp://hub"}
    problems = check_hosting_mode()

    assert [p.id for p in problems] == ["escalated.E004"] * 3
    text = " ".join(p.msg for p in problems)
    assert "HOSTED_API_URL" in text and "HOSTED_API_KEY" in text and "HOSTED_SIGNING_SECRET" in text

    settings.ESCALATED = {
        "MODE": "synced",
        "HOSTED_API_URL": "https://hub.example.com/support/hub/api/v1",
        "HOSTED_API_KEY": "esk_abc_def",
        "HOSTED_SIGNING_SECRET": "short",
    }
    [short] = check_hosting_mode()
    assert "HOSTED_SIGNING_SECRET" in short.msg

    settings.ESCALATED = {**settings.ESCALATED, "HOSTED_SIGNING_SECRET": "s" * 32}
    assert check_hosting_mode() == []
