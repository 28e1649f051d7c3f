"""The ticket aggregate: tickets, their replies and notes, followers, participants, and the
reference counter."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalated.conf import table_name


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    WAITING_ON_AGENT = "waiting_on_agent", _("Waiting on agent")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


# Severity order, used wherever tickets sort by priority.
PRIORITY_RANK = {p.value: rank for rank, p in enumerate(Priority)}
STATUS_RANK = {s.value: rank for rank, s in enumerate(Status)}
# Statuses in which a ticket still needs work.
OPEN_STATUSES = frozenset(Status) - {Status.RESOLVED, Status.CLOSED}


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    PROBLEM = "problem", _("Problem")
    INCIDENT = "incident", _("Incident")
    TASK = "task", _("Task")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")


class Ticket(models.Model):
    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.MEDIUM
    )
    ticket_type = models.CharField(
        _("type"), max_length=16, choices=TicketType.choices, default=TicketType.QUESTION
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_requested_tickets",
        verbose_name=_("requester"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalated_assigned_tickets",
        verbose_name=_("assignee"),
    )
    department = models.ForeignKey(
        "escalated.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("department"),
    )
    tags = models.ManyToManyField(
        "escalated.Tag",
        related_name="tickets",
        blank=True,
        db_table=table_name("ticket_tags"),
        verbose_name=_("tags"),
    )
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="escalated.TicketFollower",
        related_name="escalated_followed_tickets",
        blank=True,
        verbose_name=_("followers"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The last change a customer or guest can see (escalated.events.PUBLIC_VERBS): their
    # updatedAt and "updated" order, so that notes and tag changes do not show through.
    public_activity_at = models.DateTimeField(_("last public activity"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(
        _("last customer message"), null=True, blank=True
    )
    # On a hub: the site the ticket belongs to, and the ticket's reference there.
    site = models.ForeignKey(
        "escalated.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("site"),
    )
    site_reference = models.CharField(
        _("reference on the site"), max_length=32, blank=True, default=""
    )

    class Meta:
        db_table = table_name("tickets")
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "priority"], name="esc_ticket_status_prio"),
            models.Index(fields=["assignee", "status"], name="esc_ticket_assignee_status"),
            models.Index(fields=["department", "status"], name="esc_ticket_dept_status"),
            models.Index(fields=["requester", "status"], name="esc_ticket_requester_status"),
            # Reports count tickets resolved in a window; close_resolved looks for old ones.
            models.Index(fields=["resolved_at"], name="esc_ticket_resolved_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "site_reference"],
                condition=models.Q(site__isnull=False),
                name="esc_ticket_site_reference",
            ),
        ]
        permissions = [
            ("admin", _("Can administer the helpdesk")),
            ("agent", _("Can work tickets as an agent")),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Reply(models.Model):
    """A message on a ticket: a public reply, or an internal note only staff can see."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="replies", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    # Who wrote it when that was not a user: a guest ("guest:jane@example.com") or a rule.
    author_label = models.CharField(_("author label"), max_length=255, blank=True, default="")
    body = models.TextField(_("body"))
    is_internal_note = models.BooleanField(_("internal note"), default=False)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    # Who the message speaks for, fixed when it is written: the helpdesk (an agent, an admin, a
    # rule) or the requester. SLA clocks read it to tell answers from questions.
    from_agent = models.BooleanField(_("from an agent"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = table_name("replies")
        ordering = ["created_at", "id"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="esc_reply_ticket_created"),
        ]

    def __str__(self) -> str:
        kind = "note" if self.is_internal_note else "reply"
        return f"{kind} #{self.pk} on ticket #{self.ticket_id}"


class TicketFollower(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = table_name("ticket_followers")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="esc_follower_unique"),
        ]
        verbose_name = _("ticket follower")
        verbose_name_plural = _("ticket followers")

    def __str__(self) -> str:
        return f"user #{self.user_id} follows ticket #{self.ticket_id}"


class TicketParticipant(models.Model):
    """Someone copied (Cc) on an email that reached the ticket, other than its requester and
    our own addresses. They may answer the ticket by email, as a public reply in their name;
    they get no portal access, no notification emails, and never see notes
    (escalated.access.ParticipantActor)."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="participants", verbose_name=_("ticket")
    )
    # Lower-cased: a reply is matched to its participant by the sender's address.
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=150, blank=True, default="")
    # The account with this address when they were copied, if any: their replies are theirs.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalated_participations",
        verbose_name=_("account"),
    )
    # The email that copied them in.
    inbound_email = models.ForeignKey(
        "escalated.InboundEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("copied on email"),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        db_table = table_name("ticket_participants")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "email"], name="esc_participant_unique"),
        ]
        verbose_name = _("ticket participant")
        verbose_name_plural = _("ticket participants")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> on ticket #{self.ticket_id}".strip()


class Counter(models.Model):
    """A named, gap-free sequence. Incremented under a row lock inside the caller's transaction."""

    name = models.CharField(primary_key=True, max_length=40)
    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = table_name("counters")
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
