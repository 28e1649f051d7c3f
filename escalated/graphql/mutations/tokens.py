"""Mutations for API tokens."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import Info, relay

from escalated.errors import NotAllowed
from escalated.graphql.context import api_token, viewer
from escalated.graphql.enums import ApiTokenScope
from escalated.graphql.errors import UserError, mutation_payload
from escalated.graphql.ids import load, load_optional
from escalated.graphql.types import ApiTokenNode, UserNode
from escalated.models import TokenScope
from escalated.services import tokens as service

Errors = strawberry.field(default_factory=list)


@strawberry.input
class ApiTokenCreateInput:
    name: str | None = strawberry.field(
        default=None, description="Required; a typed REQUIRED error when missing."
    )
    user_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Admins only: issue the token for this person."
    )
    scopes: list[ApiTokenScope] = strawberry.field(
        default_factory=lambda: [TokenScope.READ, TokenScope.WRITE]
    )
    expires_at: datetime | None = None


@strawberry.type
class ApiTokenCreatePayload:
    api_token: ApiTokenNode | None = None
    token: str | None = strawberry.field(
        default=None, description="The token itself. Shown only in this response; store it now."
    )
    errors: list[UserError] = Errors


@strawberry.input
class ApiTokenRevokeInput:
    id: relay.GlobalID


@strawberry.type
class ApiTokenRevokePayload:
    api_token: ApiTokenNode | None = None
    errors: list[UserError] = Errors


@strawberry.type
class TokenMutations:
    @strawberry.mutation(
        description="Issue an API token for headless clients (from a signed-in session: a "
        "request authenticated by a token cannot issue tokens)."
    )
    @mutation_payload
    def api_token_create(self, info: Info, input: ApiTokenCreateInput) -> ApiTokenCreatePayload:
        if api_token(info) is not None:
            # Otherwise a leaked token could mint its own successor and outlive its revocation.
            raise NotAllowed("Issue API tokens from a signed-in session, not with a token.")
        token, raw = service.api_token_create(
            actor=viewer(info),
            name=input.name,
            user=load_optional(info, input.user_id, UserNode, field="user_id"),
            scopes=[str(scope) for scope in input.scopes],
            expires_at=input.expires_at,
        )
        return ApiTokenCreatePayload(api_token=token, token=raw)

    @strawberry.mutation(description="Revoke an API token at once.")
    @mutation_payload
    def api_token_revoke(self, info: Info, input: ApiTokenRevokeInput) -> ApiTokenRevokePayload:
        token = service.api_token_revoke(
            actor=viewer(info), token=load(info, input.id, ApiTokenNode, field="id")
        )
        return ApiTokenRevokePayload(api_token=token)
