"""A subscriber that leaves while an event is sent to it is how sockets end: one INFO line, no
traceback. Anything else that fails an operation's task still logs strawberry's traceback."""

from __future__ import annotations

import logging

import pytest
from uvicorn.protocols.utils import ClientDisconnected

from escalated.realtime.consumer import _TransportWSHandler

pytestmark = pytest.mark.asyncio


def _handler() -> _TransportWSHandler:
    return object.__new__(_TransportWSHandler)  # only the logging of a failed task is used


async def test_a_subscriber_leaving_mid_send_is_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        await _handler().handle_task_exception(ClientDisconnected())

    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert "left while an event was sent" in record.getMessage()


async def test_any_other_failure_of_a_task_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        await _handler().handle_task_exception(RuntimeError("a bug"))

    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
