"""The outbox's settings are checked at start-up like every other, naming the bad key."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from escalated.checks import check_escalated_settings
from escalated.conf import escalated_settings


def _messages(value: Any) -> list[str]:
    with override_settings(ESCALATED=value):
        return [error.msg for error in check_escalated_settings()]


def test_defaults() -> None:
    assert escalated_settings.OUTBOX == {
        "DELIVERY": "immediate",
        "MAX_ATTEMPTS": 8,
        "RETRY_BASE_SECONDS": 30,
        "RETRY_MAX_SECONDS": 21600,
        "BATCH_SIZE": 20,
        "LEASE_SECONDS": 300,
        "SMTP_TIMEOUT_SECONDS": 10,
        "WORKER_DUTY_CYCLE": 0.5,
        "WORKER_PACED_KINDS": ["hub", "site"],
        "WORKER_NICE": 10,
    }
    assert set(escalated_settings.NOTIFICATIONS.values()) == {True}
    assert escalated_settings.WEBHOOK_REQUIRE_HTTPS is None
    assert escalated_settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS is False


def test_good_settings_pass() -> None:
    good = {
        "OUTBOX": {"DELIVERY": "celery", "MAX_ATTEMPTS": 3},
        "NOTIFICATIONS": {"AGENT_REPLY": False},
        "SITE_URL": "https://help.example.com",
        "RATING_URL": "https://survey.example.com/r/{id}?ref={reference}",
        "EMAIL_FROM": "Help <help@example.com>",
        "EMAIL_DOMAIN": "help.example.com",
    }
    assert _messages(good) == []


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"OUTBOX": {"DELIVERY": "later"}}, "ESCALATED['OUTBOX']['DELIVERY'] must be one of"),
        ({"OUTBOX": {"MAX_ATTEMPTS": 0}}, "ESCALATED['OUTBOX']['MAX_ATTEMPTS'] must be a positive"),
        ({"OUTBOX": {"RETRIES": 3}}, "ESCALATED['OUTBOX']['RETRIES'] is not a known setting"),
        ({"NOTIFICATIONS": {"AGENT_REPLY": "no"}}, "['AGENT_REPLY'] must be True or False"),
        ({"NOTIFICATIONS": {"NOTE": True}}, "ESCALATED['NOTIFICATIONS']['NOTE'] is not a known"),
        ({"SITE_URL": "help.example.com"}, "ESCALATED['SITE_URL'] must be an absolute"),
        ({"TICKET_URL": "{site_url}/t/{slug}"}, "ESCALATED['TICKET_URL'] must be a string using"),
        ({"EMAIL_FROM": "helpdesk"}, "ESCALATED['EMAIL_FROM'] must be an email address"),
        ({"EMAIL_DOMAIN": "bad domain"}, "ESCALATED['EMAIL_DOMAIN'] must be a domain"),
        ({"WEBHOOK_TIMEOUT_SECONDS": 0}, "ESCALATED['WEBHOOK_TIMEOUT_SECONDS'] must be a positive"),
        ({"WEBHOOK_REQUIRE_HTTPS": "yes"}, "ESCALATED['WEBHOOK_REQUIRE_HTTPS'] must be True"),
    ],
)
def test_bad_settings_name_their_key(value: dict[str, Any], named: str) -> None:
    messages = _messages(value)

    assert len(messages) == 1 and named in messages[0], messages
