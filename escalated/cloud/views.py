"""Cloud mode, site side: the site's ``/<ROUTE_PREFIX>/graphql/`` over HTTP.

The site authenticates its own users as always (session with CSRF, or a bearer API token);
the operation, JSON or multipart as the client sent it, then goes to the hub as that user
(:mod:`escalated.cloud.forward`). A guest's link is the hub's and travels to it unread.
"""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)

from escalated.authentication import GUEST_TOKEN_HEADER, authenticate, request_actor
from escalated.cloud import forward


def graphql_forward(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    # Read the raw body before the CSRF check parses a multipart form out of it.
    body = request.body if request.method == "POST" else None
    guest = request.headers.get(GUEST_TOKEN_HEADER)
    if guest is None:
        refused = authenticate(request)
        if refused is not None:
            return refused
    try:
        answer = forward.call(
            user=request_actor(request),
            body=body,
            content_type=request.META.get("CONTENT_TYPE") or "application/json",
            query_string=request.META.get("QUERY_STRING", ""),
            guest_token=guest.strip() if guest is not None else None,
        )
    except forward.HubUnavailable as error:
        return JsonResponse(forward.unavailable_body(error), status=error.status)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


def download_forward(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """``/<ROUTE_PREFIX>/attachments/<pk>/`` in cloud mode: the hub decides who may read the
    file (the viewer's assertion, a guest's link, or a signed ``?sig=`` link) and the file
    streams through with the hub's headers."""
    guest = request.headers.get(GUEST_TOKEN_HEADER)
    if guest is None and "sig" not in request.GET:
        refused = authenticate(request)
        if refused is not None:
            return refused
    try:
        found = forward.download(
            user=request_actor(request),
            pk=pk,
            query_string=request.META.get("QUERY_STRING", ""),
            guest_token=guest.strip() if guest is not None else None,
        )
    except forward.HubUnavailable as error:
        return HttpResponse(
            f"The helpdesk is unreachable right now; try again shortly. ({error})",
            status=error.status,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(found.chunks, status=found.status)
    for name, value in found.headers.items():
        response[name] = value
    return response
