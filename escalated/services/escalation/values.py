"""Reading the values of conditions and actions.

A value arrives either as a client stored it (JSON numbers, booleans, lists) or as a person typed
it into the shared admin form, where every value is text (``"24"``, ``"true"``, ``"urgent"``).
Both are accepted and kept as given, so a rule reads back exactly as it was written; these
functions turn either form into the Python value the evaluator uses, or raise :class:`BadValue`
saying what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.apps import apps
from django.db.models import Model

from escalated.errors import ErrorCode, Problem

T = TypeVar("T")

MAX_HOURS = 100_000.0  # about eleven years: anything larger is a typo
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


class Referring:
    """A condition field or action whose values are primary keys of ``reference_model`` (an
    ``app_label.Model`` name): saving checks the rows exist, and the API gives global ids."""

    reference_model: str | None = None

    @property
    def reference(self) -> type[Model] | None:
        return None if self.reference_model is None else apps.get_model(self.reference_model)

    def map_references(self, value: Any, convert: Callable[[Any], Any]) -> Any:
        """``value`` as given, with ``convert`` applied to each row id in it (one id, or a list
        of them for in and not_in)."""
        if self.reference_model is None:
            return value
        if isinstance(value, list):
            return [convert(item) for item in value]
        return convert(value)


class BadValue(ValueError):
    """A value a condition or action cannot take; the message says what it takes instead."""


def parse_choice(value: Any, choices: type[Any], what: str) -> str:
    """One of a TextChoices' values, matched without regard to case or surrounding spaces."""
    if isinstance(value, str):
        wanted = value.strip().lower()
        if wanted in choices.values:
            return wanted
    raise BadValue(f"{value!r} is not a {what}; use one of {', '.join(choices.values)}.")


def parse_id(value: Any, what: str) -> int:
    """A primary key: a positive integer, or its digits as text."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    raise BadValue(f"{value!r} is not the id of a {what}.")


def parse_flag(value: Any) -> bool:
    """True or false, or text such as "true", "no", "1"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise BadValue(f"{value!r} is not true or false.")


def parse_hours(value: Any) -> float:
    """A number of hours, zero or more: a number, or its digits as text ("24", "1.5")."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not 0 <= number <= MAX_HOURS:
        raise BadValue(f"{value!r} is not a number of hours between 0 and {MAX_HOURS:g}.")
    return number


def parse_text(value: Any, *, max_length: int, required: bool) -> str:
    """Text, at most ``max_length`` characters; None counts as empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadValue(f"{value!r} is not text.")
    if required and not value.strip():
        raise BadValue("Text is required.")
    if len(value) > max_length:
        raise BadValue(f"The text is {len(value)} characters long; the limit is {max_length}.")
    return value


def registry_entry(
    raw: Any, key: str, registry: Mapping[str, T], *, path: str, what: str, unknown: ErrorCode
) -> tuple[T | None, list[Problem]]:
    """The registry entry a condition's field or an action's type names, or the problem: not
    an object, nothing named, or a name the registry does not know."""
    if not isinstance(raw, Mapping):
        return None, [Problem(f"A {what} is an object with a {key} and a value.", field=path)]
    name = raw.get(key)
    if not name:
        return None, [Problem(f"Choose a {what}.", ErrorCode.REQUIRED, f"{path}.{key}")]
    entry = registry.get(name) if isinstance(name, str) else None
    if entry is None:
        message = f"Unknown {what} {name!r}; use one of {', '.join(registry)}."
        return None, [Problem(message, unknown, f"{path}.{key}")]
    return entry, []
