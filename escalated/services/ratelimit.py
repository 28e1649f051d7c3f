"""Fixed-window counters in Django's cache.

Counts are only shared between processes when the cache is: Django's default local-memory cache
counts per process, so production needs Redis, Memcached or the database cache behind the alias
the caller names. ``cache.add`` then ``cache.incr`` are atomic on those backends, so concurrent
requests never both take the last slot.
"""

from __future__ import annotations

import time

from django.core.cache import caches
from django.utils.crypto import salted_hmac


def rate_limit_hit(*, scope: str, key: str, limit: int, window: int, cache: str) -> int | None:
    """Count one attempt against ``key``'s budget of ``limit`` per ``window`` seconds.

    Returns None when the attempt is within the budget, else the seconds until the window
    resets. Keys are hashed, so the cache holds no email or IP address in clear.
    """
    now = time.time()
    bucket = int(now // window)
    digest = salted_hmac("escalated.ratelimit", f"{scope}:{key}").hexdigest()
    cache_key = f"escalated:rl:{scope}:{digest}:{bucket}"
    store = caches[cache]
    store.add(cache_key, 0, timeout=window)
    try:
        count = store.incr(cache_key)
    except ValueError:  # expired between add and incr
        store.set(cache_key, 1, timeout=window)
        count = 1
    if count > limit:
        return max(1, int((bucket + 1) * window - now))
    return None
