"""API tokens for headless clients. Only a hash of each token is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiToken(models.Model):
    name = models.CharField(_("name"), max_length=120)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="escalated_api_tokens",
        verbose_name=_("user"),
    )
    # The first characters of the token, shown to people so they can tell tokens apart.
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True)
    # SHA-256 of the whole token. Tokens carry 256 bits of randomness, so a fast hash is enough.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = table_name("api_tokens")
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
