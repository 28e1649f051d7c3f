"""Guest tickets: opened by someone without an account, reached through a magic link."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class GuestAccess(models.Model):
    """Who a guest ticket is for, and the hash of the one live token that opens it.

    The token is shown once (in the magic link) and stored only as a SHA-256 hash. Rotating it
    replaces the hash, so every earlier link stops working; claiming the ticket into an account
    clears it.
    """

    ticket = models.OneToOneField(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="guest_access",
        verbose_name=_("ticket"),
    )
    name = models.CharField(_("name"), max_length=150)
    # Lower-cased, so claiming matches whatever case the account uses.
    email = models.EmailField(_("email"), db_index=True)
    # The token's first characters, to find the candidate rows; the hash decides.
    token_prefix = models.CharField(_("token prefix"), max_length=16, db_index=True, blank=True)
    token_hash = models.CharField(
        _("token hash"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    token_issued_at = models.DateTimeField(_("token issued"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("claimed by"),
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = table_name("guest_access")
        verbose_name = _("guest access")
        verbose_name_plural = _("guest access")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> on ticket #{self.ticket_id}"

    @property
    def token_is_live(self) -> bool:
        return (
            self.token_hash is not None
            and self.token_expires_at is not None
            and self.token_expires_at > timezone.now()
        )
