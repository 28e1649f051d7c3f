"""Plain HTTP endpoints beside the GraphQL one: attachment downloads, and multipart form posts
that run the same mutations for pages and no-JavaScript forms."""

from __future__ import annotations

import logging
from typing import Any

from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from graphql import GraphQLList, GraphQLNonNull
from strawberry.django.context import StrawberryDjangoContext

from escalated.access import can_download
from escalated.authentication import authenticate, request_actor
from escalated.cloud import forward
from escalated.cloud.views import download_forward
from escalated.models import Attachment
from escalated.services.attachments import LinkExpired, attachment_from_link, attachment_open

logger = logging.getLogger(__name__)


# --- downloads --------------------------------------------------------------------------------


@csrf_exempt  # GET only; the credentials are checked below
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Serve one attachment to whoever may read its ticket (a file on an internal note: staff
    only), or to the holder of a genuine, unexpired signed link (``?sig=``).

    Everything not allowed is a 404, so a file's existence does not leak. The file is always a
    download (Content-Disposition: attachment) served with its sniffed type, nosniff and a
    sandboxing CSP, so nothing in it runs on this site's origin.
    """
    if forward.is_cloud():
        return download_forward(request, pk)  # the file is on the hub
    signature = request.GET.get("sig")
    if signature is not None:
        try:
            attachment = attachment_from_link(pk, signature)
        except LinkExpired:
            return HttpResponse(
                "This download link has expired; open the ticket again for a fresh one.",
                status=410,
                content_type="text/plain; charset=utf-8",
            )
    else:
        refused = authenticate(request)
        if refused is not None:
            return refused
        attachment = Attachment.objects.select_related("ticket", "reply").filter(pk=pk).first()
        if attachment is not None and not can_download(request_actor(request), attachment):
            attachment = None
    if attachment is None:
        raise Http404("No such attachment.")
    return _serve(attachment)


def _serve(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment_open(attachment)
    except FileNotFoundError as error:
        logger.error("Attachment %s is missing from storage %r", attachment.pk, attachment.storage)
        raise Http404("No such attachment.") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- form posts -------------------------------------------------------------------------------

# The mutations a multipart form may run: path name -> (mutation, input type, selection).
FORM_MUTATIONS = {
    "ticket-create": ("ticketCreate", "TicketCreateInput", "ticket { id reference status }"),
    "ticket-reply": (
        "ticketReply",
        "TicketReplyInput",
        "reply { id } ticket { id reference status }",
    ),
    "ticket-note-add": ("ticketNoteAdd", "TicketNoteAddInput", "reply { id } ticket { id }"),
    "guest-ticket-create": (
        "guestTicketCreate",
        "GuestTicketCreateInput",
        "ticket { id reference status } guestToken",
    ),
}


@csrf_exempt  # authenticate() runs Django's CSRF check for session-signed posts
@require_POST
def form_mutation(request: HttpRequest, name: str) -> HttpResponseBase:
    """Run a mutation from an ordinary form post (``multipart/form-data`` or urlencoded).

    Field names are the input's GraphQL names (``ticketId``, ``body``, ``subject``…); a list
    field takes repeated fields; files come as repeated ``attachments`` fields. The answer is
    the GraphQL result as JSON, exactly as ``/graphql/`` would give it, with the same
    authentication, permissions and payload errors.
    """
    from escalated.graphql.schema import schema

    if name not in FORM_MUTATIONS:
        raise Http404("No such form.")
    refused = authenticate(request)
    if refused is not None:
        return refused
    mutation, input_type, selection = FORM_MUTATIONS[name]
    document = (
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
        f"{{ {selection} errors {{ field message code }} }} }}"
    )
    variables = {"input": _form_input(request, schema, input_type)}
    if forward.is_cloud():  # the mutation runs on the hub, as the API's would
        try:
            answer = forward.operation(request_actor(request), document, variables, None)
        except forward.HubUnavailable as error:
            return JsonResponse(forward.unavailable_body(error), status=error.status)
        return JsonResponse(answer, status=400 if answer.get("data") is None else 200)
    result = schema.execute_sync(
        document,
        variable_values=variables,
        context_value=StrawberryDjangoContext(request=request, response=HttpResponse()),
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return JsonResponse(body, status=400 if result.data is None else 200)


def _form_input(request: HttpRequest, schema: Any, input_type: str) -> dict[str, Any]:
    fields = schema._schema.get_type(input_type).fields
    values: dict[str, Any] = {}
    for key in request.POST:
        if key not in fields:
            continue  # e.g. csrfmiddlewaretoken; GraphQL would refuse unknown keys
        if _is_list(fields[key].type):
            values[key] = request.POST.getlist(key)
        else:
            values[key] = request.POST[key]
    if "attachments" in fields and request.FILES:
        values["attachments"] = request.FILES.getlist("attachments")
    return values


def _is_list(graphql_type: Any) -> bool:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)
