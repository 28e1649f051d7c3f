"""Rate limits: every budget Escalated keeps, and the rules for who spends which.

All counters are fixed-window counts in Django's cache. Counts are only shared between processes
when the cache is: Django's default local-memory cache counts per process, so production needs
Redis, Memcached or the database cache behind the alias each setting names. ``cache.add`` then
``cache.incr`` are atomic on those backends, so concurrent requests never both take the last
slot.

Three kinds of budget live here:

* :func:`rate_limit_hit`: one attempt counted, refused or not (guest ticket creation).
* :func:`budgets_take`: several budgets spent together or not at all; a refused attempt spends
  nothing, so hammering a spent budget does not push its reset further away. The mutation
  limit and the reply and attachment limits use it, through :func:`mutation_budget_take` and
  :func:`message_budgets_take`, which raise :class:`~escalated.errors.RateLimited`.
* :class:`Hold`: a count of things held open (websocket connections), each holder counted in
  the current and the next window and re-counting itself once a window, so the count of a
  process that died without saying goodbye is forgotten after two windows.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import BaseCache, caches
from django.utils.crypto import salted_hmac

from escalated.access import Role, role_of
from escalated.conf import escalated_settings
from escalated.errors import RateLimited


def _cache_key(scope: str, key: str, bucket: int) -> str:
    # Hashed, so the cache holds no email or IP address in clear.
    digest = salted_hmac("escalated.ratelimit", f"{scope}:{key}").hexdigest()
    return f"escalated:rl:{scope}:{digest}:{bucket}"


def _add(store: BaseCache, cache_key: str, amount: int, timeout: int) -> int:
    store.add(cache_key, 0, timeout=timeout)
    try:
        return int(store.incr(cache_key, amount))
    except ValueError:  # expired between add and incr
        store.set(cache_key, amount, timeout=timeout)
        return amount


def _give_back(store: BaseCache, cache_key: str, amount: int) -> None:
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing left to give back
        store.decr(cache_key, amount)


def rate_limit_hit(*, scope: str, key: str, limit: int, window: int, cache: str) -> int | None:
    """Count one attempt against ``key``'s budget of ``limit`` per ``window`` seconds.

    Returns None when the attempt is within the budget, else the seconds until the window
    resets. The attempt counts either way.
    """
    now = time.time()
    bucket = int(now // window)
    count = _add(caches[cache], _cache_key(scope, key, bucket), 1, window)
    if count > limit:
        return max(1, int((bucket + 1) * window - now))
    return None


@dataclass(frozen=True)
class Budget:
    """``amount`` to spend from ``key``'s ``limit`` in ``scope``; ``refusal`` is what the caller
    is told when this budget is the one spent."""

    scope: str
    key: str
    limit: int
    refusal: str
    amount: int = 1


def budgets_take(budgets: Sequence[Budget], *, window: int, cache: str) -> None:
    """Spend every budget, or none: raise :class:`RateLimited` naming the first one that would
    go over, after giving back what was taken from the others."""
    now = time.time()
    bucket = int(now // window)
    store = caches[cache]
    taken: list[tuple[str, int]] = []
    refused: Budget | None = None
    for budget in budgets:
        if budget.amount <= 0:
            continue
        cache_key = _cache_key(budget.scope, budget.key, bucket)
        count = _add(store, cache_key, budget.amount, window)
        taken.append((cache_key, budget.amount))
        if count > budget.limit:
            refused = budget
            break
    if refused is None:
        return
    for cache_key, amount in taken:
        _give_back(store, cache_key, amount)
    retry_after = max(1, int((bucket + 1) * window - now))
    raise RateLimited(
        f"{refused.refusal}; try again in {_wait(retry_after)}.", retry_after=retry_after
    )


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


# --- mutations --------------------------------------------------------------------------------


def mutation_budget_take(caller: str) -> None:
    """One mutation by ``caller`` (an API token, user, guest link or client IP, as the door
    names them) against MUTATION_RATE_LIMIT per minute."""
    limits = escalated_settings.MUTATION_RATE_LIMIT
    budgets_take(
        [
            Budget(
                "mutation",
                caller,
                limits["PER_MINUTE"],
                "Too many changes in a short time",
            )
        ],
        window=60,
        cache=limits["CACHE"],
    )


# --- replies and attachments ------------------------------------------------------------------

# The budgets are spent in the services (ticket_create, guest_ticket_create and the one helper
# behind ticket_reply and ticket_note_add), so every door is bound the same way: GraphQL over
# HTTP and the websocket, the support pages and the guest portal (which run the same mutations),
# inbound email, and the hosted callbacks. Inbound email's own policy only keeps out mail no
# person wrote (Auto-Submitted, bulk Precedence, bounces); a sender or an autoresponder that
# ignores those headers is stopped here, per ticket and per sender, and its message is kept as
# failed for an admin's retry rather than lost.

# Who spends the reply and attachment budgets: the people a helpdesk answers. Staff are not
# counted: their volume is their job, bounded per minute by MUTATION_RATE_LIMIT, and counting
# their replies against a ticket's budget would let a customer who floods a ticket lock its
# agents out of answering it. Rules and commands (SYSTEM) are the helpdesk's own doing.
_COUNTED = frozenset({Role.CUSTOMER, Role.GUEST})


def requester_key(author: Any) -> str | None:
    """The budget a message's author spends from, whichever door it came through: a signed-in
    account by its id, a guest by their address (so a guest's tickets, and their emails, share
    one budget). None for authors who are not counted."""
    role = role_of(author)
    if role not in _COUNTED:
        return None
    if role is Role.GUEST:
        return guest_requester_key(author.email)
    return f"user:{author.pk}"


def guest_requester_key(email: str) -> str:
    return f"email:{email.casefold()}"


def message_budgets_take(
    *, ticket_id: int | None, requester: str | None, replies: int, files: int
) -> None:
    """Spend ``replies`` replies and ``files`` attachments of MESSAGE_RATE_LIMIT's hourly
    budgets, per ticket (``ticket_id``; None for a ticket being opened) and per ``requester``
    (:func:`requester_key`; None: not counted).

    The services call it once the message passed every other check, so a refused or invalid
    attempt, or one at a ticket the author may not reach, never spends a ticket's budget.
    """
    if requester is None:
        return
    limits = escalated_settings.MESSAGE_RATE_LIMIT
    budgets: list[Budget] = []
    if ticket_id is not None:
        ticket = f"ticket:{ticket_id}"
        budgets += [
            Budget(
                "replies-ticket",
                ticket,
                limits["REPLIES_PER_TICKET"],
                "This ticket has had too many messages in the last hour",
                replies,
            ),
            Budget(
                "files-ticket",
                ticket,
                limits["ATTACHMENTS_PER_TICKET"],
                "Too many files have been attached to this ticket in the last hour",
                files,
            ),
        ]
    budgets += [
        Budget(
            "replies-requester",
            requester,
            limits["REPLIES_PER_REQUESTER"],
            "You have sent too many messages in the last hour",
            replies,
        ),
        Budget(
            "files-requester",
            requester,
            limits["ATTACHMENTS_PER_REQUESTER"],
            "You have attached too many files in the last hour",
            files,
        ),
    ]
    budgets_take(budgets, window=limits["WINDOW_SECONDS"], cache=limits["CACHE"])


# --- things held open -------------------------------------------------------------------------


@dataclass
class Hold:
    """One holder's place in some counts of open things (see :func:`hold_take`)."""

    cache: str
    window: int
    scopes: tuple[tuple[str, str], ...]
    # The windows this holder is counted in.
    buckets: set[int] = field(default_factory=set)

    def _keys(self, bucket: int) -> list[str]:
        return [_cache_key(scope, key, bucket) for scope, key in self.scopes]

    def _count_in(self, bucket: int) -> list[int]:
        self.buckets.add(bucket)
        store = caches[self.cache]
        return [_add(store, k, 1, 3 * self.window) for k in self._keys(bucket)]

    def refresh(self) -> None:
        """Count this holder in the next window too; call at least once a window (every half
        window leaves room for a late timer)."""
        upcoming = int(time.time() // self.window) + 1
        if upcoming not in self.buckets:
            self._count_in(upcoming)

    def release(self) -> None:
        """Leave every count this holder is still in."""
        current = int(time.time() // self.window)
        store = caches[self.cache]
        for bucket in sorted(self.buckets):
            if bucket >= current:
                for cache_key in self._keys(bucket):
                    _give_back(store, cache_key, 1)
        self.buckets.clear()


def hold_take(budgets: Sequence[tuple[str, str, int]], *, window: int, cache: str) -> Hold | None:
    """Take a place in each ``(scope, key, limit)`` count of things held open, or in none
    (returns None) when one of them is full.

    A holder is counted in the current window and the next, and :meth:`Hold.refresh` counts it
    in each next one while it lives, so the current window's count is never less than the
    number of live holders, and holders that vanished without :meth:`Hold.release` stop
    counting after at most two windows.
    """
    hold = Hold(cache=cache, window=window, scopes=tuple((s, k) for s, k, _ in budgets))
    current = int(time.time() // window)
    counts = hold._count_in(current)
    hold._count_in(current + 1)
    if any(count > limit for count, (_s, _k, limit) in zip(counts, budgets, strict=True)):
        hold.release()
        return None
    return hold
