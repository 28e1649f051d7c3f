"""Who is looking at a ticket right now. Entries expire on their own, so a client that vanishes
without saying goodbye drops out after ``PRESENCE_TTL_SECONDS``.

Kept in the database rather than a cache so that every ASGI process sees the same entries with
no extra configuration, and so that two processes writing at once cannot lose an entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class PresenceState(models.TextChoices):
    VIEWING = "viewing", _("Viewing")
    TYPING = "typing", _("Typing")


class TicketPresence(models.Model):
    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="presences",
        verbose_name=_("ticket"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    state = models.CharField(_("state"), max_length=16, choices=PresenceState.choices)
    updated_at = models.DateTimeField(_("updated"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        db_table = table_name("ticket_presence")
        verbose_name = _("ticket presence")
        verbose_name_plural = _("ticket presence")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="esc_presence_unique"),
        ]

    def __str__(self) -> str:
        return f"user #{self.user_id} {self.state} ticket #{self.ticket_id}"
