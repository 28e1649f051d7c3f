"""The HTTP endpoint: authentication (see :mod:`escalated.authentication`), GraphiQL, and the
GraphQL multipart request spec for file uploads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from escalated.authentication import authenticate
from escalated.conf import escalated_settings


@method_decorator(csrf_exempt, name="dispatch")
class EscalatedGraphQLView(GraphQLView):
    """Authenticates headless clients by ``Authorization: Bearer <token>`` and guests by
    ``X-Escalated-Guest-Token`` (no CSRF: browsers do not send these headers on their own), and
    requires Django's CSRF token from clients signed in by session cookie.

    Multipart uploads are on: strawberry leaves them off by default because a multipart POST is
    a "simple" request a foreign page can send without a CORS preflight. Here that is safe
    because the CSRF check above applies to multipart posts like any other: a session-signed
    POST without the token is refused, and header credentials cannot be forged cross-site.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("multipart_uploads_enabled", True)
        super().__init__(**kwargs)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refused = authenticate(request)
        if refused is not None:
            return refused
        graphiql = escalated_settings.GRAPHIQL
        self.graphql_ide = (
            "graphiql" if (graphiql if graphiql is not None else settings.DEBUG) else None
        )
        if request.method == "GET":
            get_token(request)  # GraphiQL reads the csrftoken cookie for its own requests
        return super().dispatch(request, *args, **kwargs)
