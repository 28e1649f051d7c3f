"""Who can take new work: agents' availability, and where each department's rotation stands."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")


class AgentProfile(models.Model):
    """An agent's working state. Agents without a row are available."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="escalated_agent_profile",
        verbose_name=_("agent"),
    )
    availability = models.CharField(
        _("availability"),
        max_length=16,
        choices=Availability.choices,
        default=Availability.AVAILABLE,
        help_text=_("Away agents get no new tickets from auto-assignment."),
    )
    availability_changed_at = models.DateTimeField(_("availability changed"), null=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("agent_profiles")
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return f"agent #{self.user_id}: {self.availability}"


class RoutingCursor(models.Model):
    """The agent a department last gave a ticket to: where its round robin continues.

    Routing locks this row for the rest of the creating transaction, so concurrent tickets of one
    department take their turns one after another. It lives apart from :class:`Department` so that
    editing the department never overwrites the rotation.
    """

    department = models.OneToOneField(
        "escalated.Department",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("department"),
    )
    last_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last agent"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("routing_cursors")
        verbose_name = _("routing cursor")
        verbose_name_plural = _("routing cursors")

    def __str__(self) -> str:
        return f"department #{self.department_id} last gave to #{self.last_agent_id}"
