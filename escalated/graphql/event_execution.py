"""Executing a subscription event once for all the subscribers it reads the same for.

A thousand agents watching the same queue with the same query would otherwise each run
graphql-core over the same ticket for every change: the same selection, the same values, a
thousand times. Here the first subscriber's execution of an event is kept and handed to every
other subscriber whose result cannot differ:

* same event (the memo lives on the event's :class:`~escalated.realtime.delivery.Loaded`, so it
  dies with the event);
* same operation document and variables;
* same payload as far as the subscriber shaped it (whether the ticket is visible to them, how
  the change moved it in their queue): the payload's ``share_key()``;
* the same values of any per-subscriber fact the execution read from the payload (whether the
  subscriber may see who made the change: only an execution that selected ``actor`` read it);
* and the execution never asked who the viewer is. Every resolver learns the viewer through
  :func:`escalated.graphql.context.viewer` (or its API token through ``api_token``), which
  reports the question here; an execution that asked is used by its own subscriber only, and
  the others run their own. So a field that depends on the viewer (an email shown to staff
  only, notes, who follows) is never shared, by construction, without a list to keep up to date.

Results with errors are not shared either.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SharedPayload(Protocol):
    """A subscription payload that may share its execution with other subscribers'."""

    def execution_memo(self) -> dict[Hashable, Any]:
        """Where executions of this event are kept (one dict per event)."""
        ...

    def share_key(self) -> Hashable:
        """What about this payload differs between subscribers and shapes every execution."""
        ...


@dataclass
class _Asked:
    """What an execution asked about its subscriber: the viewer itself, or facts the payload
    holds for them (by attribute name) that only some fields read."""

    viewer: bool = False
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Kept:
    """One execution of an event, and what it asked (known once it is done)."""

    done: asyncio.Future[ExecutionResult | None]
    asked: _Asked

    def fits(self, payload: Any) -> bool:
        return all(getattr(payload, name) == value for name, value in self.asked.facts.items())


_asked: contextvars.ContextVar[_Asked | None] = contextvars.ContextVar(
    "escalated_execution_asked", default=None
)


def viewer_asked() -> None:
    """Record that the running execution depends on who the viewer is (so it is not shared)."""
    asked = _asked.get()
    if asked is not None:
        asked.viewer = True


def fact_read(name: str, value: Any) -> None:
    """Record that the running execution read the payload's ``name`` (whose value is ``value``):
    only subscribers whose payload holds the same value may share it."""
    asked = _asked.get()
    if asked is not None:
        asked.facts[name] = value


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing subscription events' executions where they cannot differ."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if self.operation.operation is not OperationType.SUBSCRIPTION or not hasattr(
            payload, "execution_memo"
        ):
            return super().execute_operation(serially)
        return self._shared(payload, serially)

    async def _shared(self, payload: SharedPayload, serially: bool | None) -> Any:
        memo = payload.execution_memo()
        key = (
            id(self.operation),
            _variables_key(self.variable_values.coerced),
            payload.share_key(),
        )
        kept: list[_Kept] = memo.setdefault(key, [])
        # Executions started by others may still be running: wait for each, take the first that
        # fits. New ones may be added while waiting; they are looked at too.
        index = 0
        while index < len(kept):
            candidate = kept[index]
            result = await asyncio.shield(candidate.done)
            if result is not None and candidate.fits(payload):
                return result
            index += 1
        mine = _Kept(asyncio.get_running_loop().create_future(), _Asked())
        kept.append(mine)
        # Keep the document alive as long as the memo holds an execution of it, so that its id
        # (part of the key) cannot be reused by another document meanwhile.
        memo.setdefault(("documents",), []).append(self.operation)
        token = _asked.set(mine.asked)
        try:
            result = await self._own(serially)
        except BaseException:
            mine.done.set_result(None)
            raise
        finally:
            _asked.reset(token)
        shareable = not mine.asked.viewer and not result.errors
        mine.done.set_result(result if shareable else None)
        return result

    async def _own(self, serially: bool | None) -> Any:
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result


def _variables_key(variables: dict[str, Any]) -> str:
    return json.dumps(variables, sort_keys=True, default=repr)
