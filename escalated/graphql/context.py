"""What a resolver needs to know about the request it serves."""

from __future__ import annotations

from typing import Any

from strawberry import Info


def viewer(info: Info) -> Any:
    """The user the request acts as (an AnonymousUser when nobody is signed in)."""
    return info.context.request.user


def api_token(info: Info) -> Any:
    """The API token the request authenticated with, if it used one."""
    return getattr(info.context.request, "escalated_token", None)
