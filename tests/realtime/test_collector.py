"""settle_collector: what start-up left alive is frozen, and young collections come rarer."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from escalated.realtime.collector import MIDDLE_THRESHOLD, YOUNG_THRESHOLD, settle_collector


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
