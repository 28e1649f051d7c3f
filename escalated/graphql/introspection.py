"""Whether the schema may be explored: introspection, and the "Did you mean …?" hints that give
field and type names away just as surely.

Both follow ``INTROSPECTION`` (``None``: ``DEBUG``), read on every request. Introspection
queries are costed like any other (see :mod:`escalated.graphql.cost`), so leaving it on in
development does not open a way to tie up a worker.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from graphql import validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from escalated.conf import escalated_settings


def introspection_allowed() -> bool:
    allowed = escalated_settings.INTROSPECTION
    return bool(settings.DEBUG) if allowed is None else bool(allowed)


class IntrospectionPolicy(SchemaExtension):
    """With introspection off: refuse ``__schema``/``__type`` at validation, and validate with
    graphql-core's ``hide_suggestions``, so that a mistyped name is not answered with the names
    that are there."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not introspection_allowed() and context.graphql_document is not None:
            rules = (
                *context.validation_rules,
                NoSchemaIntrospectionCustomRule,
                # strawberry's own rules, which it adds when it validates itself
                MaybeNullValidationRule,
                OneOfInputValidationRule,
            )
            # Strawberry validates only when nothing has yet: this takes its place.
            context.pre_execution_errors = validate(
                context.schema._schema, context.graphql_document, rules, hide_suggestions=True
            )
        yield
