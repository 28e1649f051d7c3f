"""The strawberry.Schema, with the production guards the settings ask for."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import strawberry
from django.conf import settings
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from escalated.conf import escalated_settings
from escalated.graphql.cost import QueryCostLimiter
from escalated.graphql.delivery import DeliveryQueries
from escalated.graphql.escalation import EscalationQueries
from escalated.graphql.event_execution import SharedEventExecutionContext
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
from escalated.graphql.subscriptions import Subscription

Query = merge_types(
    "Query", (CoreQueries, ReportQueries, DeliveryQueries, EscalationQueries, SettingsQueries)
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


def build_schema() -> strawberry.Schema:
    limits = escalated_settings
    # Factories, not instances: strawberry builds fresh extensions for every request.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        DjangoOptimizerExtension,
        lambda: QueryDepthLimiter(max_depth=limits.MAX_QUERY_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=limits.MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=limits.MAX_QUERY_TOKENS),
        QueryCostLimiter,
        # Operations recur (webhook bodies, pages, clients' fixed queries): parse each once.
        # Bounded LRU, keyed by the text and the token limit, so the limit still applies.
        lambda: ParserCache(maxsize=256),
    ]
    mask = escalated_settings.MASK_ERRORS
    if mask if mask is not None else not settings.DEBUG:
        extensions.append(lambda: _MaskErrors(should_mask_error=_should_mask))
    if not escalated_settings.INTROSPECTION:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=escalated_settings.MAX_PAGE_SIZE),
        execution_context_class=SharedEventExecutionContext,
    )


schema = build_schema()
