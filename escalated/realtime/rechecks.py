"""Who an open websocket acts as, read at connect and re-read while it stays open.

Every event is checked against the subscriber's role and departments in memory, so those must
be read from the database beforehand: once when the socket connects, then every
REALTIME_ACCESS_RECHECK_SECONDS. A user who was deactivated or deleted, whose API token was
revoked or expired, whose session ended (signed out, or the password changed elsewhere), or a
guest whose link was rotated, becomes anonymous, and their socket is closed.

The re-reads are batched per process: one task per event loop wakes every tick and re-reads, in
a handful of statements, all the connections whose turn has come (each connection's turn is
spread out over the period, so sockets opened together are not re-read together). A thousand
open queues cost a few statements a second, not a thousand thread hops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.models import AnonymousUser
from django.utils.crypto import constant_time_compare

from escalated.access import (
    GuestActor,
    Role,
    bind_to_site,
    binding_of,
    prime_department_ids,
    role_of,
)
from escalated.conf import escalated_settings
from escalated.models import ApiToken, Site
from escalated.services.guests import guest_refresh

logger = logging.getLogger(__name__)


def current_user(request: Any) -> Any | None:
    """The connection's user (or guest), or None once they may no longer use the helpdesk."""
    return None if role_of(request.user) is Role.ANONYMOUS else request.user


async def reread_access(request: Any) -> None:
    """Read the connection's user again now, with their role and departments."""
    (user,) = await database_sync_to_async(reread)([_Credentials.of(request)])
    request.user = user if user is not None else AnonymousUser()


@dataclass(frozen=True)
class _Credentials:
    user: Any
    token: ApiToken | None
    session_key: str | None

    @classmethod
    def of(cls, request: Any) -> _Credentials:
        return cls(request.user, request.escalated_token, request.session_key)


def reread(connections: list[_Credentials]) -> list[Any | None]:
    """Each connection's user as they stand now (None: no longer allowed in), with role and
    departments read, in a bounded number of statements for the API tokens and departments
    (a session or a guest link is one read each). A connection whose check fails is refused
    (logged): access that cannot be confirmed is not kept."""
    token_ids = [c.token.pk for c in connections if c.token is not None and c.session_key is None]
    tokens = ApiToken.objects.select_related("user").in_bulk(token_ids) if token_ids else {}
    user_ids = [
        c.user.pk
        for c in connections
        if c.token is None and c.session_key is None and not isinstance(c.user, GuestActor)
    ]
    users = get_user_model()._default_manager.in_bulk(user_ids) if user_ids else {}
    found = [_checked(c, tokens, users) for c in connections]
    people = [u for u in found if u is not None and not isinstance(u, GuestActor)]
    prime_department_ids(people)
    for user in people:
        role_of(user)
    return found


def _checked(c: _Credentials, tokens: dict[Any, ApiToken], users: dict[Any, Any]) -> Any | None:
    try:
        return _one(c, tokens, users)
    except Exception:
        logger.exception("Escalated could not re-read a websocket's access; closing it")
        return None


def _one(c: _Credentials, tokens: dict[Any, ApiToken], users: dict[Any, Any]) -> Any | None:
    if isinstance(c.user, GuestActor):
        return guest_refresh(c.user)
    user: Any
    if c.session_key is not None:
        user = session_user(c.session_key)
        if user is None or user.pk != c.user.pk:
            return None
    elif c.token is not None:
        token = tokens.get(c.token.pk)
        if token is None or not token.is_usable:
            return None
        user = token.user
    else:
        user = users.get(c.user.pk)
    if user is None or not user.is_active:
        return None
    binding = binding_of(c.user)
    if binding is not None:
        # A cloud-mode site's person keeps the site and role it connected with, while the
        # site's key stays good.
        if not Site.objects.filter(pk=binding.site_id, revoked_at__isnull=True).exists():
            return None
        bind_to_site(user, site_id=binding.site_id, role=binding.role)
    return user


def session_user(session_key: str) -> Any | None:
    """The user a session is signed in as, if it still is: the session exists (not signed out)
    and carries the user's current password hash (or one made with a SECRET_KEY_FALLBACKS key).

    The checks of :func:`django.contrib.auth.get_user`, without its side effects: that function
    cycles a session verified by a fallback key and flushes a stale one, which here (no response
    to carry a new cookie) would sign the browser out of the whole site.
    """
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return None
    if hasattr(user, "get_session_auth_hash"):
        stored = session.get(HASH_SESSION_KEY) or ""
        candidates = [user.get_session_auth_hash()]
        if hasattr(user, "get_session_auth_fallback_hash"):
            candidates += list(user.get_session_auth_fallback_hash())
        if not any(constant_time_compare(stored, candidate) for candidate in candidates):
            return None
    return user


# --- re-reading while open ---------------------------------------------------------------------

_rechecks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Rechecks] = (
    weakref.WeakKeyDictionary()
)

OnLost = Callable[[], Awaitable[None]]

# How soon a batch whose reads failed is tried again.
RETRY_SECONDS = 5.0


class Rechecks:
    """The open connections of one process (event loop), re-read in batches as their turns come."""

    def __init__(self) -> None:
        self.due: dict[Any, tuple[float, OnLost]] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def current(cls) -> Rechecks:
        loop = asyncio.get_running_loop()
        rechecks = _rechecks.get(loop)
        if rechecks is None:
            rechecks = _rechecks[loop] = cls()
        return rechecks

    def watch(self, request: Any, on_lost: OnLost) -> None:
        """Re-read ``request``'s access every period from now on; call ``on_lost`` once gone."""
        self.due[request] = (self._next_turn(), on_lost)
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def forget(self, request: Any) -> None:
        self.due.pop(request, None)

    @staticmethod
    def _period() -> float:
        return float(escalated_settings.REALTIME_ACCESS_RECHECK_SECONDS)

    def _next_turn(self) -> float:
        now = asyncio.get_running_loop().time()
        return now + self._period() * random.uniform(0.5, 1.0)  # noqa: S311 (not for secrets)

    async def _run(self) -> None:
        try:
            while self.due:
                await asyncio.sleep(min(1.0, self._period() / 10))
                now = asyncio.get_running_loop().time()
                turn = [request for request, (at, _) in self.due.items() if at <= now]
                if turn:
                    try:
                        await self._recheck(turn)
                    except Exception:
                        # The batch's reads failed (the database is away): try these again
                        # shortly, without holding up the connections whose turn comes later.
                        logger.exception("Escalated could not re-read websocket access")
                        self._postpone(turn, RETRY_SECONDS)
        finally:
            self._task = None  # the task holds the loop: let a closed loop go

    def _postpone(self, requests: Iterable[Any], seconds: float) -> None:
        at = asyncio.get_running_loop().time() + seconds
        for request in requests:
            entry = self.due.get(request)
            if entry is not None:
                self.due[request] = (at, entry[1])

    async def _recheck(self, requests: Iterable[Any]) -> None:
        requests = list(requests)
        found = await database_sync_to_async(reread)([_Credentials.of(r) for r in requests])
        for request, user in zip(requests, found, strict=True):
            entry = self.due.get(request)
            if entry is None:  # closed meanwhile
                continue
            request.user = user if user is not None else AnonymousUser()
            if user is None:
                self.forget(request)
                with contextlib.suppress(Exception):
                    await entry[1]()
            else:
                self.due[request] = (self._next_turn(), entry[1])
