"""Django admin pages: for looking things up and fixing data, not for working tickets (changes
made here bypass the services, so they send no signals and write no activity)."""

from typing import Any

from django import forms
from django.contrib import admin

from escalated.models import (
    ApiToken,
    CannedResponse,
    Department,
    EscalationRule,
    Reply,
    RuleFiring,
    Tag,
    Ticket,
    TicketActivity,
)
from escalated.services.escalation.rules import rule_check, rule_episodes_end


class ReplyInline(admin.TabularInline):
    model = Reply
    extra = 0
    fields = ("author", "is_internal_note", "is_pinned", "body", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("author",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
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
    inlines = [ReplyInline]
    date_hierarchy = "created_at"


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active")
    list_filter = ("is_active",)
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
class TicketActivityAdmin(admin.ModelAdmin):
    list_display = ("ticket", "verb", "actor", "actor_label", "created_at")
    list_filter = ("verb",)
    raw_id_fields = ("ticket", "actor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the audit timeline is not edited


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "scopes", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "token_hash", "last_used_at", "created_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # issue tokens with the API or `manage.py escalated_token create`


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
