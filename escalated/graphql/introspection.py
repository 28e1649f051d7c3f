"""Whether the schema may be explored: introspection, and the "Did you mean …?" hints that give
field and type names away just as surely.

Both follow ``INTROSPECTION`` (``None``: ``DEBUG``), read on every request; with it off,
validation (:mod:`escalated.graphql.validation`) refuses ``__schema``/``__type`` and validates with
graphql-core's ``hide_suggestions``. Introspection queries are costed like any other (see
:mod:`escalated.graphql.cost`), so leaving it on in development does not open a way to tie up a
worker.
"""

from __future__ import annotations

from django.conf import settings

from escalated.conf import escalated_settings


def introspection_allowed() -> bool:
    allowed = escalated_settings.INTROSPECTION
    return bool(settings.DEBUG) if allowed is None else bool(allowed)
