"""The anymail views behind the inbound webhooks, and the receiver of their ``inbound`` signal.

Imported by :mod:`escalated.mail.webhooks` on the first webhook request only: anymail (with
requests), cryptography and, for SES, boto3 are a noticeable share of a process's start-up, and
a host that takes no inbound webhooks should not pay for them.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Callable
from typing import Any, ClassVar

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.http import HttpRequest
from django.views import View

from escalated.conf import escalated_settings
from escalated.mail import sns
from escalated.mail.store import inbound_store
from escalated.models import InboundProvider

MAILGUN_MAX_AGE = 15 * 60  # seconds; Mailgun's own guidance for its signed timestamps


class _Configured:
    """Lets ``as_view`` take anymail's ``webhook_secret`` (the basic auth credentials), which
    anymail reads from the view's arguments before its ANYMAIL settings; ``provider`` names the
    InboundEmail provider of what the view receives."""

    webhook_secret: Any = None
    provider: ClassVar[str]


class MailgunInbound(_Configured, MailgunInboundWebhookView):
    provider = InboundProvider.MAILGUN

    def validate_request(self, request: HttpRequest) -> None:
        # anymail runs every validate_request in the class chain: its HMAC check, then this.
        try:
            stamp = int(request.POST.get("timestamp", ""))
        except ValueError:
            raise AnymailWebhookValidationFailure("Mailgun webhook without a timestamp") from None
        if abs(time.time() - stamp) > MAILGUN_MAX_AGE:
            raise AnymailWebhookValidationFailure("Mailgun webhook timestamp out of window")


class PostmarkInbound(_Configured, PostmarkInboundWebhookView):
    provider = InboundProvider.POSTMARK


@functools.cache
def ses_view() -> type[View]:
    """The SES view, made on first use: anymail's SES module imports boto3, a second of start-up
    that hosts not using SES should not pay."""
    from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView

    class SesInbound(_Configured, AmazonSESInboundWebhookView):
        provider = InboundProvider.SES
        warn_if_no_basic_auth = False  # authenticated by the SNS signature instead

        def validate_request(self, request: HttpRequest) -> None:
            try:
                sns.verify(
                    self._parse_sns_message(request),
                    region=str(escalated_settings.SES_REGION),
                    topic_arn=str(escalated_settings.SES_TOPIC_ARN),
                )
            except sns.SnsError as error:
                raise AnymailWebhookValidationFailure(str(error)) from error

        def auto_confirm_sns_subscription(self, sns_message: dict[str, Any]) -> None:
            # Verified above (signature and topic): confirm by visiting the SubscribeURL.
            try:
                sns.confirm_subscription(sns_message, region=str(escalated_settings.SES_REGION))
            except sns.SnsError as error:
                raise AnymailWebhookValidationFailure(str(error)) from error

    _listen(SesInbound)
    return SesInbound


VIEWS: dict[str, tuple[Callable[[], type[View]], Callable[[], dict[str, Any]]]] = {
    InboundProvider.MAILGUN: (
        lambda: MailgunInbound,
        lambda: {
            "webhook_signing_key": escalated_settings.MAILGUN_SIGNING_KEY,
            "webhook_secret": [],
        },
    ),
    InboundProvider.POSTMARK: (
        lambda: PostmarkInbound,
        lambda: {"webhook_secret": [escalated_settings.POSTMARK_INBOUND_TOKEN]},
    ),
    InboundProvider.SES: (ses_view, lambda: {"webhook_secret": []}),
}


def raw_mime(message: AnymailInboundMessage) -> bytes:
    """The message as MIME bytes to store. A message anymail built from parsed fields (Mailgun
    without body-mime, Postmark without RawEmail) holds its files as bare bytes with no transfer
    encoding, which serialising would damage (line endings): those parts are base64-encoded
    first."""
    for part in message.walk():
        if part.is_multipart() or part.get("Content-Transfer-Encoding") is not None:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and part.get_content_maintype() != "text":
            part.set_payload(base64.encodebytes(payload).decode("ascii"))
            part["Content-Transfer-Encoding"] = "base64"
    return bytes(message.as_bytes())


def _receive(sender: type, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    """anymail's inbound signal, from one of our views: store the message (first)."""
    provider = sender.provider  # type: ignore[attr-defined]
    message = event.message
    if message.get("Message-ID") is None and event.event_id and provider != "mailgun":
        # Postmark's and SES's own ids stay the same across their redeliveries (Mailgun's token
        # does not), so a message without a Message-ID still dedupes.
        message["Message-ID"] = f"<{provider}-{event.event_id}@inbound.escalated>"
    inbound_store(provider=provider, raw=raw_mime(message))


def _listen(view: type[View]) -> None:
    inbound.connect(_receive, sender=view, dispatch_uid=f"escalated.mail.{view.__name__}")


_listen(MailgunInbound)
_listen(PostmarkInbound)
