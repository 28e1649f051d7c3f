"""The inbound email log and its retry: admins only."""

from __future__ import annotations

from escalated.models import InboundEmail, InboundStatus
from tests.conftest import World, gid
from tests.matrix import ADMIN_ONLY, Op, payload_mutation


def _failed(w: World) -> None:
    # Its raw message is not in the storage, so a retry fails again (attempts and error change)
    # without the matrix writing files anywhere.
    InboundEmail.objects.create(
        provider="mailgun",
        message_id="<matrix@mail.example.com>",
        sender="cora@example.com",
        subject="matrix",
        raw_storage="default",
        raw_name="escalated/inbound/not-there.eml",
        status=InboundStatus.FAILED,
        attempts=1,
        error="earlier failure",
    )


MUTATIONS = [
    Op(
        "inboundEmailRetry",
        payload_mutation(
            "inboundEmailRetry", "InboundEmailRetryInput", "inboundEmail { id status attempts }"
        ),
        lambda w: {"input": {"id": gid(InboundEmail.objects.get())}},
        ADMIN_ONLY,
        setup=_failed,
    ),
]

QUERIES = [
    Op(
        "inboundEmails",
        "{ inboundEmails(first: 10) { totalCount edges { node { sender status } } } }",
        lambda w: {},
        ADMIN_ONLY,
        setup=_failed,
        count=lambda d: d["inboundEmails"]["totalCount"],
        expected_counts={"admin": 1},
    ),
]
