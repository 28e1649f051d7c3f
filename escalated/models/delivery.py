"""The way out: webhook endpoints, and the outbox of deliveries (emails and webhook calls).

A :class:`Delivery` row is written in the same transaction as the change that caused it, so a
rollback leaves nothing to send and a crash after the commit leaves the row to be sent later.
Workers claim rows, send them at least once, and retry with backoff until they succeed or run out
of attempts (see :mod:`escalated.services.outbox`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Webhook(models.Model):
    """An endpoint an admin registered to receive webhook calls."""

    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_("Event names; empty means every event.")
    )
    # Kept readable: the HMAC signature needs the secret itself, so it cannot be stored hashed.
    secret = models.CharField(_("secret"), max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("webhooks")
        ordering = ["created_at", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class DeliveryKind(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")
    # Synced mode: a site's event pushed to its hub, and a hub's change sent back to a site.
    HUB = "hub", _("Event to the hub")
    SITE = "site", _("Change to a site")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Delivery(models.Model):
    """One message to send: an email to one person, or one webhook call to one endpoint."""

    kind = models.CharField(_("kind"), max_length=16, choices=DeliveryKind.choices)
    event = models.CharField(_("event"), max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Sent to the receiver (webhook header and body, email Message-ID) so it can drop repeats.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, unique=True, default=new_idempotency_key
    )
    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("ticket"),
    )
    webhook = models.ForeignKey(
        Webhook,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("webhook endpoint"),
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient user"),
    )
    recipient = models.CharField(_("recipient"), max_length=500, help_text=_("Address or URL."))
    # Position in its ticket's ordered stream (hub and site deliveries): a row waits until the
    # rows of the same kind and ticket with a smaller sequence are delivered.
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    # What the message is built from (ids, template, event details) ...
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    # ... and the message itself, built at the first attempt and resent unchanged on retries.
    content = models.JSONField(_("content"), null=True, blank=True, encoder=DjangoJSONEncoder)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When a worker may (next) take the row. A claimed row's is the end of the worker's lease:
    # if the worker dies mid-send, the row is due again then.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        db_table = table_name("deliveries")
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            # What workers scan: only rows still to send, so the index stays small.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="esc_delivery_due",
            ),
            models.Index(fields=["status", "created_at"], name="esc_delivery_status_created"),
            # What the per-ticket order looks up: a ticket's undelivered sequenced rows.
            models.Index(
                fields=["ticket", "kind", "sequence"],
                condition=models.Q(sequence__isnull=False) & ~models.Q(status="delivered"),
                name="esc_delivery_stream",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event} to {self.recipient} ({self.status})"
