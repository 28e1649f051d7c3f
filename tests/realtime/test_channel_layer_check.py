"""escalated.W005: a channels_redis layer whose socket read timeout is no longer than its
blocking read (redis-py 8 defaults both to 5 s) fails idle receives and can lose a message."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from escalated.checks import check_channel_layer_read_timeout

REDIS = "channels_redis.core.RedisChannelLayer"


def _layers(*hosts: Any, backend: str = REDIS) -> dict[str, Any]:
    return {"default": {"BACKEND": backend, "CONFIG": {"hosts": list(hosts)}}}


@pytest.mark.parametrize(
    "host",
    [
        "redis://:secret@127.0.0.1:6379/0",  # redis-py's default read timeout (5 s in 8.x)
        ("127.0.0.1", 6379),
        {"address": "redis://:secret@127.0.0.1:6379/0", "socket_timeout": 5},
        "redis://:secret@127.0.0.1:6379/0?socket_timeout=3",
    ],
)
def test_a_read_timeout_no_longer_than_the_blocking_read_is_warned_of(host: Any) -> None:
    with override_settings(CHANNEL_LAYERS=_layers(host)):
        [message] = check_channel_layer_read_timeout()

    assert message.id == "escalated.W005"
    assert "127.0.0.1:6379" in message.msg
    assert "secret" not in message.msg  # the address's password is never printed
    assert '"socket_timeout": 15' in message.hint


@pytest.mark.parametrize(
    "layers",
    [
        _layers({"address": "redis://127.0.0.1:6379/0", "socket_timeout": 15}),
        _layers({"address": "redis://127.0.0.1:6379/0", "socket_timeout": None}),
        _layers("redis://127.0.0.1:6379/0?socket_timeout=10"),
        _layers("redis://127.0.0.1:6379/0", backend="channels.layers.InMemoryChannelLayer"),
        {},
    ],
)
def test_a_longer_read_timeout_or_another_layer_passes(layers: dict[str, Any]) -> None:
    with override_settings(CHANNEL_LAYERS=layers):
        assert check_channel_layer_read_timeout() == []


def test_each_short_host_of_each_layer_is_named() -> None:
    layers = {
        "default": _layers("redis://10.0.0.1:6379/0", "redis://10.0.0.2:6380/0")["default"],
        "other": _layers({"address": "redis://10.0.0.3:6379/0", "socket_timeout": 15})["default"],
    }
    with override_settings(CHANNEL_LAYERS=layers):
        messages = check_channel_layer_read_timeout()

    assert [m.msg.split(" reads ")[1].split(" ")[0] for m in messages] == [
        "10.0.0.1:6379",
        "10.0.0.2:6380",
    ]
