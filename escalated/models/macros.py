"""Macros: named, ordered lists of actions an agent applies to tickets in one go."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Macro(models.Model):
    """Shared macros are managed by admins; personal ones belong to one agent.

    ``actions`` is a list of ``{"type": ..., ...}`` objects, applied in order; see
    :mod:`escalated.services.macros` for the action types and their fields.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    actions = models.JSONField(_("actions"), default=list, encoder=DjangoJSONEncoder)
    is_shared = models.BooleanField(_("shared"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("macros")
        ordering = ["name", "id"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name
