"""The HTTP endpoint: session or bearer-token authentication, CSRF for sessions, GraphiQL."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from escalated.conf import escalated_settings
from escalated.services.tokens import api_token_authenticate


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def csrf_failure(request: HttpRequest) -> str | None:
    """Django's CSRF verdict for this request: None when it passes, else the reason."""
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda _r: HttpResponse(), (), {})


def bearer_token(request: HttpRequest) -> str | None:
    return bearer_credentials(request.headers.get("Authorization", ""))


def bearer_credentials(value: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, or None for another scheme."""
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


@method_decorator(csrf_exempt, name="dispatch")
class EscalatedGraphQLView(GraphQLView):
    """Authenticates headless clients by ``Authorization: Bearer <token>`` (no CSRF: the header
    is not sent by browsers on their own), and requires Django's CSRF token from clients signed
    in by session cookie."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        raw = bearer_token(request)
        if raw is not None:
            token = api_token_authenticate(raw)
            if token is None:
                return JsonResponse(
                    {
                        "errors": [
                            {
                                "message": "Invalid, expired or revoked API token.",
                                "extensions": {"code": "UNAUTHENTICATED"},
                            }
                        ]
                    },
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="escalated"'},
                )
            request.user = token.user
            request.escalated_token = token  # type: ignore[attr-defined]
        elif request.method == "POST" and request.user.is_authenticated:
            reason = csrf_failure(request)
            if reason:
                return JsonResponse(
                    {
                        "errors": [
                            {
                                "message": f"CSRF check failed: {reason}",
                                "extensions": {"code": "FORBIDDEN"},
                            }
                        ]
                    },
                    status=403,
                )
        graphiql = escalated_settings.GRAPHIQL
        self.graphql_ide = (
            "graphiql" if (graphiql if graphiql is not None else settings.DEBUG) else None
        )
        if request.method == "GET":
            get_token(request)  # GraphiQL reads the csrftoken cookie for its own requests
        return super().dispatch(request, *args, **kwargs)
