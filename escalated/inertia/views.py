"""HTTP endpoints of the support UI: pages, form posts, and the small JSON answers.

:func:`endpoint` makes the URL patterns of one path: one name per HTTP method (the pages'
``route()`` names), all served by one view that dispatches on the method, so ``PUT`` and
``DELETE`` on ``admin/departments/<id>/`` reach their own handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.views.decorators.http import require_GET
from inertia import render

from escalated.cloud import forward
from escalated.cloud.forward import HubUnavailable
from escalated.inertia.execute import SignInRequired, TooManyRequests, run
from escalated.inertia.forms import Form, submit
from escalated.inertia.pages import Page, page_props
from escalated.inertia.routes import PAGE_METHODS, route_table
from escalated.inertia.shape import gid
from escalated.inertia.shared import STAFF, shared_props, viewer
from escalated.services.guests import guest_authenticate

Handler = Callable[..., HttpResponse]

ALLOWED = {
    "any": None,
    "signed_in": frozenset({"customer", "agent", "admin"}),
    "guest": frozenset({"guest"}),
    "staff": STAFF,
    "admin": frozenset({"admin"}),
}


def url(name: str, *args: Any) -> str:
    return reverse(f"escalated:{name}", args=args)


def _login_url() -> str:
    try:
        return reverse("login")
    except NoReverseMatch:
        return str(settings.LOGIN_URL)


def _settle(request: HttpRequest, kwargs: dict[str, Any], audience: str) -> None:
    """Who the request acts as, and the URL's ticket as the viewer sees it.

    A guest page's token makes the request the guest's (the API then confines it to that
    ticket); a ticket reference becomes the ticket's global id through the API's scoping.
    """
    token = kwargs.get("token")
    if token is not None and forward.is_cloud():
        # The link is the hub's: the page's operations carry it there (execute.run), and the
        # hub says which ticket it opens, or that it opens none.
        request.escalated_guest_token = str(token)  # type: ignore[attr-defined]
        try:
            found = run(request, "GuestTicketOfLink")["tickets"]["edges"]
        except SignInRequired:
            found = []
        if not found:
            raise Http404("This guest link is invalid or has expired.")
        kwargs["ticket_id"] = found[0]["node"]["id"]
    elif token is not None:
        guest = guest_authenticate(str(token))
        if guest is None:
            raise Http404("This guest link is invalid or has expired.")
        request.escalated_guest = guest  # type: ignore[attr-defined]
        kwargs["ticket_id"] = gid("Ticket", guest.ticket_id)
    allowed = ALLOWED[audience]
    if allowed is not None:
        role = viewer(request)["role"]
        if role not in allowed:
            if role == "anonymous":
                raise SignInRequired
            raise PermissionDenied("This page is not for you.")
    reference = kwargs.get("ticket")
    if reference is not None and token is None:
        found = run(request, "TicketByReference", {"reference": str(reference)})["ticket"]
        if found is None:
            raise Http404("No such ticket.")
        kwargs["ticket_id"] = found["id"]


def page_view(page: Page) -> Handler:
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        _settle(request, kwargs, page.audience)
        props = {**shared_props(request), **page_props(request, page, kwargs)}
        return render(request, page.component, props)

    return view


def form_view(form: Form, fallback: Callable[[Mapping[str, Any]], str]) -> Handler:
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        _settle(request, kwargs, form.audience)
        return submit(request, form, kwargs, fallback=fallback(kwargs))

    return view


def json_view(audience: str, answer: Callable[[HttpRequest, Mapping[str, Any]], Any]) -> Handler:
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        _settle(request, kwargs, audience)
        return JsonResponse(answer(request, kwargs), safe=False)

    return view


def _guarded(handler: Handler) -> Handler:
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return handler(request, **kwargs)
        except SignInRequired:
            return redirect_to_login(request.get_full_path(), _login_url())
        except HubUnavailable:
            return unavailable(request)
        except TooManyRequests as refused:
            response = HttpResponse(str(refused), status=429, content_type="text/plain")
            response["Retry-After"] = str(refused.retry_after)
            return response

    return view


def unavailable(request: HttpRequest) -> HttpResponse:
    """Cloud mode, the hub not answering: a page inside the host's layout saying so (503)."""
    response = TemplateResponse(
        request,
        "escalated/unavailable.html",
        {"layout": settings.INERTIA_LAYOUT},
        status=503,
        headers={"Retry-After": "30"},
    )
    return response.render()


def endpoint(route: str, **handlers: tuple[str, Handler]) -> list[URLPattern]:
    """The patterns of one path: ``GET=(name, handler)``, ``POST=…``, ``PUT=…``, …

    A ``GET`` handler answers ``HEAD`` too. Every pattern dispatches on the method, whichever
    the resolver picks; each carries its own name's methods for the route table.
    """
    by_method = {method: _guarded(handler) for method, (_name, handler) in handlers.items()}
    if "GET" in by_method:
        by_method["HEAD"] = by_method["GET"]

    def dispatch(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = by_method.get(request.method or "")
        if handler is None:
            return HttpResponseNotAllowed(sorted(by_method))
        return handler(request, **kwargs)

    names: dict[str, list[str]] = {}
    for method, (name, _handler) in handlers.items():
        names.setdefault(name, []).extend(PAGE_METHODS if method == "GET" else (method,))
    patterns = []
    for name, methods in names.items():

        def named(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            return dispatch(request, **kwargs)

        named.escalated_methods = tuple(methods)  # type: ignore[attr-defined]
        patterns.append(path(route, named, name=name))
    return patterns


@require_GET
def routes_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(route_table(request))
