"""The sync between a site and a hub: the sites a hub knows, the people and events it received
from them, and each ticket's sync state (on both sides).

A site (an app running Escalated in ``synced`` mode) pushes its ticket events to a hub (this
project in the hub role); the hub calls the site back with the changes its agents make. See
:mod:`escalated.hosted` and :mod:`escalated.hub`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Site(models.Model):
    """An app whose tickets a hub keeps. Only a hash of its key is stored."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    # The first characters of the key, to find its row and to tell keys apart.
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    # SHA-256 of the whole key. Keys carry 256 bits of randomness, so a fast hash is enough.
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    # Kept readable: the hub signs its calls to the site with it (HMAC needs the secret itself).
    signing_secret = models.CharField(_("signing secret"), max_length=128, editable=False)
    webhook_url = models.URLField(
        _("webhook URL"),
        max_length=500,
        blank=True,
        default="",
        help_text=_("The site's /support/cloud/webhook/; empty: hub changes are not sent back."),
    )
    department = models.ForeignKey(
        "escalated.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
        help_text=_("The hub department the site's tickets arrive in."),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("sites")
        ordering = ["name", "id"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SitePerson(models.Model):
    """A site's person as the hub knows them: a hub user without an email address (the site,
    not the hub, writes to its customers), keyed by the site's own id for them.

    ``role`` is what the site last said they are (a cloud-mode site asserts it with every
    operation; synced sites send only customers): a site's agent works that site's tickets on
    the hub and nothing else."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        AGENT = "agent", _("agent")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="people")
    remote_id = models.CharField(_("id on the site"), max_length=120)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    email = models.CharField(_("email on the site"), max_length=254, blank=True, default="")
    role = models.CharField(
        _("role on the site"), max_length=16, choices=Role.choices, default=Role.CUSTOMER
    )

    class Meta:
        db_table = table_name("site_people")
        constraints = [
            models.UniqueConstraint(fields=["site", "remote_id"], name="esc_site_person_unique"),
        ]
        verbose_name = _("site person")
        verbose_name_plural = _("site people")

    def __str__(self) -> str:
        return f"{self.remote_id} of site #{self.site_id}"


class SpentAssertion(models.Model):
    """A viewer assertion a cloud-mode site sent, by its ``jti``: the same assertion again is a
    replay and is refused. Rows are useless once ``expires_at`` has passed (the assertion would
    be refused as expired anyway) and are deleted as new ones arrive."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(_("assertion id"), max_length=64)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        db_table = table_name("spent_assertions")
        constraints = [
            models.UniqueConstraint(fields=["site", "jti"], name="esc_spent_assertion_unique"),
        ]
        verbose_name = _("spent viewer assertion")
        verbose_name_plural = _("spent viewer assertions")

    def __str__(self) -> str:
        return f"assertion {self.jti} of site #{self.site_id}"


class ReceivedEvent(models.Model):
    """An event applied here, by its sender's event_id: a repeat is recognised and changes
    nothing. ``source`` is ``site:<id>`` on a hub, ``hub`` on a site."""

    source = models.CharField(_("source"), max_length=32)
    event_id = models.CharField(_("event id"), max_length=64)
    event = models.CharField(_("event"), max_length=64)
    ticket = models.ForeignKey(
        "escalated.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("occurred"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        db_table = table_name("received_events")
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="esc_received_unique"),
        ]
        verbose_name = _("received event")
        verbose_name_plural = _("received events")

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} from {self.source}"


class SyncState(models.Model):
    """One synced ticket's bookkeeping.

    ``sequence`` (hub side): the last of the site's per-ticket sequence numbers applied.
    ``clocks``: when each synced field (``status``, ``priority``, ``subject``, ``tag:<slug>``)
    last changed, on either side, as ISO 8601: a change from the other side applies only when
    it happened later (the later occurrence wins, so both sides converge).
    """

    ticket = models.OneToOneField(
        "escalated.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="sync_state"
    )
    sequence = models.PositiveIntegerField(_("sequence"), default=0)
    clocks = models.JSONField(_("clocks"), default=dict)

    class Meta:
        db_table = table_name("sync_states")
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")

    def __str__(self) -> str:
        return f"sync of ticket #{self.ticket_id} at {self.sequence}"
