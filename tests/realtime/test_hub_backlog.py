"""The hub against a real Redis channel layer when events arrive faster than it prepares them.

channels_redis keeps at most ``capacity`` messages waiting on a channel and drops, silently, what
a group send would add beyond that. The hub's one channel carries every event of the process, so
it must be emptied as fast as Redis hands messages over, not as fast as events are loaded: the
load test (bench/load) lost most queue events under 60 clients before it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from typing import Any

import pytest
from channels_redis.core import RedisChannelLayer

from escalated.realtime import hub as hub_module
from escalated.realtime.hub import Hub

pytestmark = [pytest.mark.asyncio, pytest.mark.redis]

URL = os.environ.get("ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0")
HOSTS = [{"address": URL, "socket_timeout": 15}]  # past the 5 s blocking read (escalated.W005)


async def test_events_beyond_the_channel_capacity_wait_in_the_process_instead_of_being_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a layer that holds 30 messages per channel, and events that take 20 ms each to load
    # (a database trip behind busy request threads). Paced by the loading, the hub would leave
    # about 59 waiting and lose half; emptied as fast as Redis hands them over it keeps a few
    # (30 leaves room for a pause of the event loop: 10 lost one event once, in CI's pass).
    async def slow_prepare(message: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.02)
        return message

    monkeypatch.setattr(hub_module, "prepare", slow_prepare)
    layer = RedisChannelLayer(hosts=HOSTS, capacity=30, prefix=f"hubtest{uuid.uuid4().hex}")
    hub = Hub(layer)
    group = "escalated.queue"
    try:
        async with hub.listen(group) as messages:
            # When 60 events are sent as fast as Redis takes them
            for n in range(60):
                await layer.group_send(group, {"type": "t", "n": n, "group": group})
            # Then the subscriber hears all of them, in order
            heard = []
            with contextlib.suppress(TimeoutError):
                while len(heard) < 60:
                    heard.append((await asyncio.wait_for(anext(messages), 3))["n"])
        assert heard == list(range(60))
    finally:
        for task in hub._tasks:
            task.cancel()
        await asyncio.gather(*hub._tasks, return_exceptions=True)
        await layer.flush()


async def test_an_event_whose_loading_fails_for_a_moment_is_loaded_again_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a database that refuses the first two attempts at loading an event (the load test
    # met PostgreSQL's "too many clients already")
    from django.db import OperationalError

    failures = [OperationalError("too many clients already")] * 2

    async def flaky_prepare(message: dict[str, Any]) -> dict[str, Any]:
        if failures:
            raise failures.pop()
        return message

    monkeypatch.setattr(hub_module, "prepare", flaky_prepare)
    layer = RedisChannelLayer(hosts=HOSTS, prefix=f"hubtest{uuid.uuid4().hex}")
    hub = Hub(layer)
    group = "escalated.queue"
    try:
        async with hub.listen(group) as messages:
            # When two events are sent
            for n in range(2):
                await layer.group_send(group, {"type": "t", "n": n, "group": group})
            # Then both arrive, in order
            heard = [(await asyncio.wait_for(anext(messages), 5))["n"] for _ in range(2)]
        assert heard == [0, 1]
        assert not failures
    finally:
        for task in hub._tasks:
            task.cancel()
        await asyncio.gather(*hub._tasks, return_exceptions=True)
        await layer.flush()


async def test_another_receiver_on_the_same_layer_never_buffers_and_drops_the_hubs_events() -> None:
    # Given a layer keeping 5 messages per process-local buffer (channels_redis' ``capacity``,
    # which also bounds its in-process buffers) but room for the hub's channel in Redis, a
    # hub reading slowly, and another receiver on the layer, as every websocket consumer is
    layer = RedisChannelLayer(
        hosts=HOSTS,
        capacity=5,
        channel_capacity={"escalated.hub.*": 1000},
        prefix=f"hubtest{uuid.uuid4().hex}",
    )
    hub = Hub(layer)
    group = "escalated.queue"
    real_receive = layer.receive

    async def slow_receive(channel: str) -> dict[str, Any]:
        if channel == hub.channel:
            await asyncio.sleep(0.02)
        return await real_receive(channel)

    layer.receive = slow_receive  # type: ignore[method-assign]
    competitor = None
    try:
        async with hub.listen(group) as messages:
            competitor = asyncio.create_task(real_receive(await layer.new_channel()))
            # When 40 events are sent at once
            for n in range(40):
                await layer.group_send(group, {"type": "t", "n": n, "group": group})
            # Then the hub hears every one, in order
            heard = []
            with contextlib.suppress(TimeoutError):
                while len(heard) < 40:
                    heard.append((await asyncio.wait_for(anext(messages), 3))["n"])
        assert heard == list(range(40))
    finally:
        tasks = [*hub._tasks, *([competitor] if competitor else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await layer.flush()


async def test_a_busy_event_loop_reads_what_waits_in_one_trip_before_the_layer_expires_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a layer that drops what waits on a channel for 2 s (channels_redis' ``expiry``, 60 s
    # by default), and an event loop that turns only every ~50 ms (busy with requests and
    # sockets, as the load test's servers were): read one message per four trips to Redis,
    # each waiting for a turn, the hub would take 200 ms per event and lose most of 50 a second
    async def at_once(message: dict[str, Any]) -> dict[str, Any]:
        return message

    monkeypatch.setattr(hub_module, "prepare", at_once)
    prefix = f"hubtest{uuid.uuid4().hex}"
    layer = RedisChannelLayer(hosts=HOSTS, expiry=2, prefix=prefix)
    hub = Hub(layer)
    group = "escalated.queue"
    busy = True

    async def hog() -> None:
        while busy:
            time.sleep(0.002)  # work that holds the loop, as requests do
            await asyncio.sleep(0)

    def send_from_another_process() -> None:
        async def send_all() -> None:
            sender = RedisChannelLayer(hosts=HOSTS, expiry=2, prefix=prefix)
            for n in range(150):  # over about 3 s
                await sender.group_send(group, {"type": "t", "n": n, "group": group})
                await asyncio.sleep(0.02)
            await sender.close_pools()

        asyncio.run(send_all())

    hogs: list[asyncio.Task[None]] = []
    try:
        async with hub.listen(group) as messages:
            hogs = [asyncio.create_task(hog()) for _ in range(25)]
            # When 150 events are sent while the loop is that busy
            await asyncio.to_thread(send_from_another_process)
            # Then the subscriber hears every one, in order
            heard: list[int] = []

            async def hear() -> None:
                async for message in messages:
                    heard.append(message["n"])
                    if len(heard) == 150:
                        return

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hear(), 30)
        assert heard == list(range(150))
    finally:
        busy = False
        await asyncio.gather(*hogs, return_exceptions=True)
        await _stop(hub)
        await layer.flush()


async def _stop(hub: Hub) -> None:
    """Cancel the hub's tasks until they end: redis-py can absorb a cancellation that lands
    while it tears a connection down, and the pump then waits on its next read."""
    for _ in range(20):
        pending = [task for task in hub._tasks if not task.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.5)
    pytest.fail("the hub's tasks did not stop")
