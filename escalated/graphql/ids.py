"""Turning global ids from input into objects, through the same scoping as every read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from strawberry import Info, relay
from strawberry_django.utils.typing import get_django_definition

from escalated.errors import DomainError, not_found

M = TypeVar("M")


def _node_name(node: type) -> str:
    return node.__strawberry_definition__.name  # type: ignore[attr-defined]


def load(info: Info, gid: relay.GlobalID, node: type, *, field: str) -> Any:
    """The object ``gid`` names, if the viewer may see it; else a NOT_FOUND error on ``field``."""
    (found,) = load_each(info, [gid], node, field=field)
    if isinstance(found, DomainError):
        raise found
    return found


def load_each(info: Info, gids: Sequence[relay.GlobalID], node: type, *, field: str) -> list[Any]:
    """For each id, in order, the object it names if the viewer may see it, else a NOT_FOUND
    error on ``field``; one query for them all."""
    what = _node_name(node)
    model = get_django_definition(node, strict=True).model
    wanted: list[Any] = []  # the primary key each id names, or None
    for gid in gids:
        pk = None
        if gid.type_name == what:
            try:
                pk = model._meta.pk.to_python(gid.node_id)
            except (ValueError, TypeError, ValidationError):
                pk = None
        wanted.append(pk)
    found: dict[Any, Any] = {}
    if any(pk is not None for pk in wanted):
        queryset = node.get_queryset(model._default_manager.all(), info)  # type: ignore[attr-defined]
        found = {obj.pk: obj for obj in queryset.filter(pk__in={p for p in wanted if p})}
    missing = not_found(field, what.lower())
    return [found.get(pk, missing) if pk is not None else missing for pk in wanted]


def load_optional(info: Info, gid: relay.GlobalID | None, node: type, *, field: str) -> Any:
    return None if gid is None else load(info, gid, node, field=field)


def load_many(info: Info, gids: Iterable[relay.GlobalID], node: type, *, field: str) -> list[Any]:
    """Load every id (one query); any naming nothing visible is a NOT_FOUND error on ``field``."""
    loaded = load_each(info, list(gids), node, field=field)
    for item in loaded:
        if isinstance(item, DomainError):
            raise item
    return loaded
