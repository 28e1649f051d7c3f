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
* it raises the threshold of the youngest generation, so the objects a fan-out has in flight
  are collected while young far less often, and far fewer of them are promoted to the old
  generation whose growth is what triggers a full collection.

Nothing is leaked: frozen objects are still freed by reference counting, and the collector
keeps running (young collections are cheap, a full one still comes when the old generation has
grown by a quarter). It is a process-wide setting, so the library never applies it on its own:
the ASGI module calls it, once, after everything it serves has been imported.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver

# Net allocations between two collections of the youngest generation (CPython's default: 700).
# Ten thousand keeps a young collection to a few milliseconds and made full collections rare
# enough that none fell within a 100-event benchmark run at 1,000 subscribers.
YOUNG_THRESHOLD = 10_000


def settle_collector(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Freeze what start-up left alive and make young collections rarer. Call once, at the end
    of the ASGI module (after ``get_asgi_application()`` and the websocket router's import)."""
    import escalated.graphql.schema  # noqa: F401  (built here rather than on the first request)

    get_resolver().url_patterns  # noqa: B018  (imports the URLconf: its views, their schema)
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
