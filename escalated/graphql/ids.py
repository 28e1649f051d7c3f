"""Turning global ids from input into objects, through the same scoping as every read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from strawberry import Info, relay
from strawberry_django.utils.typing import get_django_definition

from escalated.errors import DomainError, collect, not_found

M = TypeVar("M")


def _node_name(node: type) -> str:
    return node.__strawberry_definition__.name  # type: ignore[attr-defined]


def load(info: Info, gid: relay.GlobalID, node: type, *, field: str) -> Any:
    """The object ``gid`` names, if the viewer may see it; else a NOT_FOUND error on ``field``."""
    what = _node_name(node)
    if gid.type_name != what:
        raise not_found(field, what.lower())
    model = get_django_definition(node, strict=True).model
    queryset = node.get_queryset(model._default_manager.all(), info)  # type: ignore[attr-defined]
    try:
        obj = queryset.filter(pk=gid.node_id).first()
    except (ValueError, TypeError, ValidationError):
        obj = None
    if obj is None:
        raise not_found(field, what.lower())
    return obj


def load_optional(info: Info, gid: relay.GlobalID | None, node: type, *, field: str) -> Any:
    return None if gid is None else load(info, gid, node, field=field)


def load_many(info: Info, gids: Iterable[relay.GlobalID], node: type, *, field: str) -> list[Any]:
    """Load each id; report every id that names nothing visible, all at once."""
    objects, problems = [], []
    for gid in gids:
        try:
            objects.append(load(info, gid, node, field=field))
        except DomainError as error:
            problems += error.problems
    collect(problems[:1])
    return objects
