"""Form posts from the pages, run as the API's mutations.

A page's ``useForm`` sends JSON, or multipart when it carries files (``attachments[]``, booleans
as ``"1"``/``"0"``), with POST, PUT, PATCH or DELETE. :func:`form_body` reads all of these into
one dict. A :class:`Form` turns that dict into the mutation's input; the mutation's
``UserError``s come back keyed by the form's own field names and the browser is sent back to
the page (303) to show them; on success it is sent on (303) with a flash message. The view
saves nothing: the mutation does, through the services.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.http import url_has_allowed_host_and_scheme

from escalated.inertia.execute import InvalidInput, TooManyRequests, run
from escalated.inertia.shape import snake
from escalated.inertia.shared import remember_errors


class BadBody(Exception):
    """The body is not JSON or form data the door can read."""


def form_body(request: HttpRequest) -> dict[str, Any]:
    """The submitted fields: a JSON object, or form data with ``name[]`` keys as lists."""
    content_type = request.content_type or ""
    if content_type == "application/json":
        try:
            parsed = json.loads(request.body or b"{}")
        except ValueError as error:
            raise BadBody("The body is not valid JSON.") from error
        if not isinstance(parsed, dict):
            raise BadBody("The body must be a JSON object.")
        return parsed
    sources: tuple[MultiValueDict[str, Any], ...]
    if request.method == "POST":
        sources = (request.POST, request.FILES)
    elif content_type.startswith("multipart/"):
        # Django parses multipart bodies for POST only; a real PUT carries one too.
        sources = tuple(request.parse_file_upload(request.META, request))
    elif content_type == "application/x-www-form-urlencoded":
        sources = (QueryDict(request.body),)
    else:
        return {}
    body: dict[str, Any] = {}
    for source in sources:
        for key in source:
            values = source.getlist(key)
            if key.endswith("[]"):
                body.setdefault(key[:-2], []).extend(values)
            else:
                body[key] = values[-1] if values else None
    return body


def as_bool(value: Any) -> bool:
    """A checkbox as JSON (true/false) or as multipart ("1"/"0", "true"/"false")."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def blank_none(value: Any) -> Any:
    return None if value in ("", None) else value


def upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Form:
    """One form post: the mutation it runs and how its fields map on to the input."""

    operation: str  # a named mutation in operations/*.graphql, with $input
    payload: str  # the mutation's field in the result
    input: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]
    success: Callable[[HttpRequest, dict[str, Any], Mapping[str, Any]], str]
    flash: str
    # Input fields (camelCase, as a UserError names them) whose form field is named otherwise.
    fields: Mapping[str, str] = field(default_factory=dict)
    # Where an error about the input as a whole is shown.
    general_field: str = "form"
    # Who may post it: "signed_in", "guest", "staff" or "admin" (the mutation decides the rest).
    audience: str = "signed_in"


def form_errors(form: Form, errors: list[dict[str, Any]]) -> dict[str, str]:
    keyed: dict[str, str] = {}
    for error in errors:
        name = error.get("field")
        key = form.fields.get(name, snake(name)) if name else form.general_field
        keyed.setdefault(key, error["message"])
    return keyed


def back(request: HttpRequest, fallback: str) -> str:
    """The page the form was on (the Referer, when it is this site), else ``fallback``."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return fallback


def see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def submit(
    request: HttpRequest,
    form: Form,
    kwargs: Mapping[str, Any],
    *,
    fallback: str,
) -> HttpResponse:
    """Run ``form``'s mutation with the posted fields; 303 back with errors, or on."""
    try:
        body = form_body(request)
    except BadBody as error:
        remember_errors(request, {form.general_field: str(error)})
        return see_other(back(request, fallback))
    payload: dict[str, Any] = {}
    try:
        result = run(request, form.operation, {"input": form.input(body, kwargs)})
        payload = result[form.payload] or {}
        problems = payload.get("errors") or []
    except InvalidInput as invalid:
        problems = [{"field": k or None, "message": m} for k, m in invalid.problems.items()]
    except TooManyRequests as refused:
        problems = [{"field": None, "message": str(refused)}]
    errors = form_errors(form, problems)
    if errors:
        remember_errors(request, errors)
        return see_other(back(request, fallback))
    messages.success(request, form.flash)
    return see_other(form.success(request, payload, kwargs))
