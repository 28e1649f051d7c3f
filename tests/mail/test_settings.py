"""The inbound settings: defaults, environment fallbacks, and system checks naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from escalated.checks import check_inbound_email
from escalated.conf import escalated_settings


def _problems() -> list[str]:
    return [m.msg for m in check_inbound_email()]


def test_defaults(settings: Any) -> None:
    settings.ESCALATED = {}
    assert escalated_settings.INBOUND_EMAIL_ENABLED is False
    assert escalated_settings.IMAP_PORT == 993
    assert escalated_settings.IMAP_ENCRYPTION == "ssl"
    assert escalated_settings.IMAP_MAILBOX == "INBOX"
    assert _problems() == []


def test_environment_fallbacks_fill_keys_the_host_does_not_set(
    settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ESCALATED_INBOUND_EMAIL_ENABLED", "yes")
    monkeypatch.setenv("ESCALATED_IMAP_PORT", "143")
    monkeypatch.setenv("ESCALATED_MAILGUN_SIGNING_KEY", "from-env")
    settings.ESCALATED = {"MAILGUN_SIGNING_KEY": "from-settings"}

    assert escalated_settings.INBOUND_EMAIL_ENABLED is True
    assert escalated_settings.IMAP_PORT == 143
    assert escalated_settings.MAILGUN_SIGNING_KEY == "from-settings"


def test_a_bad_environment_value_is_a_check_error_naming_it(
    settings: Any, monkeypatch: Any
) -> None:
    settings.ESCALATED = {}
    monkeypatch.setenv("ESCALATED_IMAP_PORT", "imap")
    monkeypatch.setenv("ESCALATED_INBOUND_EMAIL_ENABLED", "maybe")

    problems = _problems()

    assert any(p.startswith("ESCALATED_IMAP_PORT (environment)") for p in problems)
    assert any(p.startswith("ESCALATED_INBOUND_EMAIL_ENABLED (environment)") for p in problems)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"INBOUND_EMAIL_ADAPTER": "mailgun"}, "MAILGUN_SIGNING_KEY"),
        ({"INBOUND_EMAIL_ADAPTER": "postmark"}, "POSTMARK_INBOUND_TOKEN"),
        (
            {"INBOUND_EMAIL_ADAPTER": "postmark", "POSTMARK_INBOUND_TOKEN": "nocolon"},
            "POSTMARK_INBOUND_TOKEN",
        ),
        (
            {
                "INBOUND_EMAIL_ADAPTER": "ses",
                "SES_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:in",
            },
            "SES_REGION",
        ),
        ({"INBOUND_EMAIL_ADAPTER": "ses", "SES_REGION": "eu-west-1"}, "SES_TOPIC_ARN"),
        (
            {
                "INBOUND_EMAIL_ADAPTER": "ses",
                "SES_REGION": "us-east-1",
                "SES_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:in",
            },
            "SES_TOPIC_ARN",
        ),
        (
            {"INBOUND_EMAIL_ADAPTER": "imap", "IMAP_USERNAME": "u", "IMAP_PASSWORD": "p"},
            "IMAP_HOST",
        ),
        (
            {"INBOUND_EMAIL_ADAPTER": "imap", "IMAP_HOST": "h", "IMAP_PASSWORD": "p"},
            "IMAP_USERNAME",
        ),
        (
            {"INBOUND_EMAIL_ADAPTER": "imap", "IMAP_HOST": "h", "IMAP_USERNAME": "u"},
            "IMAP_PASSWORD",
        ),
    ],
)
def test_a_bad_combination_names_the_key(settings: Any, values: dict[str, Any], key: str) -> None:
    settings.ESCALATED = {"INBOUND_EMAIL_ENABLED": True, **values}

    problems = _problems()

    assert problems and all(key in p for p in problems), problems


def test_bad_values_are_e001_errors(settings: Any) -> None:
    from escalated.checks import check_escalated_settings

    settings.ESCALATED = {
        "INBOUND_EMAIL_ADAPTER": "smtp",
        "IMAP_PORT": 0,
        "IMAP_ENCRYPTION": "tls",
        "SES_REGION": "Europe",
        "SES_TOPIC_ARN": "topic",
        "INBOUND_EMAIL_ADDRESS": "nobody",
    }

    messages = " ".join(m.msg for m in check_escalated_settings())

    for key in (
        "INBOUND_EMAIL_ADAPTER",
        "IMAP_PORT",
        "IMAP_ENCRYPTION",
        "SES_REGION",
        "SES_TOPIC_ARN",
        "INBOUND_EMAIL_ADDRESS",
    ):
        assert f"['{key}']" in messages
    assert _problems() == []  # E005 waits until E001 is fixed


def test_complete_settings_pass(settings: Any) -> None:
    settings.ESCALATED = {
        "INBOUND_EMAIL_ENABLED": True,
        "INBOUND_EMAIL_ADAPTER": "mailgun",
        "MAILGUN_SIGNING_KEY": "k",
    }
    assert _problems() == []
