"""The load test's write proof (bench/load/verify.py) refuses what it exists to catch: a write
acknowledged and missing, one stored twice, one answered with an error yet stored, a row nobody
sent. (The end-to-end run is tests/test_load_exactly_once.py.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bench.load.run import Action
from bench.load.verify import _writes


def reply(pk: int, ticket: int, marker: str, *, note: bool = False) -> Any:
    body = f"<p>{'note' if note else 'reply'} {marker}</p>"
    return SimpleNamespace(pk=pk, ticket_id=ticket, body=body, is_internal_note=note)


def ticket(pk: int, marker: str) -> Any:
    return SimpleNamespace(pk=pk, subject=f"Load {marker}")


A, B, C = "a" * 32, "b" * 32, "c" * 32


def test_every_acknowledged_write_found_once_passes() -> None:
    actions = [
        Action("create", 1, 7, marker=A, outcome="ack", result_id=7),
        Action("reply", 2, 7, marker=B, outcome="ack", result_id=40),
        Action("note", 2, 7, marker=C, outcome="lost"),
    ]
    proof, owner = _writes(actions, {7: ticket(7, A)}, [reply(40, 7, B)])
    assert proof["ok"], proof
    assert proof["lost"] == {"note:absent": 1}
    assert set(owner) == {("ticket", 7), ("reply", 40)}


def test_a_missing_a_doubled_an_errored_and_an_unsent_write_are_each_refused() -> None:
    actions = [
        Action("reply", 2, 7, marker=A, outcome="ack", result_id=40),  # stored twice
        Action("reply", 2, 7, marker=B, outcome="ack", result_id=41),  # not stored
        Action("note", 2, 7, marker=C, outcome="error"),  # refused, yet stored
    ]
    replies = [
        reply(40, 7, A),
        reply(42, 7, A),
        reply(43, 7, C, note=True),
        reply(44, 7, "d" * 32),  # sent by nobody
    ]
    proof, _owner = _writes(actions, {}, replies)
    assert not proof["ok"]
    assert len(proof["problems"]) == 4, proof["problems"]
