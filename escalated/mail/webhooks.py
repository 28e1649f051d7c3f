"""Provider webhooks: ``POST <prefix>/inbound/mailgun/``, ``/postmark/`` and ``/ses/``.

Parsing and authentication are django-anymail's inbound views, built per request from the
current settings, and the message reaches us through anymail's ``inbound`` signal (connected for
these views only, so a host's own anymail webhooks are left alone):

* Mailgun: anymail checks the HMAC-SHA256 of timestamp+token under MAILGUN_SIGNING_KEY; anymail
  does not bound the timestamp, so :class:`MailgunInbound` refuses one more than
  MAILGUN_MAX_AGE from now (a replayed capture);
* Postmark: HTTP basic auth against POSTMARK_INBOUND_TOKEN (``user:password`` in the URL
  Postmark posts to), compared by anymail in constant time;
* SES: anymail does not verify SNS signatures, so :class:`SesInbound` does, in
  :mod:`escalated.mail.sns`, before anymail parses anything.

A refused request is answered 400 (401 for Postmark without credentials), logged, and stores
nothing. A stored message, or one stored before (a redelivery), is answered 200.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, inbound
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from escalated.conf import escalated_settings
from escalated.mail import sns
from escalated.mail.store import inbound_store
from escalated.models import InboundProvider

logger = logging.getLogger(__name__)

MAILGUN_MAX_AGE = 15 * 60  # seconds; Mailgun's own guidance for its signed timestamps


class _Configured:
    """Lets ``as_view`` take anymail's ``webhook_secret`` (the basic auth credentials), which
    anymail reads from the view's arguments before its ANYMAIL settings."""

    webhook_secret: Any = None


class MailgunInbound(_Configured, MailgunInboundWebhookView):
    def validate_request(self, request: HttpRequest) -> None:
        # anymail runs every validate_request in the class chain: its HMAC check, then this.
        try:
            stamp = int(request.POST.get("timestamp", ""))
        except ValueError:
            raise AnymailWebhookValidationFailure("Mailgun webhook without a timestamp") from None
        if abs(time.time() - stamp) > MAILGUN_MAX_AGE:
            raise AnymailWebhookValidationFailure("Mailgun webhook timestamp out of window")


class PostmarkInbound(_Configured, PostmarkInboundWebhookView):
    pass


class SesInbound(_Configured, AmazonSESInboundWebhookView):
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


VIEWS: dict[str, tuple[type[View], Any]] = {
    InboundProvider.MAILGUN: (
        MailgunInbound,
        lambda: {
            "webhook_signing_key": escalated_settings.MAILGUN_SIGNING_KEY,
            "webhook_secret": [],
        },
    ),
    InboundProvider.POSTMARK: (
        PostmarkInbound,
        lambda: {"webhook_secret": [escalated_settings.POSTMARK_INBOUND_TOKEN]},
    ),
    InboundProvider.SES: (SesInbound, lambda: {"webhook_secret": []}),
}
PROVIDER_OF = {view: provider for provider, (view, _kwargs) in VIEWS.items()}


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
    provider = PROVIDER_OF[sender]
    message = event.message
    if message.get("Message-ID") is None and event.event_id and provider != "mailgun":
        # Postmark's and SES's own ids stay the same across their redeliveries (Mailgun's token
        # does not), so a message without a Message-ID still dedupes.
        message["Message-ID"] = f"<{provider}-{event.event_id}@inbound.escalated>"
    inbound_store(provider=provider, raw=raw_mime(message))


for _view in PROVIDER_OF:
    inbound.connect(_receive, sender=_view, dispatch_uid=f"escalated.mail.{_view.__name__}")


def _configured(provider: str) -> bool:
    return bool(
        escalated_settings.INBOUND_EMAIL_ENABLED
        and provider == escalated_settings.INBOUND_EMAIL_ADAPTER
    )


def _endpoint(provider: str) -> Any:
    @csrf_exempt
    @require_POST
    def view(request: HttpRequest) -> HttpResponseBase:
        if not _configured(provider):
            return HttpResponse(status=404)
        view_class, kwargs = VIEWS[provider]
        if provider == InboundProvider.POSTMARK and not request.META.get("HTTP_AUTHORIZATION"):
            logger.warning("Inbound %s webhook without credentials refused", provider)
            refusal = HttpResponse(status=401)
            refusal["WWW-Authenticate"] = 'Basic realm="inbound email"'
            return refusal
        try:
            response = view_class.as_view(**kwargs())(request)
        except AnymailWebhookValidationFailure as error:
            logger.warning("Inbound %s webhook refused: %s", provider, error)
            return HttpResponse(status=400)
        except (AnymailAPIError, json.JSONDecodeError) as error:
            logger.warning("Inbound %s webhook unreadable: %s", provider, error)
            return HttpResponse(status=400)
        return response

    view.__name__ = f"inbound_{provider}"
    return view


mailgun = _endpoint(InboundProvider.MAILGUN)
postmark = _endpoint(InboundProvider.POSTMARK)
ses = _endpoint(InboundProvider.SES)
