"""JSON schemas of the Inertia contract (../shared/INERTIA_CONTRACT.md): what each page's
props must look like for the shared Vue pages to render. Each page's schema lists the props
the contract names, with the types the pages rely on (real booleans, lowercase enum strings,
``tickets.data``); extra keys are allowed, as the pages ignore them.
"""

from __future__ import annotations

from typing import Any

STATUSES = [
    "open", "in_progress", "waiting_on_customer", "waiting_on_agent", "escalated", "resolved",
    "closed", "reopened",
]  # fmt: skip
PRIORITIES = ["low", "medium", "high", "urgent", "critical"]
TICKET_TYPES = ["question", "problem", "incident", "task"]

STRING = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NULLABLE_STRING = {"type": ["string", "null"]}
ISO = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"}
NULLABLE_ISO = {"anyOf": [ISO, {"type": "null"}]}


def obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **optional},
    }


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


NAMED = obj({"name": STRING})
ID_NAME = obj({"id": INT, "name": STRING})
PERSON = obj({"id": INT, "name": STRING})

SHARED = obj(
    {
        "escalated": obj(
            {
                "prefix": STRING,
                "is_agent": BOOL,
                "is_admin": BOOL,
                "show_powered_by": BOOL,
                "knowledge_base_enabled": {"const": False},
                "permissions": array(STRING),
                "agent_type": STRING,
            }
        ),
        "auth": obj({"user": nullable(obj({"id": INT, "name": STRING}))}),
        "errors": {"type": "object", "additionalProperties": STRING},
        "flash": obj({"success": NULLABLE_STRING, "error": NULLABLE_STRING}),
    }
)

TICKET_ROW = obj(
    {
        "id": INT,
        "reference": {"type": "string", "pattern": r"^[A-Z][A-Z0-9]*-\d+$"},
        "subject": STRING,
        "status": {"enum": STATUSES},
        "priority": {"enum": PRIORITIES},
        "ticket_type": {"enum": TICKET_TYPES},
        "created_at": ISO,
        "requester": nullable(NAMED),
        "assignee": nullable(NAMED),
        "department": nullable(NAMED),
        "latest_reply": nullable(obj({"created_at": ISO, "author": nullable(NAMED)})),
        "tags": array(ID_NAME),
        "sla_first_response_breached": BOOL,
        "sla_resolution_breached": BOOL,
        "first_response_due_at": NULLABLE_ISO,
        "resolution_due_at": NULLABLE_ISO,
    }
)
TICKETS = obj({"data": array(TICKET_ROW)})

ATTACHMENT = obj(
    {"id": INT, "original_filename": STRING, "mime_type": STRING, "size": INT, "url": STRING}
)
REPLY = obj(
    {
        "id": INT,
        "body": STRING,
        "is_internal_note": BOOL,
        "is_pinned": BOOL,
        "author": NAMED,
        "created_at": ISO,
        "attachments": array(ATTACHMENT),
    }
)
TICKET_THREAD = {
    "allOf": [
        TICKET_ROW,
        obj(
            {
                "description": STRING,
                "attachments": array(ATTACHMENT),
                "replies": array(REPLY),
                "satisfaction_rating": nullable(obj({"rating": INT, "comment": STRING})),
            }
        ),
    ]
}
AGENT_TICKET = {
    "allOf": [
        TICKET_THREAD,
        obj(
            {
                "pinned_notes": array(obj({"id": INT, "body": STRING, "author": NAMED})),
                "activities": array(
                    obj({"id": INT, "description": STRING, "created_at_human": STRING})
                ),
                "assigned_to": {"type": ["integer", "null"]},
                "channel": STRING,
            }
        ),
    ]
}
DEPARTMENT_OPTIONS = array(ID_NAME)
PRIORITY_STRINGS = array({"enum": PRIORITIES})
FILTERS = {"type": "object"}


def page(component: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["component", "props", "url", "version"],
        "properties": {
            "component": {"const": component},
            "props": {"allOf": [SHARED, obj(props)]},
            "url": STRING,
        },
    }


SLA_HOURS = {"type": "object", "additionalProperties": {"type": "number"}}

PAGES: dict[str, dict[str, Any]] = {
    "Escalated/Customer/Index": page(
        "Escalated/Customer/Index", {"tickets": TICKETS, "filters": FILTERS}
    ),
    "Escalated/Customer/Create": page(
        "Escalated/Customer/Create",
        {"departments": DEPARTMENT_OPTIONS, "priorities": PRIORITY_STRINGS},
    ),
    "Escalated/Customer/Show": page("Escalated/Customer/Show", {"ticket": TICKET_THREAD}),
    "Escalated/Guest/Create": page(
        "Escalated/Guest/Create",
        {"departments": DEPARTMENT_OPTIONS, "priorities": PRIORITY_STRINGS},
    ),
    "Escalated/Guest/Show": page(
        "Escalated/Guest/Show",
        {"ticket": TICKET_THREAD, "token": {"type": "string", "minLength": 20}},
    ),
    "Escalated/Agent/Dashboard": page(
        "Escalated/Agent/Dashboard",
        {
            "stats": obj(
                dict.fromkeys(
                    ("open", "my_assigned", "unassigned", "sla_breached", "resolved_today"), INT
                )
            ),
            "recentTickets": array(TICKET_ROW),
            "needsAttention": obj(
                {
                    "sla_breaching": array(obj({"id": INT, "reference": STRING})),
                    "unassigned_urgent": array(
                        obj({"id": INT, "reference": STRING, "priority": {"enum": PRIORITIES}})
                    ),
                }
            ),
            "myPerformance": {"type": "object"},
        },
    ),
    "Escalated/Agent/TicketIndex": page(
        "Escalated/Agent/TicketIndex",
        {
            "tickets": TICKETS,
            "filters": FILTERS,
            "departments": DEPARTMENT_OPTIONS,
            "tags": array(obj({"id": INT, "name": STRING, "color": STRING})),
        },
    ),
    "Escalated/Agent/TicketShow": page(
        "Escalated/Agent/TicketShow",
        {
            "ticket": AGENT_TICKET,
            "departments": DEPARTMENT_OPTIONS,
            "tags": array(obj({"id": INT, "name": STRING, "color": STRING})),
            "cannedResponses": array(obj({"id": INT, "title": STRING, "body": STRING})),
            "macros": array(obj({"id": INT, "name": STRING, "description": STRING})),
            "customActions": array({"type": "object"}),
            "is_following": BOOL,
            "followers_count": INT,
        },
    ),
    "Escalated/Admin/Reports": page(
        "Escalated/Admin/Reports",
        {
            "period_days": INT,
            "total_tickets": INT,
            "resolved_tickets": INT,
            "avg_first_response_hours": {"type": "number"},
            "sla_breach_count": INT,
            "by_status": {"type": "object", "propertyNames": {"enum": STATUSES}},
            "by_priority": {"type": "object", "propertyNames": {"enum": PRIORITIES}},
            "csat": obj(
                {
                    "average": {"type": ["number", "null"]},
                    "total": INT,
                    "breakdown": obj({str(n): INT for n in range(1, 6)}),
                }
            ),
        },
    ),
    "Escalated/Admin/Departments/Index": page(
        "Escalated/Admin/Departments/Index",
        {
            "departments": array(
                obj(
                    {
                        "id": INT,
                        "name": STRING,
                        "tickets_count": INT,
                        "agents_count": INT,
                        "is_active": BOOL,
                    }
                )
            )
        },
    ),
    "Escalated/Admin/Departments/Form": page(
        "Escalated/Admin/Departments/Form",
        {
            "department": nullable(
                obj(
                    {
                        "id": INT,
                        "name": STRING,
                        "slug": STRING,
                        "description": STRING,
                        "is_active": BOOL,
                    }
                )
            )
        },
    ),
    "Escalated/Admin/SlaPolicies/Index": page(
        "Escalated/Admin/SlaPolicies/Index",
        {
            "policies": array(
                obj(
                    {
                        "id": INT,
                        "name": STRING,
                        "is_default": BOOL,
                        "business_hours_only": BOOL,
                        "tickets_count": INT,
                        "is_active": BOOL,
                    }
                )
            )
        },
    ),
    "Escalated/Admin/SlaPolicies/Form": page(
        "Escalated/Admin/SlaPolicies/Form",
        {
            "policy": nullable(
                obj(
                    {
                        "name": STRING,
                        "description": STRING,
                        "is_default": BOOL,
                        "first_response_hours": SLA_HOURS,
                        "resolution_hours": SLA_HOURS,
                        "business_hours_only": BOOL,
                        "is_active": BOOL,
                    }
                )
            ),
            "priorities": PRIORITY_STRINGS,
        },
    ),
    "Escalated/Admin/EscalationRules/Index": page(
        "Escalated/Admin/EscalationRules/Index",
        {
            "rules": array(
                obj(
                    {
                        "id": INT,
                        "name": STRING,
                        "trigger_type": {
                            "enum": [
                                "time_based",
                                "sla_breach",
                                "priority_based",
                                "sla_warning",
                                "ticket_created",
                                "ticket_updated",
                                "customer_reply",
                            ]
                        },
                        "is_active": BOOL,
                        "order": INT,
                        "category": STRING,
                    }
                )
            )
        },
    ),
    "Escalated/Admin/EscalationRules/Form": page(
        "Escalated/Admin/EscalationRules/Form",
        {
            "rule": nullable(
                obj(
                    {
                        "name": STRING,
                        "description": STRING,
                        "trigger_type": STRING,
                        "conditions": array(obj({"field": STRING, "value": {}})),
                        "actions": array(obj({"type": STRING, "value": {}})),
                        "order": INT,
                        "is_active": BOOL,
                    }
                )
            )
        },
    ),
    "Escalated/Admin/Tags/Index": page(
        "Escalated/Admin/Tags/Index",
        {"tags": array(obj({"id": INT, "name": STRING, "color": STRING, "tickets_count": INT}))},
    ),
    "Escalated/Admin/CannedResponses/Index": page(
        "Escalated/Admin/CannedResponses/Index",
        {"responses": array(obj({"id": INT, "title": STRING, "body": STRING, "category": STRING}))},
    ),
    "Escalated/Admin/Settings": page(
        "Escalated/Admin/Settings",
        {
            "settings": obj(
                {
                    "guest_tickets_enabled": BOOL,
                    "allow_customer_close": BOOL,
                    "auto_close_resolved_after_days": {"type": ["integer", "null"]},
                    "max_attachments_per_reply": INT,
                    "max_attachment_size_kb": INT,
                    "ticket_reference_prefix": STRING,
                    "show_powered_by": BOOL,
                    "widget_enabled": {"const": False},
                    "chat_enabled": {"const": False},
                    "knowledge_base_enabled": {"const": False},
                }
            ),
            "departments": DEPARTMENT_OPTIONS,
        },
    ),
    "Escalated/Admin/Webhooks/Index": page(
        "Escalated/Admin/Webhooks/Index",
        {
            "webhooks": array(
                obj({"id": INT, "url": STRING, "active": BOOL, "events": array(STRING)})
            )
        },
    ),
    "Escalated/Admin/Webhooks/Form": page(
        "Escalated/Admin/Webhooks/Form",
        {"webhook": nullable({"type": "object"}), "availableEvents": array(STRING)},
    ),
    "Escalated/Admin/Macros/Index": page(
        "Escalated/Admin/Macros/Index",
        {
            "macros": array(
                obj(
                    {
                        "id": INT,
                        "name": STRING,
                        "is_shared": BOOL,
                        "actions": array(obj({"type": STRING})),
                    }
                )
            )
        },
    ),
    "Escalated/Admin/ApiTokens/Index": page(
        "Escalated/Admin/ApiTokens/Index",
        {
            "tokens": array(
                obj({"id": INT, "name": STRING, "is_expired": BOOL, "abilities": array(STRING)})
            ),
            "users": array(obj({"id": INT, "name": STRING})),
            "api_enabled": BOOL,
        },
    ),
    "Escalated/Admin/BusinessHours/Index": page(
        "Escalated/Admin/BusinessHours/Index",
        {
            "schedules": array(
                obj(
                    {
                        "id": INT,
                        "name": STRING,
                        "timezone": STRING,
                        "holidays": array({"type": "object"}),
                    }
                )
            )
        },
    ),
    "Escalated/Admin/BusinessHours/Form": page(
        "Escalated/Admin/BusinessHours/Form",
        {"schedule": nullable({"type": "object"}), "timezones": array(STRING)},
    ),
    "EscalatedDjango/Unavailable": page(
        "EscalatedDjango/Unavailable", {"feature": STRING, "title": STRING, "message": STRING}
    ),
}
