"""Pacing shared by every process that uses one quota, through a Redis/Valkey rate store.

:class:`SharedPacer` is a :class:`~.pacing.Pacer` whose decisions come from the store
(``rate_store``): requests per minute and per day, concurrency slots (leased: a slot of a process
that died frees itself), a server's 429 pause seen by any process, and a tokens-per-minute budget
(the prompt estimate plus the completion cap at the start, the real usage once the response
tells it; a stream keeps its estimate).

When the store stops answering, the pacer logs one warning and falls back to the in-process
pacing it inherits (no hang: store calls time out after ``socket_timeout``, 0.5 s by default);
it tries the store again every few seconds and says so when it is back. In strict mode it raises
:class:`~.rate_store.RateStoreError` instead of falling back. A refused login always raises.

Time: the store's clock, in real seconds. A test's :class:`~.clock.ScaledClock` (``factor``)
shrinks the windows the same way it shrinks the in-process ones.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..common.clock import Clock, asleep_unless, sleep_unless
from ..common.limits import TierLimits
from ..errors import RateLimitError
from .pacing import Pacer
from .pacing_windows import DAY, MARGIN, MINUTE, Permit, wake
from .rate_store import (
    Budget,
    Decision,
    RateStore,
    RateStoreError,
    StoreDown,
    parse_store_url,
    scope_name,
)

if TYPE_CHECKING:
    from ..config.settings import Settings

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not

__all__ = ["SharedPacer", "shared_pacer_for"]

RETRY_DOWN = 5.0  # real seconds between attempts to reach a store that went down
_POLL = 0.01  # real seconds between re-checks while every shared concurrency slot is taken


def shared_pacer_for(settings: Settings, limits: Mapping[str, TierLimits], clock: Clock
                     ) -> SharedPacer:
    """The pacer of a provider whose settings name a rate store.

    Raises:
        ConfigurationError: A malformed store URL.
        RateStoreError: The login was refused, the client is missing, or (strict mode) the
            store is unreachable.
    """
    location = parse_store_url(settings.rate_store or "")
    store = RateStore(location)
    lease = 2 * settings.read_timeout + 10  # a request past its timeout has ended
    cache = settings.token_cache

    def party() -> str:  # with Entra ID the billed party is the identity, not the empty key
        return settings.token if cache is None else cache.identity()

    return SharedPacer(limits, clock, store=store, strict=settings.rate_store_strict,
                       max_wait=settings.max_retry_wait, lease=lease,
                       scope=lambda key: scope_name(settings.endpoint, settings.organization,
                                                    party(), key))


class SharedPacer(Pacer):
    """Paces against a shared store, falling back to in-process pacing when it is down.

    Args:
        limits, clock, max_wait: As :class:`Pacer`.
        store: The store.
        scope: Maps a pacer key (model) to its scope in the store.
        strict: Raise instead of falling back when the store is unreachable.
        lease: Real seconds a concurrency slot stays taken if its process never frees it.

    Raises:
        RateStoreError: At construction, as :func:`shared_pacer_for`.
    """

    def __init__(self, limits: Mapping[str, TierLimits] | None, clock: Clock | None, *,
                 store: RateStore, scope: Callable[[str], str], strict: bool = False,
                 max_wait: float = 120.0,
                 lease: float = 130.0) -> None:
        super().__init__(limits, clock, True, max_wait=max_wait)
        self.store = store
        self.strict = strict
        self.lease = lease
        self._scope = scope
        self._scale = float(getattr(self.clock, "factor", 1.0))  # clock seconds per store second
        self._health = threading.Lock()
        self.down_since: float | None = None
        self._retry_at = 0.0
        self.retry_down = RETRY_DOWN  # real seconds between tries of a store that is down
        self.fallbacks = 0  # slots granted in-process because the store was down
        self.latency: float | None = None  # seconds of a PING at start
        try:
            self.latency = store.ping()
        except StoreDown as exc:
            try:
                self._went_down(exc, "at start")
            except RateStoreError:
                store.close()
                raise
        except RateStoreError:
            store.close()
            raise

    def __repr__(self) -> str:
        state = "down" if self.down_since is not None else "up"
        return f"SharedPacer({self.store.location.display}, {state})"

    @property
    def store_up(self) -> bool:
        """Whether the last store call succeeded."""
        return self.down_since is None

    def close(self) -> None:
        """Close the store's connections."""
        self.store.close()

    # ---- health ---------------------------------------------------------------------------------

    def _use_store(self) -> bool:
        with self._health:
            return self.strict or self.down_since is None or time.monotonic() >= self._retry_at

    def _went_down(self, exc: StoreDown, when: str = "mid-run") -> None:
        """Record an outage; warn once per outage. Raises RateStoreError in strict mode."""
        with self._health:
            first = self.down_since is None
            if first:
                self.down_since = time.monotonic()
            self._retry_at = time.monotonic() + self.retry_down
        where = self.store.location.display
        if self.strict:
            raise RateStoreError(
                what=f"Pacing through the rate store {where}",
                why=f"the store did not answer {when} ({exc}); strict mode forbids "
                    "falling back to per-process pacing",
                fix="start or reach the store (check host, port, TLS and socket_timeout in the "
                    "URL), or set JAATO_GITHUB_RATE_STORE_STRICT=false to fall back",
                reason="unreachable", store=where) from exc
        if first:
            logger.warning(
                "rate store %s did not answer %s (%s): pacing falls back to per-process limits, "
                "so several processes may together exceed the shared quota; retrying the store "
                "every %g s", where, when, exc, self.retry_down)

    def _came_back(self) -> None:
        with self._health:
            if self.down_since is None:
                return
            outage = time.monotonic() - self.down_since
            self.down_since = None
        logger.warning("rate store %s answers again after %.1f s: pacing is shared again",
                       self.store.location.display, outage)

    def scope_of(self, model: str) -> str:
        """The store scope (endpoint, org or token, model) whose quota ``model``'s calls use."""
        return self._scope(model)

    def budget(self, model: str) -> Budget:
        """The use of ``model``'s quota scope right now (its pause in this clock's seconds).

        Raises:
            StoreDown: The store did not answer.
            RateStoreError: A refused login.
        """
        use = self.store.budget(self.scope_of(model), **self._windows())
        return replace(use, paused_for=use.paused_for * self._scale)

    # ---- the decision -------------------------------------------------------------------------

    def _windows(self) -> dict[str, float]:
        return {"minute": MINUTE / self._scale, "day": DAY / self._scale}

    def _step(self, key: str, limits: TierLimits, request_id: str, tokens: int,
              start: float | None, real_start: float) -> Permit | tuple[float, bool] | None:
        """One try at the store: a permit, ``(clock seconds, False)`` to sleep, ``(real
        seconds, True)`` to poll for a free slot, or None to fall back to in-process pacing.

        Raises:
            RateLimitError: The day budget is spent or the wait exceeds ``max_wait``.
            RateStoreError: A refused login; in strict mode, an unreachable store.
        """
        scope = self._scope(key)
        try:
            decision = self.store.acquire(scope, limits, request_id, tokens,
                                          lease=self.lease, **self._windows())
        except StoreDown as exc:
            self._went_down(exc)
            return None
        self._came_back()
        if decision.kind == "ok":  # start None: granted without waiting
            now = self.clock.now()
            with self._lock:
                permit = self._granted_after(key, limits.tier, now,
                                             0.0 if start is None else now - start)
            permit.shared_scope = scope  # released there even if the scope moves meanwhile
            return permit
        if decision.kind == "busy":
            with self._lock:
                self._check_slot_wait(key, limits.tier, real_start)
            return min(_POLL, max(decision.seconds, 0.001)), True
        wait = decision.seconds * self._scale + MARGIN
        if decision.kind == "day":
            with self._lock:
                raise self._refusal(key, limits, "per_day", wait, limits.requests_per_day)
        if wait > self.max_wait:
            with self._lock:
                raise self._too_long(key, limits, decision, wait)
        with self._lock:
            self._announce(key, limits.tier, wait, self.clock.now())
        return wait, False

    def _too_long(self, key: str, limits: TierLimits, decision: Decision, wait: float
                  ) -> RateLimitError:
        if decision.why.startswith("server:"):
            return self._refusal(key, limits, decision.why[7:], wait, None, server=True)
        if decision.why == "tokens_per_minute":
            return self._refusal(key, limits, "tokens_per_minute", wait,
                                 limits.tokens_per_minute)
        return self._refusal(key, limits, "per_minute", wait, limits.requests_per_minute)

    def _permit(self, permit: Permit, request_id: str, tokens: int) -> Permit:
        permit.shared_id, permit.tokens = request_id, tokens
        return permit

    def _acquire_sync(self, key: str, tier: str | None,
                      body: Mapping[str, Any] | None = None,
                      check: Callable[[], None] | None = None) -> Permit:
        if not self._use_store():
            return self._fallback_sync(key, tier, body, check)
        limits = self.limits_for(tier)
        request_id, tokens = uuid.uuid4().hex, self._estimate(body, limits)
        start, real_start = self.clock.now(), time.monotonic()
        waited_from: float | None = None  # set once the request had to wait
        while True:
            if check is not None:
                check()
            step = self._step(key, limits, request_id, tokens, waited_from, real_start)
            if step is None:
                return self._fallback_sync(key, tier, body, check)
            if isinstance(step, Permit):
                return self._permit(step, request_id, tokens)
            seconds, poll = step
            waited_from = start
            if poll:
                with self._lock:
                    self._released.wait(seconds)
            else:
                sleep_unless(self.clock, seconds, check)

    async def _acquire_async(self, key: str, tier: str | None,
                             body: Mapping[str, Any] | None = None,
                             check: Callable[[], None] | None = None) -> Permit:
        import asyncio

        if not self._use_store():
            return await self._fallback_async(key, tier, body, check)
        limits = self.limits_for(tier)
        request_id, tokens = uuid.uuid4().hex, self._estimate(body, limits)
        start, real_start = self.clock.now(), time.monotonic()
        waited_from: float | None = None  # set once the request had to wait
        while True:  # store calls block up to the socket timeout: off the event loop
            if check is not None:
                check()
            step = await self._step_async(key, limits, request_id, tokens, waited_from,
                                          real_start)
            if step is None:
                return await self._fallback_async(key, tier, body, check)
            if isinstance(step, Permit):
                return self._permit(step, request_id, tokens)
            seconds, poll = step
            waited_from = start
            await (asyncio.sleep(seconds) if poll else asleep_unless(self.clock, seconds, check))

    async def _step_async(self, key: str, limits: TierLimits, request_id: str, tokens: int,
                          start: float | None, real_start: float
                          ) -> Permit | tuple[float, bool] | None:
        """:meth:`_step` on a worker thread (a store call blocks up to its socket timeout).

        A cancel while the store answers must not keep a fleet-wide slot until its lease ends:
        the thread goes on after the task is cancelled, so whichever side sees the grant last
        (the thread, or the cancelled task if the grant was already handed over) gives it back.

        Raises:
            As :meth:`_step`; ``asyncio.CancelledError`` when the task is cancelled.
        """
        import asyncio

        lock = threading.Lock()
        abandoned = False
        handed: Permit | None = None

        def run() -> Permit | tuple[float, bool] | None:
            nonlocal handed
            step = self._step(key, limits, request_id, tokens, start, real_start)
            with lock:
                if not abandoned:
                    handed = step if isinstance(step, Permit) else None
                    return step
            if isinstance(step, Permit):  # nobody will use it: free the slot now
                self._give_back(key, step, request_id, tokens)
            return None

        try:
            return await asyncio.to_thread(run)
        except asyncio.CancelledError:
            with lock:
                abandoned = True
                permit = handed
            if permit is not None:  # granted and returned, but the task was cancelled
                threading.Thread(target=self._give_back, args=(key, permit, request_id, tokens),
                                 name="rate-store-give-back", daemon=True).start()
            raise

    def _give_back(self, key: str, permit: Permit, request_id: str, tokens: int) -> None:
        """Free a slot granted to a request that was cancelled before it was sent: it does not
        count as a request (``refused``), and its concurrency slot is free at once."""
        permit = self._permit(permit, request_id, tokens)
        permit.refused = True
        self._release(key, permit)

    def _fallback_sync(self, key: str, tier: str | None, body: Mapping[str, Any] | None,
                       check: Callable[[], None] | None = None) -> Permit:
        with self._lock:
            self.fallbacks += 1
        return super()._acquire_sync(key, tier, body, check)

    async def _fallback_async(self, key: str, tier: str | None,
                              body: Mapping[str, Any] | None,
                              check: Callable[[], None] | None = None) -> Permit:
        with self._lock:
            self.fallbacks += 1
        return await super()._acquire_async(key, tier, body, check)

    # ---- the end of a request ---------------------------------------------------------------

    def _release(self, key: str, permit: Permit) -> None:
        if permit.shared_id is None:
            super()._release(key, permit)
            return
        ago = 0.0 if permit.answered_at is None else (
            max(0.0, self.clock.now() - permit.answered_at) / self._scale)
        try:
            self.store.release(permit.shared_scope or self._scope(key), permit.shared_id,
                               refused=permit.refused,
                               ago=ago, used_tokens=permit.used_tokens, **self._windows())
        except StoreDown as exc:  # the slot's lease ends it; the request itself is done
            try:
                self._went_down(exc)
            except RateStoreError as strict:
                logger.warning("%s", strict)
        except RateStoreError as exc:
            logger.warning("%s", exc)
        with self._lock:
            waiters, self._async_waiters = self._async_waiters, []
            self._released.notify_all()
        for loop, future in waiters:
            with suppress(RuntimeError):  # a closed loop: its waiter is gone too
                loop.call_soon_threadsafe(wake, future)

    def note_rate_limited(
        self, key: str, tier: str | None, retry_after: float | None, limit_type: str = "unknown"
    ) -> None:
        """Record a 429's pause in-process and in the store, so every process holds.

        Raises:
            RateStoreError: A refused login (an unreachable store only logs, even in strict
                mode: the next request raises).
        """
        super().note_rate_limited(key, tier, retry_after, limit_type)
        if retry_after is None or retry_after <= 0 or not self._use_store():
            return
        try:
            self.store.block(self._scope(key), float(retry_after) / self._scale, limit_type)
        except StoreDown as exc:
            try:
                self._went_down(exc)
            except RateStoreError as strict:
                logger.warning("%s", strict)
        else:
            self._came_back()
