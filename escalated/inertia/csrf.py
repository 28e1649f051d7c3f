"""The CSRF header names the support pages send, mapped onto Django's one check.

Django reads a single header (``CSRF_HEADER_NAME``, ``X-CSRFToken``). The shared pages' own
``fetch()`` calls send ``X-CSRF-TOKEN`` with the ``<meta name="csrf-token">`` value, and
Inertia 3's client, unless configured otherwise, sends ``X-XSRF-TOKEN`` with the value of an
``XSRF-TOKEN`` cookie. :class:`CsrfHeaderMiddleware` runs before Django's
``CsrfViewMiddleware``: it copies either header into Django's when Django's is absent, and keeps
an ``XSRF-TOKEN`` cookie holding a token for the current secret. The token is still checked by
Django against the ``csrftoken`` cookie or session, so nothing is exempted and no check is
weakened: each header is a custom header a cross-site form cannot send, carrying the same
token Django would accept in its own header.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

# META keys of the headers accepted besides Django's own.
ALTERNATE_HEADERS = ("HTTP_X_CSRF_TOKEN", "HTTP_X_XSRF_TOKEN")
XSRF_COOKIE = "XSRF-TOKEN"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfHeaderMiddleware:
    """Accept the pages' CSRF headers; put it before ``CsrfViewMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS and settings.CSRF_HEADER_NAME not in request.META:
            for header in ALTERNATE_HEADERS:
                if header in request.META:
                    request.META[settings.CSRF_HEADER_NAME] = request.META[header]
                    break
        response = self.get_response(request)
        # Only where Django has a token for this request (a page that rendered one, or a
        # request carrying the cookie), and every time: a sign-in rotates the secret.
        if request.META.get("CSRF_COOKIE"):
            response.set_cookie(
                XSRF_COOKIE,
                get_token(request),
                max_age=settings.CSRF_COOKIE_AGE,
                domain=settings.CSRF_COOKIE_DOMAIN,
                path=settings.CSRF_COOKIE_PATH,
                secure=settings.CSRF_COOKIE_SECURE,
                httponly=False,  # the client reads it to echo it in the header
                samesite=settings.CSRF_COOKIE_SAMESITE,
            )
        return response
