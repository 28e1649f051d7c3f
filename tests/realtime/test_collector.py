"""settle_collector: what start-up left alive is frozen, and young collections come rarer."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from escalated.realtime.collector import MIDDLE_THRESHOLD, YOUNG_THRESHOLD, settle_collector
from tests.realtime.collector_log import read_collections, record_collections
from tests.realtime.servers import ROOT, python_json


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_freezes_what_is_alive_and_raises_the_young_thresholds(collector_restored: None) -> None:
    alive_before = [object()]  # a list: tracked by the collector
    old = gc.get_threshold()[2]

    settle_collector()

    assert gc.get_freeze_count() > 0
    assert not any(o is alive_before for o in gc.get_objects())
    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, old)


def test_what_is_created_afterwards_is_still_collected(collector_restored: None) -> None:
    settle_collector()
    cycle = _Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is None


class _Node:
    me: _Node | None = None


def test_the_served_asgi_module_settles_the_collector() -> None:
    """What uvicorn imports (the demo's and the live tests' server) applies it, last."""
    probe = "import asgi, gc, json; print(json.dumps([gc.get_freeze_count(), gc.get_threshold()]))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "demo.settings", "PYTHONPATH": str(ROOT)}
    frozen, threshold = python_json(["-c", probe], env, timeout=60)
    assert frozen > 10_000  # Django, the app and the schema, at least
    assert threshold[:2] == [YOUNG_THRESHOLD, MIDDLE_THRESHOLD]


def test_the_benchmark_log_records_full_collections(tmp_path: Path) -> None:
    prefix = str(tmp_path / "collections")
    callback = record_collections(prefix)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)
    passes = read_collections(prefix, [os.getpid()])
    assert [entry["generation"] for entry in passes] == [2]
    assert passes[0]["ms"] >= 0
    assert read_collections(prefix, [os.getpid() + 1]) == []
