"""default_role: both role permissions read in one statement, after the departments when those
do not decide, with the answers has_perm gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.access import Role, default_role, role_of
from escalated.models import Department
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename, content_type__app_label="escalated")


def _fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)


def test_each_role_costs_at_most_two_statements() -> None:
    customer = make_user("cora")
    member = make_user("alan")
    Department.objects.create(name="Billing", slug="billing").agents.add(member)
    grouped = make_user("gina")
    agents = Group.objects.create(name="Agents")
    agents.permissions.add(_permission("agent"))
    grouped.groups.add(agents)
    admin = make_user("ada", is_staff=True)
    admin.user_permissions.add(_permission("admin"))
    not_staff = make_user("nat")  # holds the admin permission without is_staff: not an admin
    not_staff.user_permissions.add(_permission("admin"))

    found, statements = {}, {}
    for user in (customer, member, grouped, admin, not_staff):
        user = _fresh(user)
        with CaptureQueriesContext(connection) as queries:
            found[user.username] = role_of(user)
        statements[user.username] = len(queries)

    assert found == {
        "cora": Role.CUSTOMER,
        "alan": Role.AGENT,
        "gina": Role.AGENT,
        "ada": Role.ADMIN,
        "nat": Role.CUSTOMER,
    }
    # Departments, then (unless they made an agent) both permissions at once; staff are asked
    # the permissions first.
    assert statements == {"cora": 2, "alan": 1, "gina": 2, "ada": 1, "nat": 2}


def test_an_inactive_department_makes_nobody_an_agent() -> None:
    user = make_user("alan")
    Department.objects.create(name="Old", slug="old", is_active=False).agents.add(user)

    assert default_role(_fresh(user)) is Role.CUSTOMER


class EveryoneAnAgent:
    """An authentication backend granting the agent permission to every user."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None

    def has_perm(self, user: Any, perm: str, obj: Any = None) -> bool:
        return perm == "escalated.agent"


def test_another_backend_is_asked_through_has_perm(settings: Any) -> None:
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "tests.test_roles.EveryoneAnAgent",
    ]
    user = make_user("cora")

    assert default_role(_fresh(user)) is Role.AGENT
