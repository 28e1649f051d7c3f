"""Escalation rules and the record of when each fired on which ticket."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class RuleTrigger(models.TextChoices):
    """When a rule is looked at. What each one means lives in
    :mod:`escalated.services.escalation.triggers`."""

    TIME_BASED = "time_based", _("Time based")
    SLA_BREACH = "sla_breach", _("SLA breach")
    SLA_WARNING = "sla_warning", _("SLA warning")
    TICKET_CREATED = "ticket_created", _("Ticket created")
    TICKET_UPDATED = "ticket_updated", _("Ticket updated")
    CUSTOMER_REPLY = "customer_reply", _("Customer reply")
    PRIORITY_BASED = "priority_based", _("Priority based")


class RuleMatch(models.TextChoices):
    ALL = "all", _("All conditions")
    ANY = "any", _("Any condition")


class EscalationRule(models.Model):
    """Conditions on a ticket, and the actions to take on the tickets that meet them.

    ``conditions`` is a list of ``{"field", "operator", "value"}`` and ``actions`` an ordered
    list of ``{"type", "value"}``; both are checked against the registries in
    :mod:`escalated.services.escalation` when saved, so a stored rule always compiles.
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True, default="")
    category = models.CharField(_("category"), max_length=100, blank=True, default="")
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=32, choices=RuleTrigger.choices)
    match = models.CharField(
        _("match"), max_length=8, choices=RuleMatch.choices, default=RuleMatch.ALL
    )
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    stop_processing = models.BooleanField(
        _("stop processing"),
        default=False,
        help_text=_("Later rules leave alone the tickets this rule matches."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("escalation_rules")
        ordering = ["order", "id"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        indexes = [
            models.Index(fields=["is_active", "trigger"], name="esc_rule_active_trigger"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """One matching episode of a rule on a ticket: the rule fired when the ticket began to match
    (``fired_at``), its actions ran once (``acted_at``, with ``error`` if they were refused), and
    the episode ends when the ticket stops matching (``ended_at``). At most one episode per rule
    and ticket is open at a time; the database enforces it, so concurrent evaluators cannot
    both fire."""

    rule = models.ForeignKey(
        EscalationRule, on_delete=models.CASCADE, related_name="firings", verbose_name=_("rule")
    )
    ticket = models.ForeignKey(
        "escalated.Ticket",
        on_delete=models.CASCADE,
        related_name="rule_firings",
        verbose_name=_("ticket"),
    )
    fired_at = models.DateTimeField(_("fired"))
    acted_at = models.DateTimeField(_("acted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        db_table = table_name("escalation_rule_firings")
        ordering = ["-fired_at", "-id"]
        verbose_name = _("rule firing")
        verbose_name_plural = _("rule firings")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "ticket"],
                condition=Q(ended_at__isnull=True),
                name="esc_rule_firing_one_open",
            ),
        ]
        indexes = [
            models.Index(fields=["rule", "fired_at"], name="esc_firing_rule_fired"),
            models.Index(
                fields=["rule"],
                condition=Q(acted_at__isnull=True, ended_at__isnull=True),
                name="esc_firing_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"rule #{self.rule_id} on ticket #{self.ticket_id} at {self.fired_at:%Y-%m-%d %H:%M}"
