"""Macros: named, ordered lists of actions an agent applies to tickets in one go."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name
from escalated.models.organisation import SharedOrPersonal


class Macro(SharedOrPersonal):
    """Shared macros are managed by admins; personal ones belong to one agent.

    ``actions`` is a list of ``{"type": ..., ...}`` objects, applied in order; see
    :mod:`escalated.services.macros` for the action types and their fields.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    actions = models.JSONField(_("actions"), default=list, encoder=DjangoJSONEncoder)

    class Meta:
        db_table = table_name("macros")
        ordering = ["name", "id"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name
