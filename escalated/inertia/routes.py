"""The route table the pages' ``route()`` helper reads, in Ziggy's shape.

Built from Django's URL resolver, so it says where the URLs are actually mounted (the host's
prefix, ROUTE_PREFIX, any nesting): every URL named ``escalated.*`` in the ``escalated``
namespace, plus the host's ``login`` and ``logout`` when they exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, get_resolver

NAMESPACE = "escalated"
HOST_ROUTES = ("login", "logout")
PAGE_METHODS = ("GET", "HEAD")

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _uri(route: str) -> str:
    """A Django route or regex as a Ziggy uri: parameters in braces, no anchors."""
    route = _CONVERTER.sub(r"{\1}", route)
    route = _REGEX_GROUP.sub(r"{\1}", route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


def view_methods(view: Any) -> tuple[str, ...]:
    """The HTTP methods a view answers: what the door's endpoints declare, a class-based
    view's handlers, else a page's GET and HEAD."""
    declared = getattr(view, "escalated_methods", None)
    if declared:
        return tuple(declared)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        methods = [m.upper() for m in view_class.http_method_names if hasattr(view_class, m)]
        return tuple(m for m in methods if m != "OPTIONS")
    return PAGE_METHODS


def _listed(name: str, namespace: str | None) -> bool:
    if namespace == NAMESPACE:
        return name.startswith(f"{NAMESPACE}.")
    return namespace is None and name in HOST_ROUTES


def _walk(
    patterns: list[Any], prefix: str, namespace: str | None
) -> Iterator[tuple[str, str, Any]]:
    for entry in patterns:
        route = _uri(str(entry.pattern))
        if isinstance(entry, URLResolver):
            inner = entry.namespace if entry.namespace else None
            yield from _walk(entry.url_patterns, prefix + route, inner or namespace)
        elif isinstance(entry, URLPattern) and entry.name and _listed(entry.name, namespace):
            yield entry.name, prefix + route, entry.callback


def _request_routes(request: HttpRequest) -> dict[str, dict[str, Any]]:
    return _routes(getattr(request, "urlconf", None) or settings.ROOT_URLCONF)


@cache
def _routes(urlconf: str) -> dict[str, dict[str, Any]]:
    routes: dict[str, dict[str, Any]] = {}
    for name, uri, view in _walk(get_resolver(urlconf).url_patterns, "", None):
        if name in routes:  # the resolver answers with the first; so does the table
            continue
        routes[name] = {
            "uri": uri,
            "methods": list(view_methods(view)),
            "parameters": re.findall(r"{(\w+)}", uri),
        }
    return routes


def route_table(request: HttpRequest) -> dict[str, Any]:
    """The table for ``request``'s host: ``{url, port, defaults, routes}``."""
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    return {
        "url": f"{request.scheme}://{request.get_host()}",
        "port": int(port) if port and port != default_port else None,
        "defaults": {},
        "routes": _request_routes(request),
    }


def mounted_prefix(request: HttpRequest) -> str:
    """Where the customer pages are mounted, without slashes (``support``)."""
    uri = _request_routes(request)["escalated.customer.tickets.index"]["uri"]
    return str(uri).strip("/")
