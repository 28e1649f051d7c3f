"""Benchmark runner for escalated-django 0.7.8; run.py starts it in bench/escalations/.venv,
where 0.7.8 is installed from PyPI. It never imports this repository's code (the import names
are the same): only the shared dataset and timing helpers next to it.

It drives 0.7.8 the way its users do: the rules saved as 0.7.8 stores them (a trigger type,
condition and action dicts), evaluated by its own ``evaluate_escalations`` command.
"""

from __future__ import annotations

import sys

import common
import dataset
import django
from django.conf import settings

settings.configure(
    SECRET_KEY="bench",
    USE_TZ=True,
    TIME_ZONE="UTC",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "escalated",
    ],
    DATABASES={"default": common.database()},
    # 0.7.8 mails agents about escalations and assignments; sending is not what is measured.
    EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    ESCALATED={},
)
django.setup()


from escalated.models import Department, EscalationRule, Ticket  # noqa: E402

if "site-packages" not in (sys.modules["escalated"].__file__ or ""):
    raise SystemExit("seed.py must run escalated-django 0.7.8 from its own virtual environment")


def save_rules(departments: list[Department], agents: list[object]) -> None:
    for order, spec in enumerate(dataset.rules()):
        if spec.trigger == "time_based":
            trigger = EscalationRule.TriggerType.TIME_BASED
            conditions: dict[str, object] = {"hours_since_creation": spec.hours}
        else:
            trigger = EscalationRule.TriggerType.NO_RESPONSE
            conditions = {"no_response_hours": spec.hours}
        conditions["department_id"] = departments[spec.department].pk
        conditions["ticket_type"] = spec.ticket_type
        if spec.statuses:
            conditions["status"] = list(spec.statuses)
        if spec.priorities:
            conditions["priority"] = list(spec.priorities)
        if spec.unassigned:
            conditions["unassigned_only"] = True
        actions: dict[str, object] = {}
        if spec.set_priority:
            actions["set_priority"] = spec.set_priority
        if spec.escalate:
            actions["escalate"] = True
        if spec.assign_to is not None:
            actions["assign_to_id"] = agents[spec.assign_to].pk
        if spec.move_to is not None:
            actions["department_id"] = departments[spec.move_to].pk
        EscalationRule.objects.create(
            name=spec.name,
            trigger_type=trigger,
            conditions=conditions,
            actions=actions,
            order=order,
            is_active=True,
        )


if __name__ == "__main__":
    common.main(
        common.Version(
            name="escalated-django 0.7.8",
            department_model=Department,
            ticket_model=Ticket,
            assignee_field="assigned_to",
            save_rules=save_rules,
            ticket_defaults={"description": ""},
        )
    )
