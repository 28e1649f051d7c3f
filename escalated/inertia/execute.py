"""Running the door's named GraphQL operations for a request, in-process.

The operations live in ``operations/*.graphql``; fragments are shared between files, and each
operation is run as a document holding it and the fragments it uses. The schema is the API's,
the context carries the request, so the viewer, the scoping and the refusals are the API's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor
from strawberry.django.context import StrawberryDjangoContext

OPERATIONS_DIR = Path(__file__).parent / "operations"


@dataclass
class PageContext(StrawberryDjangoContext):
    """A page's request context: its operation is one of this package's fixed documents, so
    the API's cost limit (which bounds client-built documents) does not apply to it."""

    fixed_document: bool = True


class SignInRequired(Exception):
    """The operation refused someone not signed in: the view sends them to sign in."""


class TooManyRequests(Exception):
    """The operation was refused for now (RATE_LIMITED): a form shows the message, anything
    else answers 429 with ``Retry-After``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(Exception):
    """The variables did not fit the operation (a value outside an enum, a malformed id):
    ``problems`` maps the input field named in each error (camelCase, or "") to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# graphql-core names the offending field "at .priority" (older releases: "at 'input.priority'").
_AT_INPUT = re.compile(r"at '?(?:input)?\.(\w+)")


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: Any) -> None:
        self.names.add(node.name.value)


def _spread_names(node: Any) -> set[str]:
    visitor = _Spreads()
    visit(node, visitor)
    return visitor.names


@cache
def _definitions() -> tuple[dict[str, OperationDefinitionNode], dict[str, FragmentDefinitionNode]]:
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for path in sorted(OPERATIONS_DIR.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    return operations, fragments


@cache
def document(name: str) -> str:
    """The text of operation ``name`` with every fragment it uses."""
    operations, fragments = _definitions()
    operation = operations[name]
    needed: list[str] = []
    pending = sorted(_spread_names(operation))
    while pending:
        fragment = pending.pop()
        if fragment in needed:
            continue
        needed.append(fragment)
        pending.extend(_spread_names(fragments[fragment]) - set(needed))
    parts = [operation, *(fragments[f] for f in sorted(needed))]
    return print_ast(DocumentNode(definitions=tuple(parts)))


def operation_names() -> list[str]:
    return sorted(_definitions()[0])


def is_fixed_document(query: str | None, operation_name: str | None) -> bool:
    """Whether ``query`` is exactly the fixed document of the page operation it names (a
    cloud-mode site sends its pages' operations to the hub as text)."""
    operations = _definitions()[0]
    return bool(operation_name in operations and query == document(str(operation_name)))


def run(request: HttpRequest, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data of operation ``name`` run as ``request``'s viewer (on the hub, in cloud mode:
    :class:`escalated.cloud.forward.HubUnavailable` when it cannot answer).

    Payload errors stay in the data (forms read them). A top-level refusal becomes Django's
    answer to it: 403 for FORBIDDEN, :class:`SignInRequired` for UNAUTHENTICATED, 404 for
    NOT_FOUND, :class:`TooManyRequests` for RATE_LIMITED; anything else is a bug and raises.
    """
    from escalated.cloud import forward
    from escalated.graphql.schema import schema

    if forward.is_cloud():
        from escalated.authentication import request_actor

        answer = forward.operation(
            request_actor(request),
            document(name),
            variables or {},
            name,
            guest_token=getattr(request, "escalated_guest_token", None),
        )
        errors = [
            GraphQLError(str(e.get("message", "")), extensions=e.get("extensions") or {})
            for e in answer.get("errors") or []
        ]
        return _outcome(answer.get("data"), errors)
    result = schema.execute_sync(
        document(name),
        variable_values=variables or {},
        context_value=PageContext(request=request, response=HttpResponse()),
        operation_name=name,
    )
    return _outcome(result.data, list(result.errors or []))


def _outcome(data: dict[str, Any] | None, errors: list[GraphQLError]) -> dict[str, Any]:
    if errors:
        codes = {(error.extensions or {}).get("code") for error in errors}
        if "UNAUTHENTICATED" in codes:
            raise SignInRequired
        if "FORBIDDEN" in codes:
            raise PermissionDenied(errors[0].message)
        if "NOT_FOUND" in codes:
            raise Http404(errors[0].message)
        for error in errors:
            extensions = error.extensions or {}
            if extensions.get("code") == "RATE_LIMITED":
                raise TooManyRequests(error.message, int(extensions.get("retryAfter") or 1))
        if data is None and all(e.message.startswith("Variable '$") for e in errors):
            problems: dict[str, str] = {}
            for error in errors:
                found = _AT_INPUT.search(error.message)
                problems.setdefault(found.group(1) if found else "", "This value is not valid.")
            raise InvalidInput(problems)
        raise errors[0]
    return dict(data or {})
