"""The admin report and the agent dashboard (see :mod:`escalated.services.reports` for exactly
what each number counts)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import strawberry
from graphql import GraphQLError
from strawberry import Info, relay
from strawberry.utils.str_converters import to_camel_case

from escalated.access import require_admin, require_staff
from escalated.errors import DomainError
from escalated.graphql.context import viewer
from escalated.graphql.enums import TicketPriority, TicketStatus
from escalated.graphql.ids import load_optional
from escalated.graphql.queries import guard
from escalated.graphql.sla import SlaMetric
from escalated.graphql.types import DepartmentNode, UserNode
from escalated.services import reports
from escalated.services.stats import Summary


@strawberry.input(description="Whole days, both included, in the helpdesk's time zone.")
class ReportInput:
    from_: date = strawberry.field(name="from")
    to: date
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tickets in this department."
    )
    agent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tickets assigned to this agent."
    )


@strawberry.type
class StatusCount:
    status: TicketStatus
    count: int


@strawberry.type
class PriorityCount:
    priority: TicketPriority
    count: int


@strawberry.type
class DepartmentCount:
    department: DepartmentNode | None = strawberry.field(description="null: in no department.")
    count: int


@strawberry.type
class DailyCount:
    date: date
    created: int
    resolved: int


@strawberry.type(
    description="Durations in whole seconds, counted as each ticket's SLA target counts "
    "(business hours or running time); calendar time where a ticket has no clock. "
    "Null when none."
)
class DurationSummary:
    count: int = strawberry.field(description="How many tickets were measured.")
    average_seconds: int | None
    median_seconds: int | None
    p90_seconds: int | None = strawberry.field(description="90th percentile.")

    @classmethod
    def of(cls, summary: Summary) -> DurationSummary:
        return cls(
            count=summary.count,
            average_seconds=summary.average,
            median_seconds=summary.median,
            p90_seconds=summary.p90,
        )


@strawberry.type
class RatingCount:
    rating: int
    count: int


@strawberry.type
class SatisfactionSummary:
    count: int
    average: float | None = strawberry.field(description="Mean rating, 1 to 5, to 2 decimals.")
    breakdown: list[RatingCount] = strawberry.field(description="Every rating from 1 to 5.")


@strawberry.type
class AgentSolvedCount:
    agent: UserNode
    solved: int


@strawberry.type(description="How one SLA metric fared, over the report's tickets.")
class SlaCompliance:
    metric: SlaMetric
    measured: int = strawberry.field(description="Clocks met in time or breached.")
    met: int = strawberry.field(description="Met in time.")
    breached: int = strawberry.field(description="Met late, or ran out.")
    rate: float | None = strawberry.field(
        description="The share met in time, 0 to 1, to 4 decimals; null when none was measured."
    )


@strawberry.type(description="Helpdesk numbers over a window of days.")
class Report:
    from_: date = strawberry.field(name="from")
    to: date
    department: DepartmentNode | None
    agent: UserNode | None
    created: int = strawberry.field(description="Tickets created in the window.")
    resolved: int = strawberry.field(description="Tickets resolved in the window.")
    by_status: list[StatusCount] = strawberry.field(
        description="Tickets created in the window, by their status now."
    )
    by_priority: list[PriorityCount] = strawberry.field(
        description="Tickets created in the window, by priority."
    )
    by_department: list[DepartmentCount] = strawberry.field(
        description="Tickets created in the window, by department, busiest first."
    )
    daily: list[DailyCount] = strawberry.field(description="Every day of the window.")
    first_response: DurationSummary = strawberry.field(
        description="From creation to the first agent reply, for tickets created in the window."
    )
    resolution: DurationSummary = strawberry.field(
        description="From creation to resolution, for tickets resolved in the window."
    )
    satisfaction: SatisfactionSummary = strawberry.field(description="Ratings given in the window.")
    agents: list[AgentSolvedCount] = strawberry.field(
        description="Tickets resolved in the window, by assignee, most first."
    )
    sla: list[SlaCompliance] = strawberry.field(
        description="SLA compliance per metric, over the clocks of tickets created in the window."
    )


@strawberry.type(description="The numbers at the top of an agent's queue.")
class AgentDashboard:
    open: int = strawberry.field(description="Open tickets the viewer can see.")
    mine: int = strawberry.field(description="Open tickets assigned to the viewer.")
    unassigned: int = strawberry.field(description="Open tickets the viewer can see, unassigned.")
    sla_breached: int = strawberry.field(
        description="Open tickets the viewer can see whose current SLA clock ran out."
    )
    resolved_today: int = strawberry.field(
        description="Tickets the viewer can see, resolved since midnight."
    )
    mine_resolved_today: int = strawberry.field(
        description="Tickets assigned to the viewer, resolved since midnight."
    )


def bad_input(error: DomainError) -> GraphQLError:
    problem = error.problems[0]
    extensions = {"code": "BAD_USER_INPUT", "field": to_camel_case(problem.field or "")}
    return GraphQLError(str(error), extensions=extensions)


def _report(built: reports.Report) -> Report:
    average = built.rating_average
    return Report(
        from_=built.start,
        to=built.end,
        department=built.department,
        agent=built.agent,
        created=built.created,
        resolved=built.resolved,
        by_status=[StatusCount(status=s, count=n) for s, n in built.by_status.items()],
        by_priority=[PriorityCount(priority=p, count=n) for p, n in built.by_priority.items()],
        by_department=[DepartmentCount(department=d, count=n) for d, n in built.by_department],
        daily=[DailyCount(date=d.day, created=d.created, resolved=d.resolved) for d in built.daily],
        first_response=DurationSummary.of(built.first_response),
        resolution=DurationSummary.of(built.resolution),
        satisfaction=SatisfactionSummary(
            count=built.rating_count,
            average=None if average is None else round(average, 2),
            breakdown=[RatingCount(rating=r, count=n) for r, n in built.ratings.items()],
        ),
        agents=[AgentSolvedCount(agent=a, solved=n) for a, n in built.solved_by_agent],
        sla=[
            SlaCompliance(
                metric=c.metric,
                measured=c.measured,
                met=c.met,
                breached=c.breached,
                rate=None if c.rate is None else round(c.rate, 4),
            )
            for c in built.sla
        ],
    )


@strawberry.type
class ReportQueries:
    @strawberry.field(description="Helpdesk numbers over a window of days (admins).")
    def report(self, info: Info, input: ReportInput) -> Report:
        guard(info, require_admin)
        try:
            built = reports.report_build(
                actor=viewer(info),
                start=input.from_,
                end=input.to,
                department=load_optional(
                    info, input.department_id, DepartmentNode, field="department_id"
                ),
                agent=load_optional(info, input.agent_id, UserNode, field="agent_id"),
            )
        except DomainError as error:
            raise bad_input(error) from error
        return _report(built)

    @strawberry.field(description="Open, mine, unassigned and resolved today (staff).")
    def agent_dashboard(self, info: Info) -> AgentDashboard:
        guard(info, require_staff)
        return AgentDashboard(**asdict(reports.agent_dashboard(actor=viewer(info))))
