"""The HTTP endpoint: authentication (see :mod:`escalated.authentication`), GraphiQL, and the
GraphQL multipart request spec for file uploads."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from escalated.authentication import authenticate
from escalated.cloud import forward
from escalated.cloud.views import graphql_forward
from escalated.graphql.graphiql import graphiql_enabled, page_for


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
        if forward.is_cloud() and not (request.method == "GET" and "query" not in request.GET):
            # Cloud mode: the operation runs on the hub (GraphiQL's page is still served here).
            return graphql_forward(request)
        refused = authenticate(request)
        if refused is not None:
            return refused
        self.graphql_ide = "graphiql" if graphiql_enabled() else None
        if request.method == "GET":
            get_token(request)  # GraphiQL reads the csrftoken cookie for its own requests
        return super().dispatch(request, *args, **kwargs)

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        """Strawberry's page, loading its files from this app unless GRAPHIQL_ASSETS is 'cdn'."""
        response = super().render_graphql_ide(request)
        response.content = page_for(request, response.content.decode()).encode()
        return response
