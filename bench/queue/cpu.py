"""CPU and wall time per request of one page of bench/queue/profile.py, in-process, as the peers
harness's host project serves it (bench/peers/settings_ours.py: DEBUG off, introspection off).

    BENCH_DB=bench_15_prof BENCH_PEER_DB=bench_15_prof \\
        .venv/bin/python -m bench.queue.cpu "ticket detail" [--requests 40] [--first 15]

CPU time (``time.process_time``) is this process's own work, so it is less at the mercy of a
shared machine's load than the wall time. To compare two versions of the code, run this file
with ``PYTHONPATH`` set to each checkout in turn (the code, host project and seed come from
there), several times, alternating:

    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/queue/cpu.py "ticket detail"
"""

from __future__ import annotations

import argparse
import os
import time

from bench.queue.seed import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="a page of bench/queue/profile.py, e.g. 'ticket detail'")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--first", type=int, help="page size instead of the page's own")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.settings_ours")
    prepare(options.tickets)
    from bench.queue.profile import clients, request

    client, query, variables = clients()[options.page]
    if options.first:
        query = query.replace("first: 50", f"first: {options.first}")
    for _ in range(5):  # warm: connection, parser and validation caches
        request(client, query, variables)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(options.requests):
        request(client, query, variables)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{options.page}: wall {wall / options.requests * 1000:.1f} ms, "
        f"cpu {cpu / options.requests * 1000:.1f} ms per request, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
