"""The admin pages: reports, the CRUD of departments, SLA policies, escalation rules, tags and
canned responses, the settings, and the pages of what else this project has (webhooks, macros,
API tokens, business hours). Links to features it does not have get :data:`UNAVAILABLE`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from escalated.conf import PRIORITIES
from escalated.inertia.forms import Form, as_bool, upper
from escalated.inertia.pages import Context, Page, Prop, constant, take
from escalated.inertia.shape import gid
from escalated.inertia.views import endpoint, form_view, page_view, url
from escalated.settings_store import SECRET_MASK, by_form_field, is_unsupported

# --- reports ------------------------------------------------------------------------------

REPORT_DAYS = (7, 30, 90)


def _days(request: HttpRequest) -> int:
    asked = request.GET.get("days", "")
    return int(asked) if asked.isdigit() and int(asked) in REPORT_DAYS else 30


def _report_window(request: HttpRequest, _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    start = today - timedelta(days=_days(request) - 1)
    return {"input": {"from": start.isoformat(), "to": today.isoformat()}}


def _report_props() -> dict[str, Prop]:
    def report(context: Context) -> dict[str, Any]:
        return context.data.get("report") or {}

    def hours(context: Context) -> float:
        seconds = (report(context).get("first_response") or {}).get("average_seconds")
        return round(seconds / 3600, 1) if seconds else 0

    def csat(context: Context) -> dict[str, Any]:
        summary = report(context).get("satisfaction") or {}
        counts = {str(r["rating"]): r["count"] for r in summary.get("breakdown", [])}
        return {
            "average": summary.get("average"),
            "total": summary.get("count", 0),
            "breakdown": {str(n): counts.get(str(n), 0) for n in range(1, 6)},
        }

    field = ("report",)
    return {
        "period_days": Prop(lambda c: _days(c.request)),
        "total_tickets": Prop(lambda c: report(c).get("created", 0), field),
        "resolved_tickets": Prop(lambda c: report(c).get("resolved", 0), field),
        "avg_first_response_hours": Prop(hours, field),
        "sla_breach_count": Prop(
            lambda c: sum(m["breached"] for m in report(c).get("sla", [])), field
        ),
        "by_status": Prop(
            lambda c: {r["status"]: r["count"] for r in report(c).get("by_status", [])}, field
        ),
        "by_priority": Prop(
            lambda c: {r["priority"]: r["count"] for r in report(c).get("by_priority", [])},
            field,
        ),
        "csat": Prop(csat, field),
    }


REPORTS = Page(
    "Escalated/Admin/Reports",
    "AdminReports",
    _report_props(),
    audience="admin",
    variables=_report_window,
)

# --- the CRUD pages -------------------------------------------------------------------------


def by_id(type_name: str) -> Any:
    return lambda _request, kwargs: {"id": gid(type_name, kwargs["id"])}


def _departments(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": d["id"],
            "name": d["name"],
            "slug": d["slug"],
            "description": d["description"],
            "is_active": d["is_active"],
            "tickets_count": d["tickets_count"] or 0,
            "agents_count": d["agents_count"] or 0,
        }
        for d in rows or []
    ]


def _policies(rows: Any) -> list[dict[str, Any]]:
    return list(rows or [])


def _rule_row(rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "trigger_type": rule.get("trigger")}


def _rule(rule: Any) -> dict[str, Any] | None:
    if not rule:
        return None
    rule = _rule_row(rule)
    rule["conditions"] = [{"field": c["field"], "value": c["value"]} for c in rule["conditions"]]
    return rule


PAGES = {
    "departments": Page(
        "Escalated/Admin/Departments/Index",
        "AdminDepartments",
        {"departments": take("departments", _departments)},
        audience="admin",
    ),
    "department_new": Page(
        "Escalated/Admin/Departments/Form", None, {"department": constant(None)}, audience="admin"
    ),
    "department_edit": Page(
        "Escalated/Admin/Departments/Form",
        "AdminDepartment",
        {"department": take("department")},
        audience="admin",
        variables=by_id("Department"),
        required=("department",),
    ),
    "policies": Page(
        "Escalated/Admin/SlaPolicies/Index",
        "AdminSlaPolicies",
        {"policies": take("policies", _policies)},
        audience="admin",
    ),
    "policy_new": Page(
        "Escalated/Admin/SlaPolicies/Form",
        None,
        {"policy": constant(None), "priorities": constant(list(PRIORITIES))},
        audience="admin",
    ),
    "policy_edit": Page(
        "Escalated/Admin/SlaPolicies/Form",
        "AdminSlaPolicy",
        {"policy": take("policy"), "priorities": constant(list(PRIORITIES))},
        audience="admin",
        variables=by_id("SlaPolicy"),
        required=("policy",),
    ),
    "rules": Page(
        "Escalated/Admin/EscalationRules/Index",
        "AdminEscalationRules",
        {"rules": take("rules", lambda rows: [_rule_row(r) for r in rows or []])},
        audience="admin",
    ),
    "rule_new": Page(
        "Escalated/Admin/EscalationRules/Form", None, {"rule": constant(None)}, audience="admin"
    ),
    "rule_edit": Page(
        "Escalated/Admin/EscalationRules/Form",
        "AdminEscalationRule",
        {"rule": take("rule", _rule)},
        audience="admin",
        variables=by_id("EscalationRule"),
        required=("rule",),
    ),
    "tags": Page(
        "Escalated/Admin/Tags/Index",
        "AdminTags",
        {
            "tags": take(
                "tags",
                lambda rows: [{**t, "tickets_count": t["tickets_count"] or 0} for t in rows or []],
            )
        },
        audience="admin",
    ),
    "responses": Page(
        "Escalated/Admin/CannedResponses/Index",
        "AdminCannedResponses",
        {"responses": take("responses")},
        audience="admin",
    ),
}

# --- the CRUD forms ---------------------------------------------------------------------------


def _department_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields = {
        "name": body.get("name"),
        "slug": body.get("slug") or "",
        "description": body.get("description") or "",
        "isActive": as_bool(body.get("is_active", True)),
    }
    return {"id": gid("Department", kwargs["id"]), **fields} if "id" in kwargs else fields


def _hours(value: Any) -> dict[str, float] | None:
    """{priority: hours} from the form, numbers as numbers; blanks left out."""
    if not isinstance(value, dict):
        return None
    hours: dict[str, float] = {}
    for priority, raw in value.items():
        if raw in (None, ""):
            continue
        try:
            hours[str(priority)] = float(raw)
        except (TypeError, ValueError):
            hours[str(priority)] = raw
    return hours


def _policy_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields = {
        "name": body.get("name"),
        "description": body.get("description") or "",
        "isDefault": as_bool(body.get("is_default", False)),
        "isActive": as_bool(body.get("is_active", True)),
        "businessHoursOnly": as_bool(body.get("business_hours_only", False)),
        "firstResponseHours": _hours(body.get("first_response_hours")),
        "resolutionHours": _hours(body.get("resolution_hours")),
    }
    return {"id": gid("SlaPolicy", kwargs["id"]), **fields} if "id" in kwargs else fields


def _order(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rule_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    conditions = [
        {"field": c.get("field"), "value": c.get("value")}
        for c in body.get("conditions") or []
        if isinstance(c, dict)
    ]
    actions = [
        {"type": a.get("type"), "value": a.get("value")}
        for a in body.get("actions") or []
        if isinstance(a, dict)
    ]
    fields = {
        "name": body.get("name"),
        "description": body.get("description") or "",
        "trigger": upper(body.get("trigger_type")),
        "conditions": conditions,
        "actions": actions,
        "order": _order(body.get("order")),
        "isActive": as_bool(body.get("is_active", True)),
    }
    return {"id": gid("EscalationRule", kwargs["id"]), **fields} if "id" in kwargs else fields


def _tag_input(body: dict[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    fields = {"name": body.get("name"), "color": body.get("color") or "#6B7280"}
    return {"id": gid("Tag", kwargs["id"]), **fields} if "id" in kwargs else fields


def _response_input(body: dict[str, Any], _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": body.get("title"),
        "body": body.get("body"),
        "category": body.get("category") or "",
        "isShared": as_bool(body.get("is_shared", True)),
    }


def delete_input(type_name: str) -> Any:
    return lambda _body, kwargs: {"id": gid(type_name, kwargs["id"])}


def redirect_to(name: str) -> Any:
    return lambda _request, _payload, _kwargs: url(name)


def crud_forms(
    entity: str, type_name: str, build: Any, noun: str, **options: Any
) -> dict[str, Form]:
    index = redirect_to(f"escalated.admin.{entity}.index")
    forms = {
        "store": Form(
            f"{type_name}Store",
            f"{_lower(type_name)}Create",
            build,
            index,
            f"{noun} created.",
            audience="admin",
            **options,
        ),
        "update": Form(
            f"{type_name}UpdatePut",
            f"{_lower(type_name)}Update",
            build,
            index,
            f"{noun} saved.",
            audience="admin",
            **options,
        ),
        "destroy": Form(
            f"{type_name}Destroy",
            f"{_lower(type_name)}Delete",
            delete_input(type_name),
            index,
            f"{noun} deleted.",
            audience="admin",
            **options,
        ),
    }
    return forms


def _lower(name: str) -> str:
    return name[0].lower() + name[1:]


DEPARTMENT_FORMS = crud_forms(
    "departments", "Department", _department_input, "Department", general_field="name"
)
POLICY_FORMS = crud_forms(
    "sla-policies", "SlaPolicy", _policy_input, "SLA policy", general_field="name"
)
RULE_FORMS = crud_forms(
    "escalation-rules",
    "EscalationRule",
    _rule_input,
    "Escalation rule",
    fields={"trigger": "trigger_type"},
    general_field="name",
)
TAG_FORMS = crud_forms("tags", "Tag", _tag_input, "Tag", general_field="name")
RESPONSE_FORMS = {
    "store": Form(
        "CannedResponseStore",
        "cannedResponseCreate",
        _response_input,
        redirect_to("escalated.admin.canned-responses.index"),
        "Canned response saved.",
        audience="admin",
        general_field="title",
    ),
    "destroy": Form(
        "CannedResponseDestroy",
        "cannedResponseDelete",
        delete_input("CannedResponse"),
        redirect_to("escalated.admin.canned-responses.index"),
        "Canned response deleted.",
        audience="admin",
        general_field="title",
    ),
}

# --- settings ---------------------------------------------------------------------------------

# What the page shows for the features this project does not have: all off.
UNSUPPORTED_SHOWN = {
    "widget_enabled": False,
    "knowledge_base_enabled": False,
    "knowledge_base_public": False,
    "knowledge_base_feedback_enabled": False,
    "chat_enabled": False,
}


def _settings(rows: Any) -> dict[str, Any]:
    shown: dict[str, Any] = dict(UNSUPPORTED_SHOWN)
    for row in rows or []:
        if row["is_secret"]:
            shown[row["key"]] = SECRET_MASK if row["is_set"] else ""
        else:
            shown[row["key"]] = row["value"]
    return shown


SETTINGS = Page(
    "Escalated/Admin/Settings",
    "AdminSettings",
    {
        "settings": take("settings", _settings),
        "departments": take(
            "departments", lambda rows: [{"id": d["id"], "name": d["name"]} for d in rows or []]
        ),
    },
    audience="admin",
)


def _settings_input(body: dict[str, Any], _kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The fields this project stores; the rest of the page's fields (chat, widget, knowledge
    base, and keys not registered here) are left out, so they change nothing."""
    known = by_form_field()
    return {"values": {k: v for k, v in body.items() if k in known and not is_unsupported(k)}}


SETTINGS_FORM = Form(
    "SettingsSave",
    "settingsUpdate",
    _settings_input,
    redirect_to("escalated.admin.settings"),
    "Settings saved.",
    audience="admin",
)


def _index(entity: str) -> Any:
    return lambda _kwargs: url(f"escalated.admin.{entity}.index")


def resource_urls(
    entity: str,
    forms: Mapping[str, Form],
    index: Page,
    new: Page | None = None,
    edit: Page | None = None,
) -> list[Any]:
    """The URLs of one admin resource: the list (GET) and store (POST), its create and edit
    pages when it has them, and update (PUT, PATCH) and destroy (DELETE) on a member."""
    n = f"escalated.admin.{entity}"
    back = _index(entity)
    patterns = endpoint(
        f"admin/{entity}/",
        GET=(f"{n}.index", page_view(index)),
        POST=(f"{n}.store", form_view(forms["store"], back)),
    )
    if new is not None:
        patterns += endpoint(f"admin/{entity}/create/", GET=(f"{n}.create", page_view(new)))
    if edit is not None:
        patterns += endpoint(f"admin/{entity}/<int:id>/edit/", GET=(f"{n}.edit", page_view(edit)))
    member: dict[str, Any] = {"DELETE": (f"{n}.destroy", form_view(forms["destroy"], back))}
    if "update" in forms:
        update = (f"{n}.update", form_view(forms["update"], back))
        member.update(PUT=update, PATCH=update)
    return patterns + endpoint(f"admin/{entity}/<int:id>/", **member)


def _to_queue(_request: HttpRequest, **_kwargs: Any) -> HttpResponse:
    """The sidebar's Tickets link: the queue is the agent's page, which admins have too."""
    return HttpResponseRedirect(url("escalated.agent.tickets.index"))


A = "escalated.admin"
urlpatterns = [
    *endpoint(
        "admin/",
        GET=(f"{A}.index", lambda request, **_k: HttpResponseRedirect(url(f"{A}.reports"))),
    ),
    *endpoint("admin/reports/", GET=(f"{A}.reports", page_view(REPORTS))),
    # The report's sub-pages this project has no separate views for show the same report.
    *endpoint("admin/reports/dashboard/", GET=(f"{A}.reports.dashboard", page_view(REPORTS))),
    *endpoint("admin/reports/agents/", GET=(f"{A}.reports.agents", page_view(REPORTS))),
    *endpoint("admin/reports/sla/", GET=(f"{A}.reports.sla", page_view(REPORTS))),
    *endpoint("admin/reports/csat/", GET=(f"{A}.reports.csat", page_view(REPORTS))),
    *endpoint("admin/tickets/", GET=(f"{A}.tickets.index", _to_queue)),
    *resource_urls(
        "departments",
        DEPARTMENT_FORMS,
        PAGES["departments"],
        PAGES["department_new"],
        PAGES["department_edit"],
    ),
    *resource_urls(
        "sla-policies", POLICY_FORMS, PAGES["policies"], PAGES["policy_new"], PAGES["policy_edit"]
    ),
    *resource_urls(
        "escalation-rules", RULE_FORMS, PAGES["rules"], PAGES["rule_new"], PAGES["rule_edit"]
    ),
    # Tags and canned responses are edited inline on their lists.
    *resource_urls("tags", TAG_FORMS, PAGES["tags"]),
    *resource_urls("canned-responses", RESPONSE_FORMS, PAGES["responses"]),
    *endpoint(
        "admin/settings/",
        GET=(f"{A}.settings", page_view(SETTINGS)),
        POST=(f"{A}.settings.update", form_view(SETTINGS_FORM, lambda _k: url(f"{A}.settings"))),
    ),
]
