"""Routing new tickets to agents: round robin and least loaded over the available agents, fair
under concurrency; agents' availability."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction

from escalated import signals
from escalated.access import SystemActor
from escalated.errors import DomainError, NotAllowed
from escalated.models import AssignmentMode, Department, Ticket, TicketActivity
from escalated.services import routing, tickets
from tests.conftest import World, data_of, gid, make_user


def _team(world: World, mode: str = AssignmentMode.ROUND_ROBIN, size: int = 4, **extra: Any):
    """A department of ``size`` agents, in id order, with the given assignment mode."""
    department = Department.objects.create(
        name="Support", slug="support", assignment_mode=mode, **extra
    )
    agents = [make_user(f"agent{n}", first=f"Agent{n}") for n in range(size)]
    department.agents.add(*agents)
    return department, agents


def _open(world: World, department: Department, count: int = 1) -> list[Ticket]:
    return [
        tickets.ticket_create(actor=world.customer, subject=f"Help {n}", department=department)
        for n in range(count)
    ]


def _assignees(made: list[Ticket]) -> list[Any]:
    return [t.assignee for t in made]


def test_round_robin_takes_turns_in_a_fixed_order_and_wraps(world: World) -> None:
    department, agents = _team(world)

    made = _open(world, department, 9)

    assert _assignees(made) == [*agents, *agents, agents[0]]


def test_round_robin_skips_away_agents_until_they_are_back(world: World) -> None:
    department, agents = _team(world, size=3)
    routing.agent_availability_set(actor=agents[1], agent=agents[1], availability="away")

    while_away = _open(world, department, 4)
    routing.agent_availability_set(actor=world.admin, agent=agents[1], availability="available")
    back = _open(world, department, 2)

    assert _assignees(while_away) == [agents[0], agents[2], agents[0], agents[2]]
    assert _assignees(back) == [agents[0], agents[1]]


def test_agents_at_the_open_ticket_cap_are_skipped(world: World) -> None:
    department, agents = _team(world, size=2, max_open_tickets_per_agent=2)
    busy = agents[0]
    elsewhere = tickets.ticket_create(
        actor=world.admin, requester=world.customer, subject="Elsewhere", assignee=busy
    )
    settled = tickets.ticket_create(
        actor=world.admin, requester=world.customer, subject="Done", assignee=busy
    )
    tickets.ticket_resolve(ticket=settled, actor=world.admin)

    made = _open(world, department, 4)

    # The cap counts open tickets in any department; a resolved one no longer weighs.
    assert _assignees(made) == [busy, agents[1], agents[1], None]
    assert elsewhere.department is None


def test_nobody_available_leaves_the_ticket_unassigned_in_the_queue(world: World) -> None:
    department, agents = _team(world, size=2)
    for agent in agents:
        routing.agent_availability_set(actor=agent, agent=agent, availability="away")

    (ticket,) = _open(world, department)

    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.department == department
    created = TicketActivity.objects.get(ticket=ticket, verb="created")
    assert "assignee" not in created.after and "routed" not in created.after


def test_inactive_accounts_and_departments_get_nothing(world: World) -> None:
    department, agents = _team(world, size=2)
    agents[0].is_active = False
    agents[0].save()

    assert _assignees(_open(world, department, 2)) == [agents[1], agents[1]]

    department.is_active = False
    department.save()
    with transaction.atomic():
        assert routing.next_agent(department) is None


def test_least_loaded_gives_to_the_lightest_and_takes_turns_among_equals(world: World) -> None:
    department, agents = _team(world, mode=AssignmentMode.LEAST_LOADED)
    for agent, load in zip(agents, [2, 1, 0, 0], strict=True):
        for n in range(load):
            tickets.ticket_create(
                actor=world.admin, requester=world.customer, subject=f"Load {n}", assignee=agent
            )

    made = _open(world, department, 6)

    # Loads 2,1,0,0 -> a2, a3 (now 2,1,1,1) -> a1, a2, a3 (2,2,2,2) -> a0.
    assert _assignees(made) == [agents[2], agents[3], agents[1], agents[2], agents[3], agents[0]]


def test_mode_off_and_explicit_assignees_are_left_alone(world: World) -> None:
    department, agents = _team(world, mode=AssignmentMode.OFF)

    (waiting,) = _open(world, department)
    department.assignment_mode = AssignmentMode.ROUND_ROBIN
    department.save()
    chosen = tickets.ticket_create(
        actor=world.admin,
        requester=world.customer,
        subject="For agent 2",
        department=department,
        assignee=agents[2],
    )
    (routed,) = _open(world, department)

    assert waiting.assignee is None
    assert chosen.assignee == agents[2]
    assert routed.assignee == agents[0], "an explicit choice does not take a turn"


def test_routing_is_recorded_on_the_created_row_and_announced(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    department, agents = _team(world, size=1)
    heard: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs["agent"])

    signals.ticket_assigned.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            (ticket,) = _open(world, department)
    finally:
        signals.ticket_assigned.disconnect(receiver)

    created = TicketActivity.objects.get(ticket=ticket)
    assert created.verb == "created"
    assert created.after["assignee"] == {"id": agents[0].pk, "name": "Agent0"}
    assert created.after["routed"] == "round_robin"
    assert heard == [agents[0]]


def test_a_rolled_back_ticket_gives_its_turn_back(world: World) -> None:
    department, agents = _team(world, size=2)

    with pytest.raises(RuntimeError), transaction.atomic():
        _open(world, department)
        raise RuntimeError("the host's own save failed")

    assert _assignees(_open(world, department)) == [agents[0]]


def test_auto_assign_an_existing_ticket_with_a_chosen_mode(world: World) -> None:
    department, agents = _team(world, mode=AssignmentMode.OFF, size=2)
    (ticket,) = _open(world, department)
    rule = SystemActor("rule:Unanswered for a day")

    first = tickets.ticket_auto_assign(ticket=ticket, actor=rule, mode=AssignmentMode.ROUND_ROBIN)
    second = tickets.ticket_auto_assign(ticket=ticket, actor=rule, mode=AssignmentMode.ROUND_ROBIN)
    off = tickets.ticket_auto_assign(ticket=ticket, actor=rule)

    assert (first, second, off) == (agents[0], agents[1], None)
    ticket.refresh_from_db()
    assert ticket.assignee == agents[1]
    assigned = TicketActivity.objects.filter(ticket=ticket, verb="assigned").latest("id")
    assert assigned.actor_label == "rule:Unanswered for a day"


def test_auto_assign_into_another_department_checks_the_assignee(world: World) -> None:
    department, _agents = _team(world, size=1)

    with pytest.raises(DomainError) as refused:
        tickets.ticket_auto_assign(ticket=world.ticket, actor=world.admin, department=department)

    assert refused.value.problems[0].code == "invalid_assignee"


@pytest.mark.django_db(transaction=True)
def test_next_agent_refuses_to_run_outside_a_transaction() -> None:
    department = Department.objects.create(name="Support", slug="support")

    with pytest.raises(RuntimeError, match="inside the transaction"):
        routing.next_agent(department)


# --- availability -----------------------------------------------------------------------------

SET = """mutation($input: AgentAvailabilitySetInput!) { agentAvailabilitySet(input: $input) {
    agent { username: name availability } availability errors { field code } } }"""


def test_agents_set_their_own_availability(world: World, gql: Any) -> None:
    result = data_of(gql(SET, {"input": {"availability": "AWAY"}}, user=world.agent))

    assert result["agentAvailabilitySet"] == {
        "agent": {"username": "Alan Agent", "availability": "AWAY"},
        "availability": "AWAY",
        "errors": [],
    }
    assert routing.agent_availability(world.agent) == "away"


def test_only_admins_set_someone_elses_availability(world: World, gql: Any) -> None:
    variables = {"input": {"availability": "AWAY", "agentId": gid(world.outsider)}}

    refused = gql(SET, variables, user=world.agent)
    allowed = data_of(gql(SET, variables, user=world.admin))

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allowed["agentAvailabilitySet"]["availability"] == "AWAY"
    with pytest.raises(NotAllowed):
        routing.agent_availability_set(actor=world.agent, agent=world.admin, availability="away")


def test_a_customer_cannot_be_marked_as_an_agent(world: World, gql: Any) -> None:
    variables = {"input": {"availability": "AWAY", "agentId": gid(world.customer)}}

    result = data_of(gql(SET, variables, user=world.admin))

    assert result["agentAvailabilitySet"]["errors"] == [{"field": "agentId", "code": "INVALID"}]


def test_setting_the_same_availability_again_changes_nothing(world: World) -> None:
    first = routing.agent_availability_set(
        actor=world.agent, agent=world.agent, availability="away"
    )
    again = routing.agent_availability_set(
        actor=world.agent, agent=world.agent, availability="away"
    )

    assert again.availability_changed_at == first.availability_changed_at


def test_availability_is_shown_to_staff_only(world: World, gql: Any) -> None:
    routing.agent_availability_set(actor=world.agent, agent=world.agent, availability="away")
    query = "query($id: ID!) { node(id: $id) { ... on User { availability } } }"
    tickets.ticket_assign(ticket=world.ticket, actor=world.admin, assignee=world.agent)

    as_admin = data_of(gql(query, {"id": gid(world.agent)}, user=world.admin))
    as_customer = data_of(gql(query, {"id": gid(world.agent)}, user=world.customer))

    assert as_admin["node"] == {"availability": "AWAY"}
    assert as_customer["node"] == {"availability": None}


# --- configuring a department ------------------------------------------------------------------

UPDATE = """mutation($input: DepartmentUpdateInput!) { departmentUpdate(input: $input) {
    department { assignmentMode maxOpenTicketsPerAgent } errors { field code } } }"""


def test_admins_turn_on_routing_and_a_cap_and_clear_the_cap(world: World, gql: Any) -> None:
    on = {"id": gid(world.billing), "assignmentMode": "LEAST_LOADED", "maxOpenTicketsPerAgent": 5}

    turned_on = data_of(gql(UPDATE, {"input": on}, user=world.admin))
    bad = data_of(
        gql(
            UPDATE,
            {"input": {"id": gid(world.billing), "maxOpenTicketsPerAgent": 0}},
            user=world.admin,
        )
    )
    cleared = data_of(
        gql(
            UPDATE,
            {"input": {"id": gid(world.billing), "maxOpenTicketsPerAgent": None}},
            user=world.admin,
        )
    )

    assert turned_on["departmentUpdate"]["department"] == {
        "assignmentMode": "LEAST_LOADED",
        "maxOpenTicketsPerAgent": 5,
    }
    assert bad["departmentUpdate"]["errors"] == [
        {"field": "maxOpenTicketsPerAgent", "code": "INVALID"}
    ]
    assert cleared["departmentUpdate"]["department"] == {
        "assignmentMode": "LEAST_LOADED",
        "maxOpenTicketsPerAgent": None,
    }


def test_a_customer_ticket_through_the_api_is_routed(world: World, gql: Any) -> None:
    world.billing.assignment_mode = AssignmentMode.ROUND_ROBIN
    world.billing.save()
    create = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
        ticket { assignee { name } department { name } } errors { code } } }"""

    result = data_of(
        gql(
            create,
            {"input": {"subject": "Refund", "departmentId": gid(world.billing)}},
            user=world.customer,
        )
    )

    assert result["ticketCreate"]["ticket"] == {
        "assignee": {"name": "Alan Agent"},
        "department": {"name": "Billing"},
    }


# --- fairness under concurrency ----------------------------------------------------------------


def _create_in_parallel(department: Department, customer: Any, threads: int, each: int) -> None:
    """Open ``threads * each`` tickets from ``threads`` threads, each on its own connection."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for k in range(each):
                tickets.ticket_create(actor=customer, subject=f"T{n}-{k}", department=department)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [AssignmentMode.ROUND_ROBIN, AssignmentMode.LEAST_LOADED])
def test_200_tickets_created_at_once_give_4_agents_50_each(on_postgres: None, mode: str) -> None:
    department = Department.objects.create(name="Support", slug="support", assignment_mode=mode)
    agents = [make_user(f"agent{n}") for n in range(4)]
    department.agents.add(*agents)
    customer = make_user("customer")

    _create_in_parallel(department, customer, threads=8, each=25)

    counts = Counter(Ticket.objects.values_list("assignee_id", flat=True))
    assert counts == {agent.pk: 50 for agent in agents}
    references = set(Ticket.objects.values_list("reference", flat=True))
    assert len(references) == 200
