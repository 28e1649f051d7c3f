"""Provider webhooks: ``POST <prefix>/inbound/mailgun/``, ``/postmark/`` and ``/ses/``.

Parsing and authentication are django-anymail's inbound views, built per request from the
current settings, and the message reaches us through anymail's ``inbound`` signal (connected for
these views only, so a host's own anymail webhooks are left alone):

* Mailgun: anymail checks the HMAC-SHA256 of timestamp+token under MAILGUN_SIGNING_KEY; anymail
  does not bound the timestamp, so :class:`~.providers.MailgunInbound` refuses one more than
  MAILGUN_MAX_AGE from now (a replayed capture);
* Postmark: HTTP basic auth against POSTMARK_INBOUND_TOKEN (``user:password`` in the URL
  Postmark posts to), compared by anymail in constant time;
* SES: anymail does not verify SNS signatures, so the SES view does, in
  :mod:`escalated.mail.sns`, before anymail parses anything.

A refused request is answered 400 (401 for Postmark without credentials), logged, and stores
nothing. A stored message, or one stored before (a redelivery), is answered 200.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from escalated.conf import escalated_settings
from escalated.models import InboundProvider

logger = logging.getLogger(__name__)


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
        from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure

        from escalated.mail.providers import VIEWS  # heavy imports, on the first call only

        view_class, kwargs = VIEWS[provider]
        if provider == InboundProvider.POSTMARK and not request.META.get("HTTP_AUTHORIZATION"):
            logger.warning("Inbound %s webhook without credentials refused", provider)
            refusal = HttpResponse(status=401)
            refusal["WWW-Authenticate"] = 'Basic realm="inbound email"'
            return refusal
        try:
            response = view_class().as_view(**kwargs())(request)
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
