"""One channel-layer channel per process, fanned out to the subscriptions in the process.

Left to channels, every subscription would join the groups itself, and every event would be
copied once per subscriber through the channel layer (for Redis: one push per subscriber, then
one read per subscriber). The hub joins each group once per process and hands each message to
the local subscriptions listening for that group, so an event costs the layer one delivery per
process whatever the number of open queues. Before handing an event out, the hub loads what
every subscriber needs from the database once (:func:`escalated.realtime.delivery.prepare`);
events are handed out in the order they arrive.

Reading the channel and preparing events are two tasks with this process's own queue between
them. The layer keeps only so many messages waiting on a channel (channels_redis: ``capacity``,
100 by default) and silently drops what a group send would add beyond that; preparing an event
waits for the database, behind the requests the process is serving. Read at the pace of
preparing, a busy process lost most of its events (bench/load); read at the pace the layer hands
them over, they wait here instead, in order, for as long as preparing is behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

from escalated.realtime.delivery import prepare

logger = logging.getLogger(__name__)

# Attempts at loading one event before the hub gives up on it (about 10 s of retries in all).
PREPARE_ATTEMPTS = 8

_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


class Hub:
    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        # Read from the layer, not yet prepared: each with the queues listening when it came.
        self._inbox: asyncio.Queue[tuple[dict[str, Any], tuple[asyncio.Queue[Any], ...]]] = (
            asyncio.Queue()
        )

    @classmethod
    def current(cls) -> Hub:
        """The hub of the running event loop (one per ASGI process)."""
        loop = asyncio.get_running_loop()
        hub = _hubs.get(loop)
        if hub is None:
            layer = get_channel_layer()
            if layer is None:
                raise RuntimeError("Live subscriptions need a channel layer: set CHANNEL_LAYERS.")
            hub = _hubs[loop] = cls(layer)
        return hub

    @contextlib.asynccontextmanager
    async def listen(self, group: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Messages sent to ``group`` from now on, until the block exits."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        async with self._lock:
            await self._start()
            members = self.listeners.setdefault(group, set())
            if not members:
                await self.layer.group_add(group, self.channel)
            members.add(queue)
        try:
            yield _drain(queue)
        finally:
            async with self._lock:
                members = self.listeners.get(group, set())
                members.discard(queue)
                if not members:
                    self.listeners.pop(group, None)
                    with contextlib.suppress(Exception):
                        await self.layer.group_discard(group, self.channel)

    async def _start(self) -> None:
        if self.channel is not None:
            return
        # A channel of its own, not one of the layer's process-local ``…!…`` channels: those
        # share one Redis list per process, read by whichever receiver holds the layer's lock
        # (every websocket consumer runs one) into per-channel buffers that keep only the newest
        # ``capacity`` messages and are thrown away when a read fails. Behind on 200 sockets, a
        # process lost 29 % of its events there, silently (bench/RESULTS.md). Read directly, the
        # hub's messages wait in Redis, where ``channel_capacity`` counts them and says when full.
        self.channel = f"escalated.hub.{uuid.uuid4().hex}"
        self._tasks = [
            asyncio.create_task(self._pump()),
            asyncio.create_task(self._hand_out()),
            asyncio.create_task(self._renew()),
        ]

    async def _pump(self) -> None:
        assert self.channel is not None
        take_waiting = _batch_reader(self.layer, self.channel)
        delay = 0.05
        while True:
            try:
                # What is waiting, in one trip; when nothing is, the layer's own blocking read.
                messages = await take_waiting() if take_waiting else []
                if not messages:
                    messages = [await self.layer.receive(self.channel)]
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Escalated's live hub could not read the channel layer; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05
            for message in messages:
                listeners = tuple(self.listeners.get(message.get("group", ""), ()))
                if listeners:
                    self._inbox.put_nowait((message, listeners))

    async def _hand_out(self) -> None:
        """Prepare each event read, in order, and give it to the queues that were listening."""
        while True:
            message, listeners = await self._inbox.get()
            prepared = await self._prepared(message)
            if prepared is None:
                continue
            for queue in listeners:
                queue.put_nowait(prepared)

    async def _prepared(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """``message`` prepared, trying again while loading fails (a database that refuses
        connections for a moment must not cost subscribers the event); None once
        PREPARE_ATTEMPTS have failed."""
        for attempt in range(1, PREPARE_ATTEMPTS + 1):
            try:
                return await prepare(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == PREPARE_ATTEMPTS:
                    logger.exception(
                        "Escalated's live hub could not load an event %s times; dropped it",
                        attempt,
                    )
                    return None
                logger.warning(
                    "Escalated's live hub could not load an event; trying again", exc_info=True
                )
                await asyncio.sleep(min(0.1 * 2 ** (attempt - 1), 2.0))
        return None

    async def _renew(self) -> None:
        """Group memberships lapse after the layer's ``group_expiry``: join again well before."""
        period = max(60.0, getattr(self.layer, "group_expiry", 86400) / 2)
        while True:
            await asyncio.sleep(period)
            async with self._lock:
                for group in tuple(self.listeners):
                    with contextlib.suppress(Exception):
                        await self.layer.group_add(group, self.channel)


# Messages taken from Redis in one trip when several are waiting.
BATCH = 500


def _batch_reader(layer: Any, channel: str) -> Callable[[], Awaitable[list[dict[str, Any]]]] | None:
    """For channels_redis' layer, a read of every message waiting on ``channel`` (up to BATCH)
    in one trip per Redis host; None for other layers, whose ``receive`` is the only way in.

    channels_redis' ``receive`` takes one message per four trips to Redis, each waiting for a
    turn of the event loop. A process busy with requests and 200 sockets turns its loop slowly,
    so read that way the hub fell behind its channel by a minute, where the layer's ``expiry``
    (60 s) drops waiting messages silently: a quarter of the load test's events
    (bench/RESULTS.md). The messages are the ones ``group_send`` stores (a sorted set per
    channel, oldest first, on the host the channel name hashes to); the layer decodes them."""
    try:
        from channels_redis.core import RedisChannelLayer
    except ImportError:
        return None
    if not isinstance(layer, RedisChannelLayer):
        return None
    key = layer.prefix + channel

    async def take_waiting() -> list[dict[str, Any]]:
        messages = []
        for index in range(layer.ring_size):
            for member, _score in await layer.connection(index).zpopmin(key, BATCH):
                message = layer.deserialize(member)
                message.pop("__asgi_channel__", None)
                messages.append(message)
        return messages

    return take_waiting


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()
