"""How a helpdesk is organised: departments, tags and canned responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class AssignmentMode(models.TextChoices):
    """How a department hands its new tickets to its agents."""

    OFF = "off", _("Off: new tickets wait in the queue")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class Department(models.Model):
    """A team that works a queue of tickets; its members are agents."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="escalated_departments",
        blank=True,
        db_table=table_name("department_agents"),
        verbose_name=_("agents"),
    )
    assignment_mode = models.CharField(
        _("auto-assignment"),
        max_length=16,
        choices=AssignmentMode.choices,
        default=AssignmentMode.OFF,
        help_text=_("Give each new ticket to an available agent of the department."),
    )
    max_open_tickets_per_agent = models.PositiveIntegerField(
        _("open tickets per agent"),
        null=True,
        blank=True,
        help_text=_(
            "Auto-assignment skips agents who already hold this many open tickets (any "
            "department). Empty: no limit."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("departments")
        ordering = ["name", "id"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A label agents put on tickets to group and find them."""

    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    color = models.CharField(
        _("colour"), max_length=7, default="#6B7280", help_text=_("Hex colour, e.g. #4F46E5.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = table_name("tags")
        ordering = ["name", "id"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class SharedOrPersonal(models.Model):
    """A staff tool (canned response, macro) that is shared, and managed by admins, or personal,
    and its owner's. See ``access.visible_own_or_shared`` and ``access.require_may_manage``."""

    is_shared = models.BooleanField(_("shared"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class CannedResponse(SharedOrPersonal):
    """A saved answer. Shared ones are managed by admins; personal ones belong to one agent."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    category = models.CharField(_("category"), max_length=100, blank=True, default="")

    class Meta:
        db_table = table_name("canned_responses")
        ordering = ["category", "title", "id"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title
