"""Files attached to a ticket's opening message, a reply or an internal note."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Attachment(models.Model):
    """One stored file. The bytes live in a Django storage under a generated name; the name the
    uploader gave is kept, sanitised, for display and downloads only."""

    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("ticket"),
    )
    # Null: attached to the ticket's opening message.
    reply = models.ForeignKey(
        "escalated.Reply",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("reply"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(
        _("content type"), max_length=127, help_text=_("Sniffed from the bytes, not claimed.")
    )
    size = models.PositiveBigIntegerField(_("size in bytes"))
    # The storage alias the file was written to, so changing ATTACHMENT_STORAGE later does not
    # strand older files.
    storage = models.CharField(_("storage"), max_length=64, editable=False)
    storage_name = models.CharField(_("stored name"), max_length=255, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = table_name("attachments")
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_internal(self) -> bool:
        return self.reply is not None and self.reply.is_internal_note
