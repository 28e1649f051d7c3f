"""Django admin pages: for looking things up and fixing data, not for working tickets (changes
made here bypass the services, so they send no signals and write no activity)."""

from django.contrib import admin

from escalated.models import (
    ApiToken,
    CannedResponse,
    Department,
    Reply,
    Tag,
    Ticket,
    TicketActivity,
    TicketPresence,
)


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


@admin.register(TicketPresence)
class TicketPresenceAdmin(admin.ModelAdmin):
    list_display = ("ticket", "user", "state", "updated_at", "expires_at")
    list_filter = ("state",)
    raw_id_fields = ("ticket", "user")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # presence is said by clients (ticketPresence), and lapses on its own
