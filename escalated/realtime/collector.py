"""Keeping CPython's garbage collector from pausing a live server for long.

A process holding many open websockets holds many objects: about 360 tracked by the cyclic
collector per subscribed socket (uvicorn's protocol, channels' consumer and middleware,
strawberry's operation tasks), on top of some 135,000 that importing Django, the app and the
schema leaves behind. Every so often the collector examines all of them at once (a "full"
collection), holding the GIL throughout: at 1,000 sockets on the development machine that took
400 to 480 ms, and whichever event was being delivered at that moment reached every subscriber
that much later (see the live-queue section of ``bench/RESULTS.md``).

:func:`settle_collector` does two things a long-running server can afford:

* it moves everything alive at the end of start-up (modules, classes, the schema, the URLconf)
  into the collector's permanent generation (:func:`gc.freeze`), so full collections no longer
  examine what will never be garbage;
* it raises the thresholds of the two young generations, so the objects a fan-out has in flight
  are examined far less often while young, and far fewer of them are promoted to the old
  generation, whose growth is what triggers a full collection.

Nothing is leaked: frozen objects are still freed by reference counting, and the collector
keeps running (a full collection still comes when the old generation has grown by a quarter;
the middle generation's passes are longer, up to ~100 ms at 1,000 sockets, and rare). It is a
process-wide setting, so the library never applies it on its own: the ASGI module calls it,
once, after everything it serves has been imported.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver

# Net allocations between two passes over the youngest generation (CPython's default: 700), and
# passes over the youngest between two over the middle one (default: 10). Measured at 1,000
# subscribers, 400 events two a second: with (10,000, 10) one full collection (371 ms) fell in
# the run; with (10,000, 50) none did, and the slowest event's last subscriber heard of it
# 250 ms after the commit.
YOUNG_THRESHOLD = 10_000
MIDDLE_THRESHOLD = 50


def settle_collector(
    young_threshold: int = YOUNG_THRESHOLD, middle_threshold: int = MIDDLE_THRESHOLD
) -> None:
    """Freeze what start-up left alive and make young collections rarer. Call once, at the end
    of the ASGI module (after ``get_asgi_application()`` and the websocket router's import)."""
    import escalated.graphql.schema  # noqa: F401  (built here rather than on the first request)

    get_resolver().url_patterns  # noqa: B018  (imports the URLconf: its views, their schema)
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_threshold, middle_threshold, gc.get_threshold()[2])
