"""Changing the admin-editable settings (the settings store; see escalated.settings_store)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from escalated.access import require_admin
from escalated.conf import OPTIONS, escalated_settings
from escalated.errors import DomainError, ErrorCode, Problem
from escalated.models import StoredSetting
from escalated.settings_store import (
    EDITABLE,
    SECRET_MASK,
    by_form_field,
    changed,
    configured,
    encrypt,
    is_unsupported,
    source_and_value,
)


@dataclass(frozen=True)
class SettingState:
    """One editable setting as an admin may see it: a secret's value is never included."""

    key: str
    name: str
    value: Any
    is_secret: bool
    is_set: bool
    source: str


def settings_list(*, actor: Any) -> list[SettingState]:
    require_admin(actor)
    user = escalated_settings._user()
    states = []
    for editable in EDITABLE.values():
        source, value = source_and_value(editable.name, OPTIONS[editable.name], user)
        states.append(
            SettingState(
                key=editable.form,
                name=editable.name,
                value=None if editable.secret else value,
                is_secret=editable.secret,
                is_set=value not in (None, ""),
                source=source,
            )
        )
    return states


def settings_update(
    *, actor: Any, values: Mapping[str, Any], reset: Iterable[str] = ()
) -> list[str]:
    """Store the given values (keyed by the Settings page's field names), or drop the stored
    value of the fields in ``reset``; answer the fields that changed.

    A value equal to what the host's configuration gives is not stored (so a later change to
    ``settings.ESCALATED`` or the environment still takes effect). A secret posted as
    :data:`SECRET_MASK` is left as it is; an empty one is removed. Fields of features this
    project does not have (chat, widget, knowledge base) are accepted and ignored. Every problem
    is reported at once, and nothing is changed when there is one.
    """
    require_admin(actor)
    user = escalated_settings._user()
    fields = by_form_field()
    problems: list[Problem] = []
    writes: dict[str, Any] = {}
    drops: set[str] = set()
    for field in reset:
        if field in fields:
            drops.add(fields[field].name)
        elif not is_unsupported(field):
            problems.append(Problem(f"Unknown setting {field!r}.", ErrorCode.UNKNOWN_FIELD, field))
    for field, raw in values.items():
        if is_unsupported(field):
            continue
        editable = fields.get(field)
        if editable is None:
            problems.append(Problem(f"Unknown setting {field!r}.", ErrorCode.UNKNOWN_FIELD, field))
            continue
        if editable.secret:
            if raw == SECRET_MASK:
                continue
            if raw in (None, ""):
                drops.add(editable.name)
                continue
        value = editable.coerce(raw)
        problem = OPTIONS[editable.name].check(value)
        if problem:
            problems.append(Problem(f"This setting {problem}.", ErrorCode.INVALID, field))
        elif (
            not editable.secret
            and value == configured(editable.name, OPTIONS[editable.name], user)[1]
        ):
            drops.add(editable.name)
        else:
            writes[editable.name] = value
    if problems:
        raise DomainError(problems=problems)
    with transaction.atomic():
        stored = {
            s.key: s
            for s in StoredSetting.objects.select_for_update().filter(key__in=set(writes) | drops)
        }
        touched = []
        for name in drops:
            if name in stored:
                stored[name].delete()
                touched.append(EDITABLE[name].form)
        for name, value in writes.items():
            row = stored.get(name) or StoredSetting(key=name)
            secret = EDITABLE[name].secret
            if not secret and row.pk is not None and row.value == value:
                continue
            row.value, row.ciphertext = (None, encrypt(str(value))) if secret else (value, "")
            row.updated_by = actor if getattr(actor, "pk", None) else None
            row.save()
            touched.append(EDITABLE[name].form)
        if touched:
            changed()
    return sorted(touched)
