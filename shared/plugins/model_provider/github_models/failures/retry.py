"""When to retry a failed request and how long to wait: policy as data, a pure function over it,
and the reading of a 429 it decides on (which limit was hit, how long the server asks to wait).

One layer owns retries (the SDK's own retry policy is off). The rules:

* only server-side trouble is retried: 429 and 500/502/503/504 (``retry_on_status``), and
  connection failures that happened before any byte of a response arrived;
* a server-requested wait (``retry-after`` ...) is honoured as given, but never longer than
  ``max_retry_after``: a per-day limit fails fast, its error already says when it resets;
* otherwise capped exponential backoff, with jitter that only ever shortens the wait;
* retirement, credentials, permissions, unknown models, invalid requests, content filter and
  context limits are never retried, nor a stream that already delivered text.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..common.lazy_re import LazyPattern
from ..errors import (
    GitHubModelsError,
    ProviderConnectionError,
    RateLimitError,
    ServiceUnavailableError,
)

__all__ = ["DEFAULT_RETRY_STATUSES", "RATE_LIMIT_TYPES", "RateLimitText", "RetryPolicy",
           "backoff_delay", "classify_for_framework", "framework_retry_after", "is_transient",
           "parse_rate_limit_text", "parse_retry_after", "rate_limit_type", "resets_at",
           "retry_delay"]

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})

_NO_RETRY_LIMITS = frozenset({"per_day", "quota"})
_rng = random.Random()  # jitter, not cryptography


def _number(name: str, value: float, low: float, high: float = math.inf) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"RetryPolicy.{name} must be a number, got {value!r}")
    if not low <= value <= high:
        bound = f"between {low} and {high}" if high != math.inf else f">= {low}"
        raise ValueError(f"RetryPolicy.{name} must be {bound}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, and how long to wait between them.

    Attributes:
        max_attempts: Total attempts including the first (1 = never retry).
        base_delay: First backoff wait, in seconds; doubles each attempt.
        max_delay: Cap of the backoff wait.
        max_retry_after: Longest server-requested wait honoured; longer ones fail fast.
        jitter: Fraction (0..1) by which a backoff wait may be randomly shortened.
        retry_on_status: HTTP statuses worth retrying.

    Raises:
        ValueError: A value is out of range (checked on construction).
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    retry_on_status: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValueError(f"RetryPolicy.max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts!r}")
        _number("base_delay", self.base_delay, 0.0, 3600.0)
        _number("max_delay", self.max_delay, 0.0, 3600.0)
        if self.max_delay < self.base_delay:
            raise ValueError(
                f"RetryPolicy.max_delay ({self.max_delay!r}) must be >= base_delay "
                f"({self.base_delay!r})"
            )
        _number("max_retry_after", self.max_retry_after, 0.0, 86400.0 * 7)
        _number("jitter", self.jitter, 0.0, 1.0)
        statuses = _statuses(self.retry_on_status)
        object.__setattr__(self, "retry_on_status", statuses)

    @classmethod
    def no_retries(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)


def _statuses(values: Iterable[int]) -> frozenset[int]:
    try:
        statuses = frozenset(values)
    except TypeError:
        raise ValueError(
            f"RetryPolicy.retry_on_status must be a collection of ints, got {values!r}"
        ) from None
    bad = sorted(
        repr(s) for s in statuses
        if isinstance(s, bool) or not isinstance(s, int) or not 100 <= s <= 599
    )
    if bad:
        raise ValueError(
            f"RetryPolicy.retry_on_status must hold HTTP statuses (100-599), got {', '.join(bad)}"
        )
    return statuses


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Capped exponential backoff for the ``attempt``-th failure, shortened by up to ``jitter``.

    Returns:
        ``min(max_delay, base_delay * 2 ** (attempt - 1)) * (1 - jitter * u)``, u in [0, 1).
    """
    exponent = min(max(attempt - 1, 0), 60)
    delay = min(policy.max_delay, policy.base_delay * 2.0**exponent)
    return delay * (1.0 - policy.jitter * (rng or _rng).random())


def retry_delay(
    error: GitHubModelsError,
    attempt: int,
    policy: RetryPolicy,
    *,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before retrying after ``error``, or None to give up.

    Args:
        error: The failure of the attempt that just ended.
        attempt: Its number, starting at 1.
        policy: The retry policy.
        rng: Source of jitter (tests pass a seeded ``random.Random``).

    Returns:
        The wait in seconds, or None: not retryable, attempts exhausted, or the server asked for a
        wait longer than ``policy.max_retry_after``.

    Raises:
        ValueError: ``attempt`` is below 1.
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt!r}")
    if attempt >= policy.max_attempts:
        return None
    if isinstance(error, RateLimitError):
        if error.limit_type in _NO_RETRY_LIMITS:
            return None
        if error.status is not None and error.status not in policy.retry_on_status:
            return None
        return _server_wait(error.retry_after, attempt, policy, rng)
    if isinstance(error, ServiceUnavailableError):
        if error.status is not None and error.status not in policy.retry_on_status:
            return None
        return _server_wait(error.retry_after, attempt, policy, rng)
    if isinstance(error, ProviderConnectionError):
        return backoff_delay(attempt, policy, rng) if error.retryable else None
    return None


def _server_wait(
    retry_after: float | None, attempt: int, policy: RetryPolicy, rng: random.Random | None
) -> float | None:
    if retry_after is None or retry_after <= 0 or math.isnan(retry_after):
        return backoff_delay(attempt, policy, rng)
    if retry_after > policy.max_retry_after:
        return None
    return float(retry_after)


def is_transient(error: BaseException) -> bool:
    """Whether another attempt later may succeed: a per-minute or concurrency 429, a 5xx, or a
    connection failure before any byte arrived. Per-day and quota limits, retirement,
    credentials, policy, unknown models and bad requests are not transient."""
    if isinstance(error, RateLimitError):
        return error.limit_type not in _NO_RETRY_LIMITS
    if isinstance(error, ServiceUnavailableError):
        return error.status is None or error.status in DEFAULT_RETRY_STATUSES
    if isinstance(error, ProviderConnectionError):
        return error.retryable
    return False


def classify_for_framework(error: BaseException) -> dict[str, bool] | None:
    """jaato's retry classification of one of this provider's errors (None for others, so
    the framework's own fallback decides): ``transient``, ``rate_limit``, ``infra``."""
    if not isinstance(error, GitHubModelsError):
        return None
    transient = is_transient(error)
    return {"transient": transient,
            "rate_limit": isinstance(error, RateLimitError) and transient,
            "infra": transient and not isinstance(error, RateLimitError)}


def framework_retry_after(error: BaseException) -> float | None:
    """The server's requested wait for a transient error, in seconds (None when unknown or
    when the error must not be retried at all)."""
    if not is_transient(error):
        return None
    wait = getattr(error, "retry_after", None)
    return float(wait) if isinstance(wait, int | float) and wait > 0 else None


# ---- reading a 429: what limit it hit and how long it asks to wait ---------------------------
# (errors.error_from_response builds RateLimitError.limit_type/retry_after/resets_at with these;
# retry_delay above decides on them)

_PARSE_CHARS = 256 * 1024  # as much of a body as is searched (as in error_body)

RATE_LIMIT_TYPES: Mapping[str, str] = {
    "userbymodelbyminute": "per_minute",
    "userbymodelbyday": "per_day",
    "userconcurrentrequests": "concurrent",
    "userbyminute": "per_minute",
}
"""``x-ratelimit-type`` values seen in the wild (lower-cased) and what they limit."""



@dataclass(frozen=True, slots=True)
class RateLimitText:
    """The numbers in "Rate limit of N per Ws exceeded for TYPE. Please wait S seconds ..."."""

    limit: int | None = None
    window_seconds: int | None = None
    limit_type: str | None = None
    wait_seconds: float | None = None


_RL_OF = LazyPattern(r"rate limit of (\d+) per (\d+)\s*s", re.I)
_RL_FOR = LazyPattern(r"exceeded for (\w+)", re.I)
_RL_WAIT = LazyPattern(
    r"(?:please )?(?:wait|retry after|try again in) (\d+(?:\.\d+)?) ?s(?:ec(?:ond)?s?)?\b", re.I
)


def parse_rate_limit_text(text: str | None) -> RateLimitText:
    """Pull limit, window, type and wait out of a rate-limit message (missing parts are None)."""
    if not text:
        return RateLimitText()
    text = text[:_PARSE_CHARS]
    of, kind, wait = _RL_OF.search(text), _RL_FOR.search(text), _RL_WAIT.search(text)
    return RateLimitText(
        limit=int(of.group(1)) if of else None,
        window_seconds=int(of.group(2)) if of else None,
        limit_type=kind.group(1) if kind else None,
        wait_seconds=float(wait.group(1)) if wait else None,
    )


_TYPE_WORDS = (("concurrent", "concurrent"), ("day", "per_day"), ("minute", "per_minute"))


def rate_limit_type(raw: str | None, window_seconds: int | None = None) -> str:
    """Normalize an ``x-ratelimit-type`` value (or a body's window) to our four kinds.

    Returns:
        ``"per_minute"``, ``"per_day"``, ``"concurrent"`` or ``"unknown"``.
    """
    if raw:
        key = raw.strip().lower()
        if key in RATE_LIMIT_TYPES:
            return RATE_LIMIT_TYPES[key]
        for word, kind in _TYPE_WORDS:
            if word in key:
                return kind
    if window_seconds is not None:
        if window_seconds == 0:
            return "concurrent"
        if window_seconds >= 3600:
            return "per_day"
        if window_seconds <= 120:
            return "per_minute"
    return "unknown"


def _finite_seconds(value: str) -> float | None:
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        return None
    return seconds


def parse_retry_after(
    headers: Mapping[str, str], body_text: str | None, now: datetime | None = None
) -> float | None:
    """How long the server asked us to wait, in seconds, from the first hint present.

    Order: ``retry-after-ms``, ``retry-after`` (seconds or an HTTP date, measured from ``now``),
    ``x-ratelimit-timeremaining``, then "Please wait N seconds" in the body.

    Args:
        headers: Response headers (any case).
        body_text: The response body, if any.
        now: The current time for HTTP dates (default: the system clock, UTC).

    Returns:
        Seconds (>= 0), or None when no usable hint exists.
    """
    low = {str(k).lower(): str(v) for k, v in headers.items()} if headers else {}
    ms = _finite_seconds(low.get("retry-after-ms", ""))
    if ms is not None:
        return ms / 1000.0
    raw = low.get("retry-after", "").strip()
    if raw:
        seconds = _finite_seconds(raw)
        if seconds is not None:
            return seconds
        try:
            from email.utils import parsedate_to_datetime  # only for HTTP-date values

            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            base = now or datetime.now(UTC)
            return max(0.0, (when - base).total_seconds())
    remaining = _finite_seconds(low.get("x-ratelimit-timeremaining", ""))
    if remaining is not None:
        return remaining
    return parse_rate_limit_text(body_text).wait_seconds




def resets_at(
    seconds: float | None, headers: Mapping[str, str], now: datetime | None
) -> datetime | None:
    """When a wait of ``seconds`` ends: from ``now``, else the response ``Date``, else the clock."""
    if seconds is None:
        return None
    base = now
    if base is None and headers.get("date"):
        try:
            from email.utils import parsedate_to_datetime

            base = parsedate_to_datetime(headers["date"])
        except (TypeError, ValueError, IndexError):
            base = None
    if base is None:
        base = datetime.now(UTC)
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    try:
        return (base + timedelta(seconds=seconds)).astimezone(UTC)
    except OverflowError:
        return None
