"""Time sources: the real monotonic clock, and a scaled or manual one for tests and the emulator.

Pacing, retry sleeps and the emulator's rate-limit windows all read time through a ``Clock`` so
that a test can run a one-minute window in milliseconds (``ScaledClock(1000)``) or drive time by
hand (``ManualClock``). Durations passed to ``sleep`` are in clock seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    pass

__all__ = ["CANCEL_POLL", "Clock", "ManualClock", "MonotonicClock", "ScaledClock", "asleep_unless",
           "sleep_unless"]

CANCEL_POLL = 0.05
"""Real seconds between cancel checks during a cancellable wait."""


@runtime_checkable
class Clock(Protocol):
    """A source of time in seconds, with sleeps measured in the same seconds."""

    def now(self) -> float:
        """Current time in clock seconds (monotonic)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds`` clock seconds."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Suspend the calling coroutine for ``seconds`` clock seconds."""
        ...


class MonotonicClock:
    """Real time."""

    def now(self) -> float:
        """Current monotonic time."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Sleep for real, asynchronously."""
        if seconds > 0:
            import asyncio

            await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "MonotonicClock()"


class ScaledClock:
    """Time that runs ``factor`` times faster than real time (``factor=60``: a minute a second)."""

    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError(f"ScaledClock factor must be > 0, got {factor!r}")
        self.factor = float(factor)
        self._origin = time.monotonic()

    def now(self) -> float:
        """Scaled seconds since the clock was made."""
        return (time.monotonic() - self._origin) * self.factor

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds / factor`` real seconds."""
        if seconds > 0:
            time.sleep(seconds / self.factor)

    async def asleep(self, seconds: float) -> None:
        """Sleep ``seconds / factor`` real seconds, asynchronously."""
        if seconds > 0:
            import asyncio

            await asyncio.sleep(seconds / self.factor)

    def __repr__(self) -> str:
        return f"ScaledClock(factor={self.factor})"


class ManualClock:
    """Time that moves only when ``advance`` (or ``sleep``) is called. Thread-safe."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        """The current manual time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance time instead of blocking."""
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        """Like ``sleep``; yields to the event loop once."""
        self.sleep(seconds)
        import asyncio

        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now()})"


def _slice(clock: Clock) -> float:
    """:data:`CANCEL_POLL` real seconds in ``clock`` seconds."""
    return CANCEL_POLL * float(getattr(clock, "factor", 1.0))


def sleep_unless(clock: Clock, seconds: float, check: Callable[[], None] | None) -> None:
    """``clock.sleep(seconds)``, calling ``check`` (which raises to stop) every 50 ms real time."""
    if check is None:
        clock.sleep(seconds)
        return
    end = clock.now() + seconds
    step = _slice(clock)
    check()
    while (left := end - clock.now()) > 0:
        clock.sleep(min(left, step))
        check()


async def asleep_unless(clock: Clock, seconds: float, check: Callable[[], None] | None) -> None:
    """The asyncio form of :func:`sleep_unless`."""
    if check is None:
        await clock.asleep(seconds)
        return
    end = clock.now() + seconds
    step = _slice(clock)
    check()
    while (left := end - clock.now()) > 0:
        await clock.asleep(min(left, step))
        check()
