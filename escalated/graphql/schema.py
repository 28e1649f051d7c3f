"""The strawberry.Schema, with the production guards the settings ask for."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast
from strawberry.extensions import (
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger
from strawberry_django.optimizer import DjangoOptimizerExtension

from escalated.conf import escalated_settings
from escalated.graphql.delivery import DeliveryQueries
from escalated.graphql.escalation import EscalationQueries
from escalated.graphql.event_execution import SharedEventExecutionContext
from escalated.graphql.inbound import InboundMutations, InboundQueries
from escalated.graphql.mutations.agents import AgentMutations
from escalated.graphql.mutations.delivery import DeliveryMutations
from escalated.graphql.mutations.escalation import EscalationMutations
from escalated.graphql.mutations.guests import GuestMutations
from escalated.graphql.mutations.macros import MacroMutations
from escalated.graphql.mutations.organisation import OrganisationMutations
from escalated.graphql.mutations.presence import PresenceMutations
from escalated.graphql.mutations.ratings import RatingMutations
from escalated.graphql.mutations.sla import SlaMutations
from escalated.graphql.mutations.tickets import TicketMutations
from escalated.graphql.mutations.tokens import TokenMutations
from escalated.graphql.queries import Query as CoreQueries
from escalated.graphql.reports import ReportQueries
from escalated.graphql.settings import SettingsMutations, SettingsQueries
from escalated.graphql.sites import SiteMutations, SiteQueries
from escalated.graphql.subscriptions import Subscription
from escalated.graphql.validation import Validation

Query = merge_types(
    "Query",
    (
        CoreQueries,
        ReportQueries,
        DeliveryQueries,
        EscalationQueries,
        InboundQueries,
        SiteQueries,
        SettingsQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        TicketMutations,
        OrganisationMutations,
        TokenMutations,
        AgentMutations,
        MacroMutations,
        RatingMutations,
        GuestMutations,
        DeliveryMutations,
        SlaMutations,
        PresenceMutations,
        EscalationMutations,
        InboundMutations,
        SiteMutations,
        SettingsMutations,
    ),
)


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep errors raised on purpose: refusals, and the bad-argument
    errors strawberry's relay pagination raises (such as a `first` over the cap)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not (isinstance(original, ValueError) and _raised_in(original, RELAY_PACKAGE))


RELAY_PACKAGE = str(Path(strawberry.relay.__file__).parent)


def _raised_in(error: BaseException, package: str) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(package)


class _MaskErrors(MaskErrors):
    """MaskErrors, without its per-result runtime Protocol check when a streamed result carries
    no errors at all: the common case of every live event to every subscriber, where that check
    cost about a tenth of the delivery path."""

    def on_stream_result(self, result: Any) -> Iterator[None]:
        if any(getattr(result, name, None) for name in ("errors", "incremental", "completed")):
            yield from super().on_stream_result(result)
        else:
            self._stream_result_processed = True
            yield None


logger = logging.getLogger(__name__)


class EscalatedSchema(strawberry.Schema):
    """Logs what went wrong by what it is: an unexpected exception (the ones masked as
    "Unexpected error.") with its traceback at ERROR; a refusal, a validation error or a bad
    argument, which the client was told about and which is no fault of the server, as one line
    at INFO."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _should_mask(error):
                StrawberryLogger.error(error, execution_context)
            else:
                code = (error.extensions or {}).get("code", "GRAPHQL_ERROR")
                path = ".".join(map(str, error.path or ())) or "-"
                logger.info("GraphQL %s at %s: %s", code, path, error.message)

    async def stream(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        """Queries and mutations sent over the websocket run as they do over HTTP: the
        resolvers and services are synchronous and use the ORM, so the whole execution goes to
        a thread (as channels does for any ORM work), with the same schema, extensions and
        permissions. Subscriptions stream as before."""
        if _operation_type(query, operation_name) in (OperationType.QUERY, OperationType.MUTATION):
            result = await database_sync_to_async(self.execute_sync)(
                query,
                variable_values=variable_values,
                context_value=context_value,
                root_value=root_value,
                operation_name=operation_name,
                allowed_operation_types=allowed_operation_types,
            )
            return _one(result)
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )


def _operation_type(query: str | None, operation_name: str | None) -> OperationType | None:
    """The kind of operation a document asks for; None when it cannot say (strawberry then
    reports why, as for any request)."""
    try:
        document = parse(query or "", max_tokens=escalated_settings.MAX_QUERY_TOKENS)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    return operation.operation if operation is not None else None


async def _one(result: Any) -> AsyncIterator[Any]:
    yield result


def build_schema() -> strawberry.Schema:
    limits = escalated_settings
    # Factories, not instances: strawberry builds fresh extensions for every request.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        DjangoOptimizerExtension,
        lambda: MaxTokensLimiter(max_token_count=limits.MAX_QUERY_TOKENS),
        # Depth, aliases, introspection, input values, cost; the document-only part once per text.
        Validation,
        # Operations recur (webhook bodies, pages, clients' fixed queries): parse each once.
        # Bounded LRU, keyed by the text and the token limit, so the limit still applies.
        lambda: ParserCache(maxsize=256),
    ]
    mask = escalated_settings.MASK_ERRORS
    if mask if mask is not None else not settings.DEBUG:
        extensions.append(lambda: _MaskErrors(should_mask_error=_should_mask))
    return EscalatedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=escalated_settings.MAX_PAGE_SIZE),
        execution_context_class=SharedEventExecutionContext,
    )


schema = build_schema()
