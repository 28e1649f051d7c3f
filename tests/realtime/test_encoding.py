"""Frames of a result shared between sockets: encoded once, the operation id spliced in."""

from __future__ import annotations

import json

from escalated.realtime.consumer import _SharedResults


def test_a_shared_result_is_encoded_once_for_every_socket() -> None:
    calls: list[object] = []

    def encode(value: object) -> str:
        calls.append(value)
        return json.dumps(value, separators=(",", ":"))

    shared = _SharedResults()
    data = {"queueEvents": {"change": "CHANGED", "ticketId": "VGlja2V0OjE="}}
    frames = [
        shared.encode({"id": op, "type": "next", "payload": {"data": data}}, encode)
        for op in ("a", "b", 'c"quoted')
    ]

    assert [json.loads(frame) for frame in frames] == [
        {"id": op, "type": "next", "payload": {"data": data}} for op in ("a", "b", 'c"quoted')
    ]
    assert calls.count({"data": data}) == 1  # the payload once; the ids each time
    # An equal but distinct result (another execution) is encoded on its own.
    shared.encode({"id": "a", "type": "next", "payload": {"data": dict(data)}}, encode)
    assert calls.count({"data": data}) == 2
    # Anything but a plain result goes through the encoder whole.
    errors = {"id": "a", "type": "next", "payload": {"data": None, "errors": [{"message": "x"}]}}
    assert json.loads(shared.encode(errors, encode)) == errors
    assert calls[-1] == errors
