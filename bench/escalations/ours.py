"""Benchmark runner for this version of Escalated; run.py starts it in this repository's .venv.

The rules are saved through the rule service, as the API saves them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this repository's escalated

import common
import dataset

settings.configure(
    SECRET_KEY="bench",
    USE_TZ=True,
    TIME_ZONE="UTC",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "strawberry_django",
        "django_filters",
        "channels",
        "escalated",
    ],
    DATABASES={"default": common.database()},
)
django.setup()

from escalated.access import SystemActor  # noqa: E402
from escalated.models import Department, Ticket  # noqa: E402
from escalated.services.escalation.rules import escalation_rule_create  # noqa: E402


def save_rules(departments: list[Any], agents: list[Any]) -> None:
    actor = SystemActor("bench")
    for spec in dataset.rules():
        hours = "age_hours" if spec.trigger == "time_based" else "no_response_hours"
        conditions: list[dict[str, Any]] = [
            {"field": hours, "value": spec.hours},
            {"field": "department", "value": departments[spec.department].pk},
            {"field": "ticket_type", "value": spec.ticket_type},
        ]
        if spec.statuses:
            conditions.append({"field": "status", "value": list(spec.statuses)})
        if spec.priorities:
            conditions.append({"field": "priority", "value": list(spec.priorities)})
        if spec.unassigned:
            conditions.append({"field": "assigned", "value": False})
        actions: list[dict[str, Any]] = []  # in the order 0.7.8 applies them
        if spec.set_priority:
            actions.append({"type": "change_priority", "value": spec.set_priority})
        if spec.escalate:
            actions.append({"type": "escalate", "value": ""})
        if spec.assign_to is not None:
            actions.append({"type": "assign_to", "value": agents[spec.assign_to].pk})
        if spec.move_to is not None:
            actions.append({"type": "change_department", "value": departments[spec.move_to].pk})
        escalation_rule_create(
            actor=actor,
            name=spec.name,
            trigger="time_based",
            conditions=conditions,
            actions=actions,
        )


VERSION = common.Version(
    name="this branch",
    department_model=Department,
    ticket_model=Ticket,
    assignee_field="assignee",
    save_rules=save_rules,
)

if __name__ == "__main__":
    common.main(VERSION)
