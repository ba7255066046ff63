"""Client-side pacing: start requests no faster than the model's rate-limit tier allows.

Per key (usually the model id) the pacer keeps the start times of the last minute and day, the
number of requests in flight, and a "blocked until" time set when the server answered 429. A slot
is granted when all of these allow it:

* fewer than ``requests_per_minute`` starts in the sliding 60 s window (else wait for the oldest
  start to leave it),
* fewer than ``concurrent_requests`` in flight (else wait for one to finish),
* no server-requested wait pending (``note_rate_limited``),
* fewer than ``requests_per_day`` starts in the sliding 24 h window; this one never blocks:
  a spent day budget raises :class:`RateLimitError` at once, with ``resets_at``;
* with a ``tokens_per_minute`` limit, room for the request's tokens in the sliding 60 s window
  (its prompt estimate plus its completion cap at the start, its real usage once known).

The server counts a request when it *arrives*, which is after we granted it, so a start stamp
moves to when the response answered (``Permit.answered_at``: the headers of a stream, else the
release): no later than that, the server had counted it, so our window never runs ahead of the
server's. A request the server refused with 429 was not counted there, so its stamp is given back
(``Permit.refused``).

Waits longer than ``max_wait`` fail fast the same way. One lock guards the state, so threads and
coroutines (on any number of event loops) can share a pacer: threads block in ``clock.sleep`` or
on a condition, coroutines in ``clock.asleep`` or on a future woken thread-safely.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import TYPE_CHECKING, Any

from ..common.clock import Clock, MonotonicClock, asleep_unless, sleep_unless
from ..common.limits import FREE_TIER_LIMITS, TierLimits, limits_for_tier
from ..errors import RateLimitError
from .pacing_refusals import pacing_refusal
from .pacing_windows import (
    DAY,
    MARGIN,
    MINUTE,
    KeyState,
    PacerStats,
    Permit,
    TokenEntry,
    restamp,
    wake,
    window_token_wait,
)

if TYPE_CHECKING:
    import asyncio

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not

__all__ = ["Pacer", "limits_with_overrides"]

ANNOUNCE_AFTER = 2.0  # clock seconds of pacing wait worth a warning
_REAL_POLL = 0.25  # real seconds between re-checks while waiting for a concurrency slot


def limits_with_overrides(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, TierLimits]:
    """The free-tier table with per-tier changes (paid usage, custom endpoints).

    Raises:
        ConfigurationError: An unknown field name in an override.
    """
    limits = dict(FREE_TIER_LIMITS)
    for tier in overrides:  # overriding a family (custom) replaces its per-model rows too
        for key in [k for k in limits if k.startswith(f"{tier.lower()}:")]:
            del limits[key]
    for tier, changes in overrides.items():
        try:
            limits[tier] = limits_for_tier(tier).with_overrides(tier=tier, **changes)
        except TypeError as exc:
            from ..errors import ConfigurationError

            raise ConfigurationError(
                what=f"Checking extra['rate_limits'][{tier!r}]", why=str(exc),
                fix="use the fields requests_per_minute, requests_per_day, "
                    "max_input_tokens, max_output_tokens, concurrent_requests, "
                    "tokens_per_minute") from exc
    return limits


class Pacer:
    """Spreads requests so that each key stays within its tier's limits (thread- and async-safe).

    Args:
        limits: Limits per tier name; they replace the free-tier defaults of those tiers (pass a
            ``TierLimits`` with ``None`` fields to lift a limit). Unknown tiers are unlimited.
        clock: Time source (default: real monotonic time).
        enabled: False turns pacing off: slots are granted at once.
        max_wait: Longest wait (clock seconds) a slot may block; longer waits raise instead.
    """

    def __init__(
        self,
        limits: Mapping[str, TierLimits] | None = None,
        clock: Clock | None = None,
        enabled: bool = True,
        *,
        max_wait: float = 120.0,
    ) -> None:
        if max_wait < 0:
            raise ValueError(f"Pacer max_wait must be >= 0, got {max_wait!r}")
        given = {k.lower(): v for k, v in (limits or {}).items()}
        # a family given explicitly (custom) replaces its default per-model rows (custom:o3)
        self._limits: dict[str, TierLimits] = {
            k: v for k, v in FREE_TIER_LIMITS.items()
            if ":" not in k or k.split(":", 1)[0] not in given}
        self._limits.update(given)
        self.clock: Clock = clock or MonotonicClock()
        self.enabled = enabled
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._keys: dict[str, KeyState] = {}
        self._granted = self._waits = self._rejected = 0
        self._waited = 0.0

    def limits_for(self, tier: str | None) -> TierLimits:
        """The limits the pacer applies to ``tier`` (a ``custom:<model>`` row falls back to its
        family, so an override of ``custom`` applies to every custom model)."""
        if tier is None:
            return limits_for_tier(None)
        found = self._limits.get(tier.lower())
        if found is None and ":" in tier:
            found = self._limits.get(tier.split(":", 1)[0].lower())
        return found or limits_for_tier(tier)

    # ---- public API -------------------------------------------------------------------------

    @contextmanager
    def slot(self, key: str, tier: str | None,
             body: Mapping[str, Any] | None = None,
             check: Callable[[], None] | None = None) -> Iterator[Permit]:
        """Block until a request on ``key`` may start, hold the slot while the body runs.

        ``body`` (the request) lets a pacer with a tokens-per-minute budget estimate its cost;
        ``check`` runs every 50 ms of the wait and raises to abandon it (a cancelled stream).

        Raises:
            RateLimitError: The day budget is spent, or the wait would exceed ``max_wait``
                (``status`` None, ``client_side`` True); nothing was sent.
        """
        permit = self._acquire_sync(key, tier, body, check)
        try:
            yield permit
        finally:
            self._release(key, permit)

    @asynccontextmanager
    async def aslot(self, key: str, tier: str | None,
                    body: Mapping[str, Any] | None = None,
                    check: Callable[[], None] | None = None) -> AsyncIterator[Permit]:
        """The asyncio form of :meth:`slot`; waits without blocking the event loop.

        Raises:
            RateLimitError: As :meth:`slot`.
        """
        permit = await self._acquire_async(key, tier, body, check)
        try:
            yield permit
        finally:
            self._release(key, permit)

    def note_rate_limited(
        self, key: str, tier: str | None, retry_after: float | None, limit_type: str = "unknown"
    ) -> None:
        """Record that the server refused ``key`` with a 429: no slot starts before the wait ends.

        ``tier`` is accepted for symmetry with :meth:`slot` (state is per key). A missing or zero
        ``retry_after`` blocks nothing: concurrency 429s are handled by the retry backoff.
        """
        del tier
        if not self.enabled or retry_after is None or retry_after <= 0:
            return
        with self._lock:
            state = self._state(key)
            until = self.clock.now() + float(retry_after)
            if until > state.blocked_until:
                state.blocked_until = until
                state.blocked_type = limit_type

    def close(self) -> None:
        """Release what the pacer holds outside the process (nothing here; see SharedPacer)."""

    def stats(self) -> PacerStats:
        """A snapshot of the counters."""
        with self._lock:
            return PacerStats(self._granted, self._waits, self._waited, self._rejected,
                              sum(s.in_flight for s in self._keys.values()))

    # ---- the decision -------------------------------------------------------------------------

    def _state(self, key: str) -> KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = KeyState()
        return state

    def _try_start(self, key: str, tier: str | None, now: float,
                   tokens: int = 0) -> tuple[float, bool]:
        """Under the lock: start now (``(0, False)``), or say what to wait for.

        Returns:
            ``(seconds, False)`` to wait for time to pass, ``(0, True)`` to wait for a release.

        Raises:
            RateLimitError: The day budget is spent or the wait is longer than ``max_wait``.
        """
        limits = self.limits_for(tier)
        state = self._state(key)
        while state.minute and state.minute[0] <= now - MINUTE:
            state.minute.popleft()
        while state.day and state.day[0] <= now - DAY:
            state.day.popleft()
        rpd = limits.requests_per_day
        if rpd is not None and len(state.day) >= rpd:
            wait = state.day[len(state.day) - rpd] + DAY - now + MARGIN
            raise self._refusal(key, limits, "per_day", wait, rpd)
        wait = 0.0
        if state.blocked_until > now:
            wait = state.blocked_until - now
        rpm = limits.requests_per_minute
        if rpm is not None and len(state.minute) >= rpm:
            wait = max(wait, state.minute[len(state.minute) - rpm] + MINUTE - now + MARGIN)
        token_wait = window_token_wait(state.tokens, limits.tokens_per_minute, tokens, now)
        if wait > self.max_wait or token_wait > self.max_wait:
            if state.blocked_until - now >= max(wait, token_wait):
                raise self._refusal(key, limits, state.blocked_type, wait, None, server=True)
            if token_wait > wait:
                raise self._refusal(key, limits, "tokens_per_minute", token_wait,
                                    limits.tokens_per_minute)
            raise self._refusal(key, limits, "per_minute", wait, rpm)
        wait = max(wait, token_wait)
        if wait > 0:
            return wait, False
        cap = limits.concurrent_requests
        if cap is not None and state.in_flight >= cap:
            return 0.0, True
        state.minute.append(now)
        state.day.append(now)
        state.in_flight += 1
        if limits.tokens_per_minute is not None and tokens:
            state.tokens.append(TokenEntry(now, tokens))
        return 0.0, False

    def _refusal(
        self, key: str, limits: TierLimits, kind: str, wait: float, limit: int | None,
        *, server: bool = False, waited: float | None = None,
    ) -> RateLimitError:
        self._rejected += 1
        return pacing_refusal(key, limits, kind, wait, limit, self.max_wait,
                              server=server, waited=waited)

    def _granted_after(self, key: str, tier: str | None, now: float, waited: float) -> Permit:
        self._granted += 1
        if waited > 0:
            self._waits += 1
            self._waited += waited
        return Permit(key, tier or "unlimited", now, waited)

    # ---- waiting ------------------------------------------------------------------------------

    def _announce(self, key: str, tier: str | None, wait: float, now: float) -> None:
        """Under the lock: say so when pacing holds a request back noticeably (at most once a
        minute per key), so a paced call never looks hung."""
        if wait < ANNOUNCE_AFTER:
            return
        state = self._state(key)
        if now - state.announced_at < MINUTE:
            return
        state.announced_at = now
        logger.warning(
            "pacing: holding the next %s request %.0f s to stay within the %s limits "
            "(client-side; with paid usage or a custom endpoint set JAATO_GITHUB_PACING=false "
            "or raise extra['rate_limits'])", key, wait, self.limits_for(tier).tier)

    def _check_slot_wait(self, key: str, tier: str | None, real_start: float) -> None:
        """Under the lock: refuse once a wait for a concurrency slot outlasts ``max_wait``.

        Measured in real seconds: the slot frees when a real request finishes.
        """
        waited = time.monotonic() - real_start
        if waited > self.max_wait:
            limits = self.limits_for(tier)
            raise self._refusal(key, limits, "concurrent", 0.0, limits.concurrent_requests,
                                waited=waited)

    def _estimate(self, body: Mapping[str, Any] | None, limits: TierLimits) -> int:
        """Tokens a request counts against a tokens-per-minute budget (0 without one): the
        prompt estimate plus the completion cap (``max_tokens``, else the tier's output cap)."""
        if limits.tokens_per_minute is None or body is None:
            return 0
        from ..wire.tokens import estimate_request_tokens

        cap = body.get("max_completion_tokens") or body.get("max_tokens")
        if not isinstance(cap, int):
            cap = limits.max_output_tokens or 0
        return max(1, estimate_request_tokens(body.get("messages") or [], body.get("tools"))
                   + cap)

    def _with_tokens(self, permit: Permit, key: str, tokens: int) -> Permit:
        """Under the lock, after a grant: tie the permit to its tokens-per-minute entry."""
        window = self._state(key).tokens
        if tokens and window and window[-1].stamp == permit.started_at:
            permit.tokens, permit.token_entry = tokens, window[-1]
        return permit

    def _acquire_sync(self, key: str, tier: str | None,
                      body: Mapping[str, Any] | None = None,
                      check: Callable[[], None] | None = None) -> Permit:
        start, real_start = self.clock.now(), time.monotonic()
        if not self.enabled:
            return self._untracked(key, tier, start)
        tokens = self._estimate(body, self.limits_for(tier))
        while True:
            if check is not None:
                check()
            with self._lock:
                permit, wait, for_release = self._try_once(key, tier, start, real_start, tokens)
                if permit is not None:
                    return permit
                if for_release:
                    self._released.wait(_REAL_POLL)
                    continue
            sleep_unless(self.clock, wait, check)

    def _try_once(self, key: str, tier: str | None, start: float, real_start: float,
                  tokens: int) -> tuple[Permit | None, float, bool]:
        """One try, under the lock, of both acquire loops: ``(permit, 0, False)`` when granted,
        else the wait and whether it is for a release (a wait for time is announced here).

        Raises:
            RateLimitError: waiting for a slot has taken too long (``_check_slot_wait``).
        """
        now = self.clock.now()
        wait, for_release = self._try_start(key, tier, now, tokens)
        if wait == 0 and not for_release:
            return self._with_tokens(self._granted_after(key, tier, now, now - start),
                                     key, tokens), 0.0, False
        if for_release:
            self._check_slot_wait(key, tier, real_start)
        else:
            self._announce(key, tier, wait, now)
        return None, wait, for_release

    async def _acquire_async(self, key: str, tier: str | None,
                             body: Mapping[str, Any] | None = None,
                             check: Callable[[], None] | None = None) -> Permit:
        start, real_start = self.clock.now(), time.monotonic()
        if not self.enabled:
            return self._untracked(key, tier, start)
        import asyncio

        tokens = self._estimate(body, self.limits_for(tier))
        loop = asyncio.get_running_loop()
        while True:
            if check is not None:
                check()
            future: asyncio.Future[None] | None = None
            with self._lock:
                permit, wait, for_release = self._try_once(key, tier, start, real_start, tokens)
                if permit is not None:
                    return permit
                if for_release:
                    future = loop.create_future()
                    # drop waiters that timed out, so a long-held slot does not grow the list
                    self._async_waiters = [w for w in self._async_waiters if not w[1].done()]
                    self._async_waiters.append((loop, future))
            if future is not None:
                with suppress(TimeoutError):
                    await asyncio.wait_for(future, _REAL_POLL)
            else:
                await asleep_unless(self.clock, wait, check)

    def _untracked(self, key: str, tier: str | None, now: float) -> Permit:
        with self._lock:
            self._granted += 1
            self._state(key).in_flight += 1
        return Permit(key, tier or "unlimited", now, 0.0, tracked=False)

    def _release(self, key: str, permit: Permit) -> None:
        with self._lock:
            state = self._state(key)
            state.in_flight = max(0, state.in_flight - 1)
            if permit.tracked:
                stamp = permit.started_at
                answered = permit.answered_at
                moved = None if permit.refused else (
                    self.clock.now() if answered is None else answered)
                for window in (state.minute, state.day):
                    restamp(window, stamp, moved)
            entry = permit.token_entry
            if entry is not None:
                if permit.refused:  # not counted by the server: its tokens leave the window
                    with suppress(ValueError):
                        state.tokens.remove(entry)
                elif permit.used_tokens is not None:
                    entry.amount = permit.used_tokens
            waiters, self._async_waiters = self._async_waiters, []
            self._released.notify_all()
        for loop, future in waiters:
            with suppress(RuntimeError):  # a closed loop: its waiter is gone too
                loop.call_soon_threadsafe(wake, future)
