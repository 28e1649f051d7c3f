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
class _Shared:
    """What one event's memo holds for one key (document, variables, share key): the executions
    on offer, the facts under which executions of it asked who the viewer is, and the document
    itself, kept alive with the memo so that its id (part of the key) is not reused meanwhile."""

    document: Any
    offers: list[_Kept] = field(default_factory=list)
    personal: list[dict[str, Any]] = field(default_factory=list)

    def asks_viewer(self, payload: Any) -> bool:
        """Whether executions for ``payload`` are known to ask who the viewer is."""
        return any(_holds(payload, facts) for facts in self.personal)


@dataclass(eq=False)
class _Kept:
    """One execution of an event, offered to other subscribers once it is done: withdrawn (its
    ``done`` answers None) as soon as it asks who the viewer is, or if it fails. ``facts`` are
    the payload facts it read (attribute name: value); only payloads holding the same may use it.
    """

    done: asyncio.Future[ExecutionResult | None]
    shared: _Shared
    facts: dict[str, Any] = field(default_factory=dict)

    def fits(self, payload: Any) -> bool:
        return _holds(payload, self.facts)

    def withdraw(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        if self in self.shared.offers:
            self.shared.offers.remove(self)


# The execution running in this context, if it may be shared.
_running: contextvars.ContextVar[_Kept | None] = contextvars.ContextVar(
    "escalated_shared_execution", default=None
)


def viewer_asked() -> None:
    """Record that the running execution depends on who the viewer is: it is withdrawn at once,
    so that subscribers waiting for it run their own without waiting for it to finish."""
    running = _running.get()
    if running is not None:
        # Any payload holding the facts read so far takes the same path to this question.
        running.shared.personal.append(dict(running.facts))
        running.withdraw()


def fact_read(name: str, value: Any) -> None:
    """Record that the running execution read the payload's ``name`` (whose value is ``value``):
    only subscribers whose payload holds the same value may share it."""
    running = _running.get()
    if running is not None:
        running.facts[name] = value


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing subscription events' executions where they cannot differ."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        if self.operation.operation is not OperationType.SUBSCRIPTION or not hasattr(
            payload, "execution_memo"
        ):
            return super().execute_operation(serially)
        return self._shared(payload, serially)

    def build_per_event_executor(self, payload: Any) -> Any:
        self._variables()  # encoded on the subscription's executor, copied to each event's
        return super().build_per_event_executor(payload)

    def __copy__(self) -> SharedEventExecutionContext:
        """The shallow copy graphql-core makes of the subscription's executor for each event,
        without ``copy.copy``'s generic reduce-and-rebuild (a tenth of a fan-out's time)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def _variables(self) -> str:
        """The subscription's variables, encoded for the memo key (once: they are the same for
        every event)."""
        encoded: str | None = self.__dict__.get("variables_key")
        if encoded is None:
            encoded = self.variables_key = _variables_key(self.variable_values.coerced)
        return encoded

    async def _shared(self, payload: SharedPayload, serially: bool | None) -> Any:
        key = (id(self.operation), self._variables(), payload.share_key())
        shared: _Shared = payload.execution_memo().setdefault(key, _Shared(self.operation))
        # Executions started by others may still be running: wait for each in turn and take the
        # first that fits. Offers may be added or withdrawn while waiting.
        tried: set[_Kept] = set()
        while not shared.asks_viewer(payload):
            offer = next((o for o in shared.offers if o not in tried), None)
            if offer is None:
                break
            tried.add(offer)
            result = await asyncio.shield(offer.done)
            if result is not None and offer.fits(payload):
                return result
        if shared.asks_viewer(payload):  # an execution like this one asks who the viewer is
            return await self._own(serially)
        mine = _Kept(asyncio.get_running_loop().create_future(), shared)
        shared.offers.append(mine)
        token = _running.set(mine)
        try:
            result = await self._own(serially)
        except BaseException:
            mine.withdraw()
            raise
        finally:
            _running.reset(token)
        if result.errors:
            mine.withdraw()
        elif not mine.done.done():  # not withdrawn: it never asked who the viewer is
            mine.done.set_result(result)
        return result

    async def _own(self, serially: bool | None) -> Any:
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result


def _holds(payload: Any, facts: dict[str, Any]) -> bool:
    return all(getattr(payload, name) == value for name, value in facts.items())


def _variables_key(variables: dict[str, Any]) -> str:
    return json.dumps(variables, sort_keys=True, default=repr)
