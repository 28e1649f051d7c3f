"""The audit timeline: one row per action on a ticket, whoever or whatever took it."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class TicketActivity(models.Model):
    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="activities",
        verbose_name=_("ticket"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Who acted when it was not a person (an escalation rule, a command): e.g. "rule:Urgent VIP".
    actor_label = models.CharField(_("actor label"), max_length=200, blank=True, default="")
    verb = models.CharField(_("verb"), max_length=40, db_index=True)
    before = models.JSONField(_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = table_name("ticket_activities")
        ordering = ["created_at", "id"]
        verbose_name = _("ticket activity")
        verbose_name_plural = _("ticket activities")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="esc_activity_ticket_created"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} on ticket #{self.ticket_id}"
