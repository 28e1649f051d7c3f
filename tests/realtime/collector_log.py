"""A record of the garbage collector's long passes in a server process, for the live-queue
benchmark: a full collection holds the GIL for hundreds of milliseconds at 1,000 sockets, and a
late event is only explained if the run says whether one fell within it.

Installed by ``tests.server_settings`` when ``ESCALATED_GC_LOG`` names a file prefix; each
process appends JSON lines to ``<prefix>.<pid>``.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Passes shorter than this are not worth a line (young passes take a few milliseconds).
NOTABLE_MS = 20.0


def record_collections(prefix: str) -> Callable[[str, dict[str, Any]], None]:
    """Log every full pass, and every other pass of at least NOTABLE_MS, of this process.
    Returns the callback installed in ``gc.callbacks``."""
    log = Path(f"{prefix}.{os.getpid()}").open("a", buffering=1)  # noqa: SIM115 (process-long)
    started: dict[int, float] = {}

    def on_collection(phase: str, info: dict[str, Any]) -> None:
        thread = threading.get_ident()
        if phase == "start":
            started[thread] = time.perf_counter()
            return
        took = (time.perf_counter() - started.pop(thread, time.perf_counter())) * 1000
        if info["generation"] == 2 or took >= NOTABLE_MS:
            entry = {"at": time.time(), "generation": info["generation"], "ms": round(took, 1)}
            log.write(json.dumps(entry) + "\n")

    gc.callbacks.append(on_collection)
    return on_collection


def read_collections(prefix: str, pids: list[int]) -> list[dict[str, Any]]:
    """Every pass the processes ``pids`` logged under ``prefix``, in time order."""
    entries = []
    for pid in pids:
        path = Path(f"{prefix}.{pid}")
        if path.exists():
            entries += [json.loads(line) for line in path.read_text().splitlines() if line]
    return sorted(entries, key=lambda entry: entry["at"])
