"""inboundEmails and inboundEmailRetry: filters, the retry's outcomes, constant query counts."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated.models import InboundEmail, InboundStatus
from tests.conftest import World, data_of, gid
from tests.mail.messages import message

LIST = """query($filter: InboundEmailFilter) {
  inboundEmails(first: 50, filter: $filter) {
    totalCount
    edges { node { id provider messageId sender status reason attempts error
                   ticket { reference } reply { id } receivedAt } }
  }
}"""
RETRY = """mutation($input: InboundEmailRetryInput!) {
  inboundEmailRetry(input: $input) {
    inboundEmail { status attempts ticket { reference } }
    errors { field code message }
  }
}"""


def _senders(gql: Any, admin: Any, filter: dict[str, Any] | None = None) -> list[str]:
    data = data_of(gql(LIST, {"filter": filter}, user=admin))
    return [e["node"]["sender"] for e in data["inboundEmails"]["edges"]]


def test_filters(helpdesk: World, deliver: Any, gql: Any) -> None:
    deliver(message(sender="cora@example.com", subject=f"[{helpdesk.ticket.reference}] more"))
    deliver(message(sender="new.person@example.net", subject="hello"))
    deliver(message(sender="robot@example.net", headers={"Auto-Submitted": "auto-replied"}))
    admin = helpdesk.admin

    assert len(_senders(gql, admin)) == 3
    assert _senders(gql, admin, {"status": ["IGNORED"]}) == ["robot@example.net"]
    assert _senders(gql, admin, {"sender": "new.person"}) == ["new.person@example.net"]
    assert _senders(gql, admin, {"ticket": gid(helpdesk.ticket)}) == ["cora@example.com"]
    assert len(_senders(gql, admin, {"provider": ["MAILGUN"]})) == 3
    assert _senders(gql, admin, {"provider": ["IMAP"]}) == []


def test_the_list_costs_the_same_for_one_row_or_many(
    helpdesk: World, deliver: Any, gql: Any
) -> None:
    deliver(message(subject="one"))
    with CaptureQueriesContext(connection) as one:
        gql(LIST, user=helpdesk.admin)
    for n in range(5):
        deliver(message(sender=f"p{n}@example.net", subject=f"many {n}"))

    with CaptureQueriesContext(connection) as many:
        result = gql(LIST, user=helpdesk.admin)

    assert data_of(result)["inboundEmails"]["totalCount"] == 6
    assert len(many) == len(one)


def test_retrying_a_failed_email_processes_it(
    helpdesk: World, deliver: Any, gql: Any, monkeypatch: Any
) -> None:
    from escalated.mail import processing

    monkeypatch.setattr(processing, "thread_of", _broken)
    deliver(message(subject="retry me"))
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.FAILED
    monkeypatch.undo()

    result = data_of(gql(RETRY, {"input": {"id": gid(inbound)}}, user=helpdesk.admin))

    payload = result["inboundEmailRetry"]
    assert payload["errors"] == []
    assert payload["inboundEmail"]["status"] == "PROCESSED"
    assert payload["inboundEmail"]["attempts"] == 2
    assert payload["inboundEmail"]["ticket"]["reference"]


def _broken(email: Any) -> Any:
    raise RuntimeError("the database is on fire")


def test_retrying_a_processed_email_is_refused_and_changes_nothing(
    helpdesk: World, deliver: Any, gql: Any
) -> None:
    deliver(message(subject="done already"))
    inbound = InboundEmail.objects.get()

    result = data_of(gql(RETRY, {"input": {"id": gid(inbound)}}, user=helpdesk.admin))

    assert [e["code"] for e in result["inboundEmailRetry"]["errors"]] == ["INVALID"]
    inbound.refresh_from_db()
    assert (inbound.status, inbound.attempts) == (InboundStatus.PROCESSED, 1)


def test_an_agent_cannot_retry(helpdesk: World, deliver: Any, gql: Any) -> None:
    deliver(message(subject="not yours"))
    inbound = InboundEmail.objects.get()

    result = gql(RETRY, {"input": {"id": gid(inbound)}}, user=helpdesk.agent)

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
