"""A pacer's bookkeeping: the permit it grants and the sliding windows it keeps per key.

No locking and no waiting here (``pacing.Pacer`` holds the lock and decides); these are the data
and the window arithmetic, shared with ``shared_pacing.SharedPacer``.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "DAY",
    "MARGIN",
    "MINUTE",
    "KeyState",
    "PacerStats",
    "Permit",
    "TokenEntry",
    "restamp",
    "wake",
    "window_token_wait",
]

MINUTE = 60.0
DAY = 86400.0
MARGIN = 1e-6  # waits end just after the window edge, never on it


@dataclass(slots=True)
class Permit:
    """A granted slot: when it started (clock seconds) and how long it waited for it.

    Set ``answered_at`` (clock seconds) when a response started, ``refused`` when the server
    answered 429 (the attempt then does not count in the window).
    """

    key: str
    tier: str
    started_at: float
    waited: float
    refused: bool = False
    answered_at: float | None = None
    tracked: bool = True
    # set by a shared pacer (shared_pacing.py): the slot's id in the store, the tokens counted
    # against a tokens-per-minute budget, and the real usage once the response told it
    shared_id: str | None = None
    shared_scope: str | None = None  # the store scope it was granted in (released there)
    tokens: int = 0
    used_tokens: int | None = None
    token_entry: TokenEntry | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class PacerStats:
    """Counters since the pacer was made."""

    granted: int
    waits: int
    waited_seconds: float
    rejected: int
    in_flight: int


@dataclass(slots=True)
class TokenEntry:
    """One request's entry in a tokens-per-minute window (``amount`` becomes the real usage)."""

    stamp: float
    amount: int


@dataclass(slots=True)
class KeyState:
    """One key's windows: start stamps of the last minute and day, token entries, requests in
    flight and the server-requested pause."""

    tokens: deque[TokenEntry] = field(default_factory=deque)
    minute: deque[float] = field(default_factory=deque)
    day: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    blocked_until: float = 0.0
    blocked_type: str = "unknown"
    announced_at: float = float("-inf")


def window_token_wait(window: deque[TokenEntry], limit: int | None, tokens: int,
                      now: float) -> float:
    """Seconds until ``tokens`` fit in the last minute's ``limit`` (0: now); drops entries that
    left the window. A request larger than the whole budget goes alone into an empty window."""
    if limit is None or not tokens:
        return 0.0
    while window and window[0].stamp <= now - MINUTE:
        window.popleft()
    used = sum(e.amount for e in window)
    if used == 0 or used + tokens <= limit:
        return 0.0
    left = used
    for entry in window:
        left -= entry.amount
        if left <= 0 or left + tokens <= limit:
            return entry.stamp + MINUTE - now + MARGIN
    return MINUTE  # not reached: the loop ends with left == 0


def restamp(window: deque[float], stamp: float, moved: float | None) -> None:
    """Replace one ``stamp`` in a sorted window by ``moved`` (None: remove it), kept sorted."""
    for i in range(len(window) - 1, -1, -1):
        if window[i] == stamp:
            del window[i]
            break
    else:
        return
    if moved is not None:
        window.insert(bisect.bisect_right(window, moved), moved)


def wake(future: asyncio.Future[None]) -> None:
    """Resolve a waiter's future (called on its own loop; a done one is left alone)."""
    if not future.done():
        future.set_result(None)
