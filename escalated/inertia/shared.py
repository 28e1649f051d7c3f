"""The props every page carries, from one place: ``escalated``, ``auth``, ``errors``, ``flash``.

The viewer's role comes from the API (the ``SharedViewer`` operation), so the layout's links
follow the same rule as what the API lets the viewer do.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from inertia.utils import always

from escalated.conf import escalated_settings
from escalated.inertia.execute import run
from escalated.inertia.routes import mounted_prefix
from escalated.inertia.shape import shape

ERRORS_SESSION_KEY = "escalated_form_errors"
TOKEN_SESSION_KEY = "escalated_new_api_token"
STAFF = frozenset({"agent", "admin"})


def viewer(request: HttpRequest) -> dict[str, Any]:
    """``{role, user}`` of the request, asked of the API once per request."""
    cached = getattr(request, "_escalated_viewer", None)
    if cached is None:
        cached = shape(run(request, "SharedViewer")["viewer"])
        request._escalated_viewer = cached  # type: ignore[attr-defined]
    return cached


def remember_errors(request: HttpRequest, errors: dict[str, str]) -> None:
    """Keep a refused form's errors for the page the browser is sent back to."""
    request.session[ERRORS_SESSION_KEY] = errors


def _errors(request: HttpRequest) -> dict[str, str]:
    session = getattr(request, "session", None)
    return dict(session.pop(ERRORS_SESSION_KEY, {})) if session is not None else {}


def show_token_once(request: HttpRequest, token: str) -> None:
    """Keep a new API token for the next page only (ApiTokens reads flash.plain_text_token)."""
    request.session[TOKEN_SESSION_KEY] = token


def _flash(request: HttpRequest) -> dict[str, str | None]:
    flash: dict[str, str | None] = {"success": None, "error": None}
    session = getattr(request, "session", None)
    token = session.pop(TOKEN_SESSION_KEY, None) if session is not None else None
    if token:
        flash["plain_text_token"] = token
    for message in messages.get_messages(request):
        level = "error" if message.level >= messages.ERROR else "success"
        flash[level] = str(message)
    return flash


def shared_props(request: HttpRequest) -> dict[str, Any]:
    me = viewer(request)
    role = me["role"]
    return {
        "escalated": {
            "prefix": mounted_prefix(request),
            "is_agent": role in STAFF,
            "is_admin": role == "admin",
            "agent_type": "full",
            "permissions": ["*"] if role == "admin" else [],
            "show_powered_by": bool(escalated_settings.SHOW_POWERED_BY),
            "knowledge_base_enabled": False,
            "knowledge_base_public": False,
            "chat_enabled": False,
            "features": {"newsletters": False},
        },
        "auth": {"user": me["user"]},
        "errors": always(lambda: _errors(request)),
        "flash": always(lambda: _flash(request)),
    }
