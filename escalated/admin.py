"""Django admin pages: for looking things up and fixing data, not for working tickets (changes
made here bypass the services, so they send no signals and write no activity; tickets, replies
and their timeline are therefore read-only here)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from escalated.errors import DomainError, NotAllowed
from escalated.models import (
    AgentProfile,
    ApiToken,
    Attachment,
    BusinessSchedule,
    CannedResponse,
    Delivery,
    Department,
    EscalationRule,
    GuestAccess,
    Macro,
    Reply,
    RuleFiring,
    SatisfactionRating,
    SlaClock,
    SlaPolicy,
    Tag,
    Ticket,
    TicketActivity,
    TicketParticipant,
    TicketPresence,
    Webhook,
)
from escalated.services.escalation.rules import rule_check, rule_episodes_end
from escalated.services.outbox import delivery_retry


class ReadOnly:
    """Look, don't touch: tickets, replies and the timeline change only through the helpdesk's
    own pages and API, so every change passes the services (rules, activity row, signals,
    notifications). Here they can be found and read, not added, edited or deleted."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ReplyInline(ReadOnly, admin.TabularInline):
    model = Reply
    extra = 0
    fields = ("author", "is_internal_note", "is_pinned", "body", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("author",)


class ParticipantInline(ReadOnly, admin.TabularInline):
    model = TicketParticipant
    extra = 0
    fields = ("email", "name", "user", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)


@admin.register(Reply)
class ReplyAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("ticket", "author", "is_internal_note", "is_pinned", "created_at")
    list_filter = ("is_internal_note", "is_pinned")
    search_fields = ("body", "ticket__reference")
    raw_id_fields = ("ticket", "author")


@admin.register(Ticket)
class TicketAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "reference",
        "subject",
        "status",
        "priority",
        "department",
        "assignee",
        "requester",
        "created_at",
    )
    list_filter = ("status", "priority", "ticket_type", "channel", "department")
    search_fields = ("reference", "subject", "description")
    raw_id_fields = ("requester", "assignee")
    filter_horizontal = ("tags",)
    readonly_fields = (
        "reference",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "last_customer_message_at",
    )
    inlines = [ReplyInline, ParticipantInline]
    date_hierarchy = "created_at"


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "assignment_mode", "max_open_tickets_per_agent")
    list_filter = ("is_active", "assignment_mode")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("agents",)
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "color")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "is_shared", "owner")
    list_filter = ("is_shared", "category")
    search_fields = ("title", "body")


@admin.register(TicketActivity)
class TicketActivityAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("ticket", "verb", "actor", "actor_label", "created_at")
    list_filter = ("verb",)
    raw_id_fields = ("ticket", "actor")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "scopes", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "token_hash", "last_used_at", "created_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # issue tokens with the API or `manage.py escalated_token create`


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "ticket", "reply", "content_type", "size", "created_at")
    list_filter = ("content_type", "storage")
    search_fields = ("filename", "ticket__reference")
    raw_id_fields = ("ticket", "reply", "uploaded_by")
    readonly_fields = ("content_type", "size", "storage", "storage_name", "created_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # files arrive with a message, checked by the attachment service


@admin.register(GuestAccess)
class GuestAccessAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "ticket", "token_expires_at", "claimed_by", "claimed_at")
    search_fields = ("email", "name", "ticket__reference")
    raw_id_fields = ("ticket", "claimed_by")
    readonly_fields = (
        "token_prefix",
        "token_hash",
        "token_issued_at",
        "token_expires_at",
        "claimed_by",
        "claimed_at",
        "created_at",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # guests open tickets themselves; rotate links with guestTokenRotate


@admin.register(TicketParticipant)
class TicketParticipantAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "ticket", "user", "created_at")
    search_fields = ("email", "name", "ticket__reference")
    raw_id_fields = ("ticket", "user", "inbound_email")
    readonly_fields = ("ticket", "email", "inbound_email", "created_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # people are copied in by email; deleting one stops their replies


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "availability", "availability_changed_at")
    list_filter = ("availability",)
    raw_id_fields = ("user",)
    search_fields = ("user__username", "user__email")


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "is_shared", "owner", "updated_at")
    list_filter = ("is_shared",)
    search_fields = ("name", "description")
    raw_id_fields = ("owner",)


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("ticket", "rating", "rated_by", "created_at")
    list_filter = ("rating",)
    raw_id_fields = ("ticket", "rated_by")
    search_fields = ("ticket__reference", "comment")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the requester's words are theirs


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("url", "is_active", "events", "description", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox log, read-only; failed rows can be sent again."""

    list_display = (
        "created_at",
        "kind",
        "event",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
    )
    list_filter = ("status", "kind", "event")
    search_fields = ("recipient", "idempotency_key", "ticket__reference")
    raw_id_fields = ("ticket", "webhook", "recipient_user")
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # deliveries are written by the changes that cause them

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Send the selected deliveries again")
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        sent = 0
        for delivery in queryset:
            try:
                delivery_retry(actor=request.user, delivery=delivery)
                sent += 1
            except (DomainError, NotAllowed) as refusal:
                self.message_user(request, f"{delivery}: {refusal}", messages.WARNING)
        self.message_user(request, f"{sent} delivery(ies) queued to send again.")


@admin.register(BusinessSchedule)
class BusinessScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "holiday_country", "holiday_subdivision", "updated_at")
    search_fields = ("name",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active", "is_default", "schedule", "updated_at")
    list_filter = ("is_active", "is_default")
    list_editable = ("position",)
    filter_horizontal = ("departments", "tags")
    search_fields = ("name", "description")


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ("ticket", "metric", "cycle", "due_at", "met_at", "breached_at", "is_paused")
    list_filter = ("metric", "is_current", "is_paused", "business_hours")
    raw_id_fields = ("ticket", "policy")
    date_hierarchy = "due_at"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # clocks follow from each ticket's history

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(TicketPresence)
class TicketPresenceAdmin(admin.ModelAdmin):
    list_display = ("ticket", "user", "state", "updated_at", "expires_at")
    list_filter = ("state",)
    raw_id_fields = ("ticket", "user")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # presence is said by clients (ticketPresence), and lapses on its own


class EscalationRuleForm(forms.ModelForm):
    """Checks conditions and actions against the registries, as the API does."""

    class Meta:
        model = EscalationRule
        fields = (
            "name",
            "description",
            "category",
            "order",
            "is_active",
            "trigger",
            "match",
            "conditions",
            "actions",
            "stop_processing",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        draft = EscalationRule(
            trigger=cleaned.get("trigger") or "",
            match=cleaned.get("match") or "",
            description=cleaned.get("description") or "",
            category=cleaned.get("category") or "",
        )
        problems = rule_check(
            draft,
            conditions=cleaned.get("conditions"),
            actions=cleaned.get("actions"),
            order=cleaned.get("order"),
        )
        for problem in problems:
            field = (problem.field or "").split(".")[0]
            self.add_error(field if field in self.fields else None, problem.message)
        cleaned["conditions"], cleaned["actions"] = draft.conditions, draft.actions
        return cleaned


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = ("name", "trigger", "is_active", "order", "category", "stop_processing")
    list_filter = ("is_active", "trigger", "category")
    search_fields = ("name", "description")
    ordering = ("order", "id")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            rule_episodes_end(obj)


@admin.register(RuleFiring)
class RuleFiringAdmin(admin.ModelAdmin):
    list_display = ("rule", "ticket", "fired_at", "acted_at", "ended_at", "error")
    list_filter = ("rule",)
    raw_id_fields = ("rule", "ticket")
    date_hierarchy = "fired_at"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # rules fire; people do not

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the record of what rules did is not edited
