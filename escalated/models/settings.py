"""The settings store: values admins changed from the Settings page, one row per key."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class StoredSetting(models.Model):
    """One admin-set value. A secret's value is kept only encrypted, in ``ciphertext``;
    ``value`` then stays null. See :mod:`escalated.settings_store`."""

    key = models.CharField(_("key"), max_length=100, unique=True)
    value = models.JSONField(_("value"), null=True, blank=True, encoder=DjangoJSONEncoder)
    ciphertext = models.TextField(_("encrypted value"), blank=True, default="")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        db_table = table_name("settings")
        ordering = ["key"]
        verbose_name = _("stored setting")
        verbose_name_plural = _("stored settings")

    def __str__(self) -> str:
        return self.key
