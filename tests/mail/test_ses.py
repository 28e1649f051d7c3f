"""The SES webhook: SNS envelopes signed with a certificate made here, as SNS signs them, and
every way a forged or misdirected one is refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import uuid
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.test import Client

from escalated.mail import sns
from escalated.models import InboundEmail, InboundStatus
from tests.conftest import World
from tests.mail.messages import message

URL = "/support/inbound/ses/"
REGION = "us-east-1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-inbound"
CERT_URL = f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0000000000000000.pem"


def canonical(envelope: dict[str, Any]) -> bytes:
    """The string SNS signs, written out here from AWS's documentation (not from the code under
    test): "name\\nvalue\\n" for each of these fields present, in this order."""
    if envelope["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{envelope[n]}\n" for n in names if n in envelope).encode()


class SnsSigner:
    """A signing key and its certificate, standing in for the one SNS publishes."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, envelope: dict[str, Any], version: str = "1") -> dict[str, Any]:
        envelope = {
            **envelope,
            "SignatureVersion": version,
            "SigningCertURL": envelope.get("SigningCertURL", CERT_URL),
        }
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(canonical(envelope), padding.PKCS1v15(), algorithm)
        return {**envelope, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
def signer() -> SnsSigner:
    return SnsSigner()


@pytest.fixture
def aws(signer: SnsSigner, monkeypatch: Any) -> list[str]:
    """What SNS's HTTPS host would answer: the certificate at CERT_URL, and a record of every
    SubscribeURL visited. (The tests run on loopback only; everything else is real.)"""
    visited: list[str] = []
    sns.certificate.cache_clear()

    def download(url: str) -> bytes:
        visited.append(url)
        if url == CERT_URL:
            return signer.pem
        if "Action=ConfirmSubscription" in url:
            return b"<ConfirmSubscriptionResponse/>"
        raise OSError(f"nothing at {url}")

    monkeypatch.setattr(sns, "download", download)
    yield visited
    sns.certificate.cache_clear()


@pytest.fixture
def ses(helpdesk: World, settings: Any, aws: list[str]) -> World:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "INBOUND_EMAIL_ADAPTER": "ses",
        "SES_REGION": REGION,
        "SES_TOPIC_ARN": TOPIC,
    }
    return helpdesk


def notification(raw: bytes, **extra: Any) -> dict[str, Any]:
    """An SNS notification carrying an SES receipt with the message's content (SNS action)."""
    receipt = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-12-04T10:00:00.000Z",
            "source": "cora@example.com",
            "messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1",
            "destination": ["support@help.example.com"],
            "headersTruncated": False,
            "commonHeaders": {"from": ["cora@example.com"], "subject": "via SES"},
        },
        "receipt": {
            "timestamp": "2026-12-04T10:00:00.000Z",
            "recipients": ["support@help.example.com"],
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": TOPIC, "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(receipt),
        "Timestamp": "2026-12-04T10:00:00.123Z",
        "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
        **extra,
    }


def confirmation(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a7",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336",
        "Timestamp": "2026-12-04T10:00:00.123Z",
        **extra,
    }


def post(envelope: dict[str, Any], commit: Any, **headers: Any) -> Any:
    sns_headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": envelope.get("Type", ""),
        "HTTP_X_AMZ_SNS_MESSAGE_ID": envelope.get("MessageId", ""),
        "HTTP_X_AMZ_SNS_TOPIC_ARN": envelope.get("TopicArn", ""),
        **headers,
    }
    with commit():
        # SNS posts JSON as text/plain.
        return Client().post(
            URL, json.dumps(envelope), content_type="text/plain; charset=UTF-8", **sns_headers
        )


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_makes_a_ticket(
    ses: World, signer: SnsSigner, commit: Any, version: str
) -> None:
    raw = bytes(message(subject="via SES", message_id="<ses-1@mail.example.com>"))

    response = post(signer.sign(notification(raw), version), commit)

    assert response.status_code == 200
    inbound = InboundEmail.objects.get()
    assert (inbound.provider, inbound.message_id) == ("ses", "<ses-1@mail.example.com>")
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.ticket.subject == "via SES"


def test_a_verified_subscription_is_confirmed(
    ses: World, signer: SnsSigner, commit: Any, aws: list[str]
) -> None:
    envelope = signer.sign(confirmation())

    response = post(envelope, commit)

    assert response.status_code == 200
    assert aws == [CERT_URL, envelope["SubscribeURL"]]
    assert InboundEmail.objects.count() == 0


def _refused(envelope: dict[str, Any], commit: Any, caplog: Any, why: str, **headers: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="escalated.mail.webhooks"):
        response = post(envelope, commit, **headers)
    assert response.status_code == 400
    assert InboundEmail.objects.count() == 0
    assert "refused" in caplog.text and why in caplog.text


def test_a_tampered_message_is_refused(
    ses: World, signer: SnsSigner, commit: Any, caplog: Any
) -> None:
    envelope = signer.sign(notification(bytes(message())))
    other = notification(bytes(message(subject="swapped")))
    _refused({**envelope, "Message": other["Message"]}, commit, caplog, "does not verify")


def test_another_key_is_refused(ses: World, commit: Any, caplog: Any) -> None:
    _refused(SnsSigner().sign(notification(bytes(message()))), commit, caplog, "does not verify")


def test_an_unsigned_message_is_refused(ses: World, commit: Any, caplog: Any) -> None:
    _refused(
        {**notification(bytes(message())), "SignatureVersion": "1", "SigningCertURL": CERT_URL},
        commit,
        caplog,
        "does not verify",
    )


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://evil.example.com/SimpleNotificationService-0.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-0.pem",
        "https://sns.us-east-1.amazonaws.com/not-a-certificate.txt",
    ],
)
def test_a_certificate_from_anywhere_else_is_refused(
    ses: World, signer: SnsSigner, commit: Any, caplog: Any, aws: list[str], cert_url: str
) -> None:
    _refused(
        signer.sign(notification(bytes(message()), SigningCertURL=cert_url)),
        commit,
        caplog,
        "SNS URL",
    )
    assert aws == []  # not even fetched


def test_another_topic_is_refused_though_aws_signed_it(
    ses: World, signer: SnsSigner, commit: Any, caplog: Any
) -> None:
    other = "arn:aws:sns:us-east-1:999999999999:someone-elses"
    _refused(
        signer.sign(notification(bytes(message()), TopicArn=other)),
        commit,
        caplog,
        "is not SES_TOPIC_ARN",
    )


def test_a_subscription_to_another_topic_is_not_confirmed(
    ses: World, signer: SnsSigner, commit: Any, caplog: Any, aws: list[str]
) -> None:
    other = "arn:aws:sns:us-east-1:999999999999:someone-elses"
    _refused(signer.sign(confirmation(TopicArn=other)), commit, caplog, "is not SES_TOPIC_ARN")
    assert not any("ConfirmSubscription" in url for url in aws)


def test_headers_that_disagree_with_the_body_are_refused(
    ses: World, signer: SnsSigner, commit: Any, caplog: Any
) -> None:
    envelope = signer.sign(notification(bytes(message())))
    _refused(
        envelope,
        commit,
        caplog,
        "doesn't match",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="SubscriptionConfirmation",
    )


def test_a_body_that_is_not_json_is_refused(ses: World, commit: Any) -> None:
    with commit():
        response = Client().post(
            URL, "not json", content_type="text/plain", HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification"
        )
    assert response.status_code == 400
    assert InboundEmail.objects.count() == 0


def test_a_redelivered_notification_changes_nothing(
    ses: World, signer: SnsSigner, commit: Any
) -> None:
    envelope = signer.sign(notification(bytes(message(message_id="<ses-twice@mail.example.com>"))))
    post(envelope, commit)

    assert post(envelope, commit).status_code == 200

    assert InboundEmail.objects.count() == 1
