"""Validation of every operation, with the work that depends on the document alone done once.

What a request's document is checked for, all at validation, before anything runs:

* GraphQL's own rules and strawberry's (``MaybeNull``, ``OneOf``), the depth and alias limits
  (``MAX_QUERY_DEPTH``, ``MAX_ALIASES``), and with introspection off (:mod:`.introspection`)
  the refusal of ``__schema``/``__type`` and no "Did you mean …?" hints;
* the values no resolver should see (:mod:`.input_rules`) and the cost limit (:mod:`.cost`),
  which depend on the request's variables too.

The first group reads the document and the settings only, and pages and clients send the same
few documents over and over: its errors, and where the document's arguments are, are kept in a
bounded LRU keyed by the document's text, the rules and the settings they read. On the
development machine that group was nine tenths of validation and a fifth of a small page's
time (15 ms of the ticket detail page's operation at load ~15). The second group runs on every
request without a validation pass of its own: the cost is a walk of the selections, the input
check a loop over the arguments found once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from escalated.conf import escalated_settings
from escalated.graphql.cost import cost_errors
from escalated.graphql.input_rules import ArgumentSite, argument_sites, input_errors
from escalated.graphql.introspection import introspection_allowed

# Distinct documents kept; the support pages and a client's fixed queries are a few dozen.
CACHE_SIZE = 256


@lru_cache(maxsize=32)
def _limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ASTValidationRule], ...]:
    """strawberry's depth and alias rules for these limits, made once (its extensions make a new
    rule class each time they are built, which would defeat the cache below)."""
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )


@lru_cache(maxsize=CACHE_SIZE)
def _document_checks(
    schema: GraphQLSchema,
    query: str,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> tuple[tuple[GraphQLError, ...], tuple[ArgumentSite, ...]]:
    """What the document-only rules find, and the document's arguments, for one text. The
    arguments are kept from a parse of its own, so the nodes the errors point at are the same
    whichever copy of the document a request holds."""
    document = parse(query)  # the request's own parse applied the token limit
    errors = validate(schema, document, rules, hide_suggestions=hide_suggestions)
    return tuple(errors), argument_sites(schema, document)


class Validation(SchemaExtension):
    """Validates the operation (see the module docstring) in place of strawberry's own step."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            hidden = not introspection_allowed()
            rules = (
                *context.validation_rules,
                *_limit_rules(escalated_settings.MAX_QUERY_DEPTH, escalated_settings.MAX_ALIASES),
                MaybeNullValidationRule,
                OneOfInputValidationRule,
                *((NoSchemaIntrospectionCustomRule,) if hidden else ()),
            )
            schema = context.schema._schema
            if context.query is not None:
                found, sites = _document_checks(schema, context.query, rules, hidden)
                errors = list(found)
            else:  # a document given as such, not as text: nothing to key it by
                errors = validate(schema, document, rules, hide_suggestions=hidden)
                sites = argument_sites(schema, document)
            variables: Mapping[str, Any] = context.variables or {}
            errors += input_errors(schema, sites, variables)
            if not _is_fixed(context):
                errors += cost_errors(schema, document, variables)
            context.pre_execution_errors = errors
        yield


def _is_fixed(context: Any) -> bool:
    """Whether the operation is one of the package's own fixed documents (a page's: its context
    says so; or the same text word for word, as a cloud-mode site forwards its pages'
    operations). What those cost is decided when they are written, so the cost limit, which
    bounds what a client can make the server do with a document of its own, skips them."""
    from escalated.inertia.execute import is_fixed_document

    return getattr(context.context, "fixed_document", False) or is_fixed_document(
        context.query, context.operation_name
    )
