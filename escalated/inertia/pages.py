"""The page registry: each page is a component, one named operation, and its props.

A :class:`Prop` names the operation's top-level fields it is built from. Each such field in the
document carries ``@include(if: $with_<field>)``, so a partial reload (``X-Inertia-Partial-Data``)
runs only the fields the requested props need.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone

from escalated.inertia.shape import shape


@dataclass(frozen=True)
class Context:
    """What a prop is built from: the shaped result, the request and the URL's arguments."""

    request: HttpRequest
    data: dict[str, Any]
    kwargs: Mapping[str, Any]
    now: Any = field(default_factory=timezone.now)


@dataclass(frozen=True)
class Prop:
    build: Callable[[Context], Any]
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    component: str
    operation: str | None
    props: Mapping[str, Prop]
    # Who may open it: "any" (the operation decides), "signed_in", "staff" or "admin".
    audience: str = "signed_in"
    variables: Callable[[HttpRequest, Mapping[str, Any]], dict[str, Any]] = lambda _r, _k: {}
    # Top-level fields that must not be null when asked for (else the page is a 404).
    required: tuple[str, ...] = ()

    def fields(self) -> set[str]:
        return {f for prop in self.props.values() for f in prop.fields}


def wanted_props(request: HttpRequest, page: Page) -> list[str]:
    """The props to build: those a partial reload of this page asks for, else all."""
    partial = request.headers.get("X-Inertia-Partial-Component") == page.component
    header = request.headers.get("X-Inertia-Partial-Data")
    if not partial or header is None:
        return list(page.props)
    asked = {key.strip().split(".")[0] for key in header.split(",") if key.strip()}
    return [name for name in page.props if name in asked]


def page_props(request: HttpRequest, page: Page, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Run the page's operation for the wanted props and build them."""
    from escalated.inertia.execute import run

    names = wanted_props(request, page)
    needed = {f for name in names for f in page.props[name].fields}
    data: dict[str, Any] = {}
    if page.operation is not None and needed:
        variables = page.variables(request, kwargs)
        variables.update({f"with_{f}": f in needed for f in page.fields()})
        data = run(request, page.operation, variables)
        for name in page.required:
            if name in needed and data.get(name) is None:
                raise Http404(f"No such {name}.")
    context = Context(request=request, data=shape(data), kwargs=kwargs)
    return {name: page.props[name].build(context) for name in names}


def take(path: str, build: Callable[[Any], Any] = lambda value: value) -> Prop:
    """A prop that is one top-level field of the result, optionally reshaped."""
    top = path.split(".")[0]

    def prop(context: Context) -> Any:
        value: Any = context.data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return build(value)

    return Prop(build=prop, fields=(top,))


def constant(value: Any) -> Prop:
    return Prop(build=lambda _context: value)
