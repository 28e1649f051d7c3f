"""Seed the demo helpdesk and print how to sign in. Safe to run again: data is created once,
and the demo's API tokens keep working from run to run.

A token is stored only as a hash, so the clear tokens are kept in the demo's own file
(``DEMO_TOKENS_FILE``, gitignored) to print them again; when that file is gone or one of its
tokens no longer works (revoked, user changed), the command issues new ones and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from escalated.access import SystemActor
from escalated.models import ApiToken, AssignmentMode, Department, Tag, Ticket
from escalated.services import macros, organisation, ratings, sla_admin, tickets, tokens
from escalated.services.escalation import rules as escalation_rules

SEEDER = SystemActor("command:seed_demo")
DEMO_TOKEN = "Demo token"

PEOPLE = [
    # username, password, first, last, role
    ("admin", "admin", "Ada", "Admin", "admin"),
    ("agent", "agent", "Alan", "Agent", "agent"),
    ("customer", "customer", "Cora", "Customer", "customer"),
]

TICKETS = [
    # subject, priority, department slug, ticket_type, story
    ("Charged twice for my subscription", "high", "billing", "problem", "agent-replied"),
    ("How do I export my invoices?", "low", "billing", "question", "open"),
    ("Login page shows a blank screen", "urgent", "support", "incident", "escalated"),
    ("Please add dark mode", "low", "support", "task", "resolved"),
    ("Password reset email never arrives", "high", "support", "problem", "customer-replied"),
    ("Cancel my account", "medium", "billing", "question", "closed"),
]


class Command(BaseCommand):
    help = "Create demo users, departments, tags and tickets; print credentials and API tokens."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            people = {row[0]: _person(*row) for row in PEOPLE}
            if not Ticket.objects.exists():
                self._organisation(people)
                self._tickets(people)
            issued, rotated = self._tokens(people)
        self._report(issued, rotated)

    def _organisation(self, people: dict[str, Any]) -> None:
        organisation.department_create(
            actor=SEEDER,
            name="Support",
            description="Product questions and problems.",
            agents=[people["agent"]],
            assignment_mode=AssignmentMode.ROUND_ROBIN,
        )
        organisation.department_create(
            actor=SEEDER,
            name="Billing",
            description="Invoices, refunds and plans.",
            agents=[people["agent"]],
        )
        for name, color in [("VIP", "#7C3AED"), ("Bug", "#DC2626"), ("Refund", "#059669")]:
            organisation.tag_create(actor=SEEDER, name=name, color=color)
        organisation.canned_response_create(
            actor=SEEDER,
            title="Thanks, looking into it",
            category="General",
            body="<p>Thanks for getting in touch. We are looking into this now.</p>",
        )
        organisation.canned_response_create(
            actor=SEEDER,
            title="Refund issued",
            category="Billing",
            body="<p>We have issued a refund; it reaches your account in 3-5 working days.</p>",
        )
        organisation.canned_response_create(
            actor=SEEDER,
            title="Greeting",
            category="General",
            body="<p>Hi {{ requester.first_name }}, thanks for writing about "
            "{{ ticket.reference }}. {{ agent.first_name }} here from {{ department.name }}.</p>",
        )
        macros.macro_create(
            actor=SEEDER,
            name="Refund and resolve",
            description="Tag the ticket, tell the customer, resolve it.",
            actions=[
                macros.MacroAction(type="add_tags", tag_ids=(Tag.objects.get(slug="refund").pk,)),
                macros.MacroAction(
                    type="add_reply",
                    body="<p>Hi {{ requester.first_name }}, your refund is on its way.</p>",
                ),
                macros.MacroAction(type="set_status", status="resolved"),
            ],
        )
        # The admin form's shape: hours per priority, on the default business schedule.
        sla_admin.sla_policy_create(
            actor=SEEDER,
            name="Standard",
            description="Business-hours targets for every ticket.",
            is_default=True,
            first_response_hours={"low": 24, "medium": 8, "high": 4, "urgent": 1, "critical": 0.5},
            resolution_hours={"low": 72, "medium": 24, "high": 8, "urgent": 4, "critical": 2},
            business_hours_only=True,
        )
        escalation_rules.escalation_rule_create(
            actor=SEEDER,
            name="Urgent and unanswered",
            description="Urgent tickets nobody has answered for an hour go up, and Support hears.",
            category="Response times",
            trigger="time_based",
            conditions=[
                {"field": "priority", "operator": "in", "value": ["urgent", "critical"]},
                {"field": "no_response_hours", "operator": "greater_than", "value": 1},
            ],
            actions=[
                {"type": "escalate", "value": "unanswered for an hour"},
                {"type": "notify", "value": {"to": "department", "message": "Please pick up."}},
            ],
        )
        escalation_rules.escalation_rule_create(
            actor=SEEDER,
            name="SLA missed: tell the assignee",
            category="SLA",
            trigger="sla_breach",
            actions=[
                {"type": "notify", "value": {"to": "assignee", "message": "An SLA was missed."}}
            ],
        )

    def _tickets(self, people: dict[str, Any]) -> None:
        customer, agent = people["customer"], people["agent"]
        for subject, priority, slug, kind, story in TICKETS:
            ticket = tickets.ticket_create(
                actor=customer,
                subject=subject,
                priority=priority,
                ticket_type=kind,
                description=f"{subject}. Could you help, please?",
                department=Department.objects.get(slug=slug),
            )
            if story == "open":
                continue
            ticket = tickets.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
            tickets.ticket_note_add(
                ticket=ticket, author=agent, body="Internal: checked the logs, see below."
            )
            tickets.ticket_reply(
                ticket=ticket, author=agent, body="<p>Thanks! We are on it and will update you.</p>"
            )
            if story == "customer-replied":
                tickets.ticket_reply(ticket=ticket, author=customer, body="<p>Any news?</p>")
            elif story == "escalated":
                tickets.ticket_escalate(ticket=ticket, actor=agent, reason="Affects many users")
                tickets.ticket_tags_add(
                    ticket=ticket, actor=agent, tags=Tag.objects.filter(slug="bug")
                )
            elif story in ("resolved", "closed"):
                tickets.ticket_resolve(ticket=ticket, actor=agent)
                if story == "closed":
                    tickets.ticket_close(ticket=ticket, actor=agent)
                    ratings.ticket_rate(
                        ticket=ticket, actor=customer, rating=5, comment="Quick and friendly."
                    )

    def _tokens(self, people: dict[str, Any]) -> tuple[dict[str, str], bool]:
        """The demo tokens, and whether they are new (the ones printed before are void)."""
        kept = _saved_tokens()
        if kept.keys() == people.keys() and all(
            (token := tokens.api_token_authenticate(kept[name])) is not None
            and token.user_id == user.pk
            for name, user in people.items()
        ):
            return kept, False
        ApiToken.objects.filter(name=DEMO_TOKEN).delete()
        issued = {
            username: tokens.api_token_create(actor=SEEDER, user=user, name=DEMO_TOKEN)[1]
            for username, user in people.items()
        }
        _save_tokens(issued)
        return issued, True

    def _report(self, issued: dict[str, str], rotated: bool) -> None:
        out = self.stdout.write
        site = f"http://127.0.0.1:{getattr(settings, 'DEMO_PORT', 8000)}"
        out(self.style.SUCCESS("Escalated demo is ready."))
        out(f"GraphiQL: {site}/support/graphql/")
        out(f"  admin: sign in at {site}/admin/login/ first (a browser session).")
        out("  anyone: put the token in GraphiQL's Headers tab, or send it with curl:")
        out('          {"Authorization": "Bearer <token>"}')
        mail = getattr(settings, "EMAIL_FILE_PATH", None)
        if mail:
            out(f"Emails the demo sends are files in {mail}/ (one per email).")
        out("")
        for username, password, *_rest, role in PEOPLE:
            out(
                f"  {role:<9} username {username:<9} password {password:<9} "
                f"token {issued[username]}"
            )
        out("")
        if rotated:
            out(
                self.style.WARNING(
                    "These API tokens are new: tokens printed by an earlier run no longer work."
                )
            )
        else:
            out("These API tokens are the ones printed before; they still work.")


def _tokens_file() -> Path | None:
    path = getattr(settings, "DEMO_TOKENS_FILE", None)
    return Path(path) if path else None


def _saved_tokens() -> dict[str, str]:
    path = _tokens_file()
    if path is None or not path.exists():
        return {}
    try:
        saved = json.loads(path.read_text())
    except ValueError:
        return {}
    return saved if isinstance(saved, dict) else {}


def _save_tokens(issued: dict[str, str]) -> None:
    path = _tokens_file()
    if path is not None:
        path.write_text(json.dumps(issued, indent=2) + "\n")
        path.chmod(0o600)


def _person(username: str, password: str, first: str, last: str, role: str) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
    )
    if created:
        user.set_password(password)
        if role == "admin":
            user.is_staff = True
            user.is_superuser = True
        user.save()
        if role == "agent":
            user.user_permissions.add(
                Permission.objects.get(codename="agent", content_type__app_label="escalated")
            )
    return user
