"""GraphiQL without internet: strawberry's own page, with each file it would load from unpkg
served by Escalated instead (the same bytes, see ``escalated/static/escalated/graphiql/``)."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET

from escalated.conf import escalated_settings

ASSETS = Path(__file__).resolve().parents[1] / "static" / "escalated" / "graphiql"


def graphiql_enabled() -> bool:
    """GRAPHIQL, or DEBUG when it is None."""
    enabled = escalated_settings.GRAPHIQL
    return bool(settings.DEBUG if enabled is None else enabled)


@cache
def replacements() -> dict[str, str]:
    """The CDN URL each vendored file stands in for: {url: file name}."""
    assets = json.loads((ASSETS / "assets.json").read_text())
    return {asset["url"]: asset["file"] for asset in assets}


def localised(page: str, asset_url: Callable[[str], str]) -> str:
    """``page`` with every CDN URL that has a vendored file pointing at ``asset_url(file)``."""
    for url, name in replacements().items():
        page = page.replace(url, asset_url(name))
    return page


def page_for(request: HttpRequest, page: str) -> str:
    """The IDE page as this request should get it, by GRAPHIQL_ASSETS."""
    if escalated_settings.GRAPHIQL_ASSETS == "cdn":
        return page
    match = request.resolver_match
    namespace = match.namespace if match and match.namespace else "escalated"
    return localised(page, lambda name: reverse(f"{namespace}:graphiql_asset", args=[name]))


@require_GET
def graphiql_asset(request: HttpRequest, name: str) -> HttpResponseBase:
    """One vendored file, by its exact name (nothing else in the folder is reachable). Names
    carry their package's version, so browsers may keep them for a year."""
    if not graphiql_enabled() or name not in replacements().values():
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    # Whole bytes, not a FileResponse: under ASGI a file's synchronous iterator is consumed in
    # a worker thread with a warning, for files the browser then keeps for a year anyway.
    response = HttpResponse((ASSETS / name).read_bytes(), content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
