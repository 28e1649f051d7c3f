"""Service levels: business schedules, SLA policies, and the clocks they put on tickets."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Metric(models.TextChoices):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response", _("First response")
    # The time to answer each customer message that follows the first response.
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class BusinessSchedule(models.Model):
    """When the helpdesk works: weekly intervals in one time zone, less holidays.

    ``intervals`` holds ``{"weekday": 1-7, "start": "HH:MM", "end": "HH:MM"}`` entries (an end
    not after the start runs overnight); ``holidays`` holds ``{"date": "YYYY-MM-DD", "name": …,
    "yearly": bool}`` entries. Both are validated by the services that write them.
    """

    name = models.CharField(_("name"), max_length=120)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    intervals = models.JSONField(_("working intervals"), default=list, blank=True)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    holiday_country = models.CharField(
        _("holiday country"),
        max_length=8,
        blank=True,
        default="",
        help_text=_("ISO country code of a public-holiday calendar, e.g. US."),
    )
    holiday_subdivision = models.CharField(
        _("holiday subdivision"),
        max_length=16,
        blank=True,
        default="",
        help_text=_("State or region of that calendar, e.g. NY."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("business_schedules")
        ordering = ["name", "id"]
        verbose_name = _("business schedule")
        verbose_name_plural = _("business schedules")

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"


class SlaPolicy(models.Model):
    """Targets for tickets that match the policy's conditions.

    Active policies are tried in ``position`` order and the first whose conditions all hold
    applies; an empty condition holds for every ticket. The default policy applies when none
    matches. ``targets`` is ``{metric: {priority: {"seconds": int, "business_hours": bool}}}``;
    ``pause_statuses`` is ``{metric: [status, …]}``, a metric left out pausing in the statuses
    of the ``SLA["PAUSE_STATUSES"]`` setting.
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    schedule = models.ForeignKey(
        BusinessSchedule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        verbose_name=_("business schedule"),
        help_text=_("Empty: the schedule of the SLA['BUSINESS_HOURS'] setting."),
    )
    departments = models.ManyToManyField(
        "escalated.Department",
        blank=True,
        related_name="+",
        db_table=table_name("sla_policy_departments"),
        verbose_name=_("departments"),
        help_text=_("Matches tickets in any of these departments (empty: any)."),
    )
    ticket_types = models.JSONField(
        _("ticket types"), default=list, blank=True, help_text=_("Empty: any type.")
    )
    tags = models.ManyToManyField(
        "escalated.Tag",
        blank=True,
        related_name="+",
        db_table=table_name("sla_policy_tags"),
        verbose_name=_("tags"),
        help_text=_("Matches tickets carrying any of these tags (empty: any)."),
    )
    requester_is_guest = models.BooleanField(
        _("requester is a guest"), null=True, blank=True, help_text=_("Empty: either.")
    )
    targets = models.JSONField(_("targets"), default=dict, blank=True)
    pause_statuses = models.JSONField(_("pausing statuses"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("sla_policies")
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="esc_sla_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaClockQuerySet(models.QuerySet["SlaClock"]):
    """The questions asked of clocks in SQL (queue filters, escalation rules, reports)."""

    def current(self) -> SlaClockQuerySet:
        """The newest cycle of each metric of each ticket."""
        return self.filter(is_current=True)

    def breached(self, now: datetime) -> SlaClockQuerySet:
        """Clocks that ran out: met late, or unmet and past due at ``now``."""
        return self.filter(Q(met_at__isnull=True, due_at__lte=now) | Q(met_at__gt=F("due_at")))

    def unmet(self) -> SlaClockQuerySet:
        """Clocks still owed (running, or paused short of their target)."""
        return self.filter(met_at__isnull=True)


class SlaClock(models.Model):
    """One cycle of one metric on one ticket: when it started, when it is due, whether it was met
    in time. First response has one cycle; next response one per customer message that waits
    for an answer; resolution one more each time the ticket is reopened. The newest cycle of
    each metric is ``is_current``.

    Everything but ``warned_at`` and an unmet clock's ``breached_at`` is recomputed from the
    ticket's history whenever something that moves the clocks happens; those two record what
    ``check_sla`` has announced, so nothing is announced twice.
    """

    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="sla_clocks",
        verbose_name=_("ticket"),
    )
    policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clocks",
        verbose_name=_("policy"),
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    cycle = models.PositiveSmallIntegerField(_("cycle"), default=1)
    is_current = models.BooleanField(_("current"), default=True)
    target_seconds = models.PositiveIntegerField(_("target (seconds)"))
    business_hours = models.BooleanField(_("counts business hours"), default=False)
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(
        _("due"), null=True, blank=True, help_text=_("Empty while the clock is paused.")
    )
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    is_paused = models.BooleanField(_("paused"), default=False)
    remaining_seconds = models.IntegerField(
        _("remaining (seconds)"),
        null=True,
        blank=True,
        help_text=_(
            "Counted time left when the clock stopped (paused or met); empty while running."
        ),
    )
    active_seconds = models.PositiveIntegerField(
        _("running seconds"), default=0, help_text=_("Real seconds the clock ran.")
    )
    business_seconds = models.PositiveIntegerField(
        _("business seconds"),
        default=0,
        help_text=_("Seconds the clock ran inside the schedule's working time."),
    )
    paused_seconds = models.PositiveIntegerField(
        _("paused seconds"),
        default=0,
        help_text=_("Real seconds the clock stood paused, up to the pause still going on."),
    )
    paused_since = models.DateTimeField(
        _("paused since"), null=True, blank=True, help_text=_("Start of the pause going on.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        db_table = table_name("sla_clocks")
        ordering = ["ticket_id", "metric", "cycle"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle"], name="esc_slaclock_ticket_metric_cycle"
            ),
        ]
        indexes = [
            # check_sla's sweep reads only clocks still running towards a due instant.
            models.Index(
                fields=["due_at"], name="esc_slaclock_running_due", condition=Q(met_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} #{self.cycle} on ticket #{self.ticket_id}"
