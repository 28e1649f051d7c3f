"""How refusals reach a GraphQL client.

A :class:`~escalated.errors.DomainError` becomes ``UserError`` entries in the mutation's payload
(the operation changed nothing). A :class:`~escalated.errors.NotAllowed` becomes a top-level
GraphQL error with ``extensions.code`` FORBIDDEN, or UNAUTHENTICATED for nobody signed in.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

from escalated.access import Role, require_admin, require_staff, role_of
from escalated.errors import DomainError, NotAllowed, Problem, RateLimited
from escalated.graphql.context import (
    api_token,
    caller_key,
    cross_site_session,
    set_response_header,
    viewer,
)
from escalated.graphql.enums import UserErrorCode
from escalated.models import TokenScope
from escalated.services.ratelimit import mutation_budget_take


@strawberry.type(description="A problem with the input; the operation changed nothing.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase), or null for the input as a whole."
    )
    message: str
    code: UserErrorCode


def user_error(problem: Problem) -> UserError:
    field = to_camel_case(problem.field) if problem.field else None
    return UserError(field=field, message=problem.message, code=problem.code)


def user_errors(problems: list[Problem]) -> list[UserError]:
    return [user_error(p) for p in problems]


def refusal(actor: Any, message: str) -> GraphQLError:
    code = "UNAUTHENTICATED" if role_of(actor) is Role.ANONYMOUS else "FORBIDDEN"
    return GraphQLError(message, extensions={"code": code})


F = TypeVar("F", bound=Callable[..., Any])

# A participant is never a viewer (only inbound email acts as one), so admitted nowhere.
_SIGNED_IN = frozenset(Role) - {Role.ANONYMOUS, Role.GUEST, Role.PARTICIPANT}


def mutation_payload(resolver: F) -> F:
    """Wrap a mutation resolver: refuse anonymous callers, guests and read-only tokens, turn
    DomainError into payload errors and NotAllowed into a top-level error.

    The payload class is the resolver's return annotation; it must accept ``errors=``.
    """
    return _wrap(resolver, admits=_SIGNED_IN)


def staff_mutation_payload(resolver: F) -> F:
    """As :func:`mutation_payload`, refusing non-staff before any id in the input is looked up,
    so a customer hears "not allowed" rather than "no such agent"."""
    return _wrap(resolver, admits=_SIGNED_IN, gate=require_staff)


def admin_mutation_payload(resolver: F) -> F:
    """As :func:`mutation_payload`, refusing everyone but helpdesk admins before anything in the
    input is looked up."""
    return _wrap(resolver, admits=_SIGNED_IN, gate=require_admin)


def guest_mutation_payload(resolver: F) -> F:
    """As :func:`mutation_payload`, also open to guests holding a ticket's token. Use it only
    where a guest may act (reply, close, rate): the service's access check then confines them
    to their own ticket."""
    return _wrap(resolver, admits=_SIGNED_IN | {Role.GUEST})


def public_mutation_payload(resolver: F) -> F:
    """As :func:`mutation_payload`, open to everyone, signed in or not (guestTicketCreate). The
    service decides whether anonymous callers are welcome (a setting) and limits their rate."""
    return _wrap(resolver, admits=_SIGNED_IN | {Role.GUEST, Role.ANONYMOUS})


def _wrap(resolver: F, *, admits: frozenset[Role], gate: Callable[[Any], None] | None = None) -> F:
    signature = inspect.signature(resolver)

    @functools.wraps(resolver)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        info = kwargs["info"]
        actor = viewer(info)
        role = role_of(actor)
        if role not in admits:
            message = "Sign in first." if role is Role.ANONYMOUS else "A guest link cannot do this."
            raise refusal(actor, message)
        token = api_token(info)
        if token is not None and TokenScope.WRITE not in token.scopes:
            raise refusal(actor, "This API token is read-only.")
        if cross_site_session(info):
            # The websocket's twin of Django's CSRF check on a session-signed POST.
            raise refusal(actor, "A page of another site cannot run mutations with your session.")
        try:
            mutation_budget_take(caller_key(info))
            if gate is not None:
                gate(actor)
            return resolver(*args, **kwargs)
        except RateLimited as error:
            raise rate_limited(info, error) from error
        except DomainError as error:
            payload = _payload_class(resolver, signature)
            return payload(errors=user_errors(error.problems))
        except NotAllowed as error:
            raise refusal(actor, str(error)) from error

    return wrapper


def rate_limited(info: Any, error: RateLimited) -> GraphQLError:
    """A spent budget (MUTATION_RATE_LIMIT, MESSAGE_RATE_LIMIT): a top-level RATE_LIMITED
    error with ``retryAfter`` (seconds), and ``Retry-After`` on HTTP."""
    set_response_header(info, "Retry-After", str(error.retry_after))
    return GraphQLError(
        str(error), extensions={"code": "RATE_LIMITED", "retryAfter": error.retry_after}
    )


def _payload_class(resolver: Callable[..., Any], signature: inspect.Signature) -> Any:
    annotation = signature.return_annotation
    if isinstance(annotation, str):
        annotation = resolver.__globals__[annotation]
    return annotation
