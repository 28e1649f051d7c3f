"""The settings store over GraphQL: ``settings`` and ``settingsUpdate`` (admins only)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry import Info
from strawberry.scalars import JSON

from escalated.access import require_admin
from escalated.graphql.context import viewer
from escalated.graphql.errors import UserError, admin_mutation_payload
from escalated.graphql.queries import guard
from escalated.services import settings as service


@strawberry.enum(description="Where a setting's value comes from, strongest first.")
class SettingSource(Enum):
    DATABASE = "database"
    SETTINGS = "settings"
    ENVIRONMENT = "environment"
    DEFAULT = "default"


@strawberry.type(description="One setting admins may change from the Settings page.")
class Setting:
    key: str = strawberry.field(description="The Settings page's field, e.g. allow_customer_close.")
    name: str = strawberry.field(description="The ESCALATED key, e.g. ALLOW_CUSTOMER_CLOSE.")
    value: JSON | None = strawberry.field(
        description="The value in force; always null for a secret."
    )
    is_secret: bool
    is_set: bool = strawberry.field(description="Whether it has a value (for a secret: is set).")
    source: SettingSource


@strawberry.input
class SettingsUpdateInput:
    values: JSON = strawberry.field(
        description="New values keyed by the Settings page's field names. A secret sent empty "
        "is removed, sent as the page's mask it is kept; fields of features this project does "
        "not have (chat_*, widget_*, knowledge_base_*) are accepted and ignored."
    )
    reset: list[str] = strawberry.field(
        default_factory=list,
        description="Fields whose stored value is dropped, so the host's configuration applies.",
    )


@strawberry.type
class SettingsUpdatePayload:
    settings: list[Setting] | None = None
    changed: list[str] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _settings(actor: Any) -> list[Setting]:
    return [
        Setting(
            key=s.key,
            name=s.name,
            value=s.value,
            is_secret=s.is_secret,
            is_set=s.is_set,
            source=SettingSource(s.source),
        )
        for s in service.settings_list(actor=actor)
    ]


@strawberry.type
class SettingsQueries:
    @strawberry.field(description="The settings admins may change, with where each comes from.")
    def settings(self, info: Info) -> list[Setting]:
        guard(info, require_admin)
        return _settings(viewer(info))


@strawberry.type
class SettingsMutations:
    @strawberry.mutation(description="Change admin-editable settings (admins).")
    @admin_mutation_payload
    def settings_update(self, info: Info, input: SettingsUpdateInput) -> SettingsUpdatePayload:
        values = input.values if isinstance(input.values, dict) else {}
        changed = service.settings_update(actor=viewer(info), values=values, reset=input.reset)
        return SettingsUpdatePayload(settings=_settings(viewer(info)), changed=changed)
