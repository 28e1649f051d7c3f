"""Inbound email: one record per message received, kept from arrival to the ticket it made.

A message is stored (raw MIME in the attachment storage, this row in the database) before
anything else happens to it, then processed; processing can fail and be retried from the stored
bytes. The Message-ID is unique, so a provider's redelivery or a second IMAP pass finds the row
it already made and changes nothing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class InboundProvider(models.TextChoices):
    MAILGUN = "mailgun", _("Mailgun")
    POSTMARK = "postmark", _("Postmark")
    SES = "ses", _("Amazon SES")
    IMAP = "imap", _("IMAP")


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")  # stored, not processed yet
    PROCESSED = "processed", _("Processed")  # made a ticket or a reply
    IGNORED = "ignored", _("Ignored")  # an auto-reply, list mail, our own mail
    BOUNCED = "bounced", _("Bounced")  # a delivery status notification
    FAILED = "failed", _("Failed")  # processing raised; see error, retry when fixed


class InboundEmail(models.Model):
    provider = models.CharField(_("provider"), max_length=16, choices=InboundProvider.choices)
    # The message's own Message-ID, or "<sha256:…@escalated>" of its bytes when it has none.
    message_id = models.CharField(_("Message-ID"), max_length=500, unique=True)
    sender = models.CharField(_("sender"), max_length=320, blank=True, default="")
    sender_name = models.CharField(_("sender name"), max_length=255, blank=True, default="")
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True, default="")
    # The raw message: which storage alias and under which generated name.
    raw_storage = models.CharField(_("storage"), max_length=64, editable=False)
    raw_name = models.CharField(_("stored name"), max_length=255, editable=False)
    raw_size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    # Why it was ignored or bounced, in a few words ("auto-reply", "our own message", …).
    reason = models.CharField(_("reason"), max_length=255, blank=True, default="")
    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("ticket"),
    )
    reply = models.ForeignKey(
        "escalated.Reply",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reply"),
    )
    error = models.TextField(_("error"), blank=True, default="")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        db_table = table_name("inbound_emails")
        ordering = ["-created_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        indexes = [
            models.Index(fields=["status", "created_at"], name="esc_inbound_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.message_id} ({self.status})"
