"""Checks and clean-up for the text people type into tickets."""

from __future__ import annotations

import nh3

from escalated.errors import ErrorCode, Problem

MAX_SUBJECT = 255
MAX_BODY = 100_000


def required_text(value: str | None, *, field: str, max_length: int) -> list[Problem]:
    """Problems with a required, length-limited text field."""
    if value is None or not value.strip():
        return [Problem(f"{field.capitalize()} is required.", ErrorCode.REQUIRED, field)]
    return optional_text(value, field=field, max_length=max_length)


def optional_text(value: str | None, *, field: str, max_length: int) -> list[Problem]:
    if value and len(value) > max_length:
        return [
            Problem(
                f"{field.capitalize()} is {len(value)} characters long; the limit is {max_length}.",
                ErrorCode.TOO_LONG,
                field,
            )
        ]
    return []


def clean_html(body: str) -> str:
    """People's text (a ticket's description, a reply's body) is HTML shown to other people:
    keep safe markup, drop scripts and handlers. The one rule for both, in emails and pages."""
    return nh3.clean(body, link_rel="noopener noreferrer nofollow").strip()
