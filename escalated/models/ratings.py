"""Customer satisfaction: the requester's rating of a settled ticket."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name

MIN_RATING, MAX_RATING = 1, 5


class SatisfactionRating(models.Model):
    """One per ticket, given by its requester once the ticket is resolved or closed."""

    ticket = models.OneToOneField(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="satisfaction_rating",
        verbose_name=_("ticket"),
    )
    rating = models.PositiveSmallIntegerField(_("rating"), help_text=_("1 (poor) to 5 (great)."))
    comment = models.TextField(_("comment"), blank=True, default="")
    # Who rated: the requester, or nobody for a guest requester (no user account).
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    created_at = models.DateTimeField(_("rated"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = table_name("satisfaction_ratings")
        ordering = ["-created_at", "-id"]
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING),
                name="esc_rating_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for ticket #{self.ticket_id}"
