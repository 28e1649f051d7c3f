"""Reads that a run of many changes would otherwise repeat for every ticket: made once a run.

A loop that changes ticket after ticket (an escalation run's batch, a bulk update, a macro over
many tickets) wraps itself in :func:`shared_reads`. Inside it, :func:`read_once` answers the same
question (the active SLA policies, the active webhook endpoints) with its first answer; outside
it every call reads afresh. What is shared must be something the loop does not change: rules,
bulk updates and macros never edit SLA policies or webhook endpoints.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_shared: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar(
    "escalated_shared_reads", default=None
)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Let :func:`read_once` remember its answers until the block ends (nested: the outer
    block's memory is used)."""
    if _shared.get() is not None:
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def read_once(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, remembered under ``key`` inside :func:`shared_reads`."""
    memory = _shared.get()
    if memory is None:
        return load()
    if key not in memory:
        memory[key] = load()
    return memory[key]
