"""What a failure is and whether to retry it, in one place: the kind table (``classify``: status,
codes and text -> ``rate_limit``, ``quota``, ``retired`` ...), the reading of a 429 (which limit
was hit, how long the server asks to wait) and the retry decision over both (policy as data, a
pure function over it). A 429 is followed here from its body to "wait N s" or "fail now".

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
from .error_body import WireError
from .error_classes import (
    GitHubModelsError,
    ProviderConnectionError,
    RateLimitError,
    ServiceUnavailableError,
)

__all__ = ["DEFAULT_RETRY_STATUSES", "LIMITS_NEVER_RETRIED", "RATE_LIMIT_TYPES", "RateLimitRead",
           "RateLimitText", "RetryPolicy", "backoff_delay", "classify", "parse_rate_limit_text",
           "parse_retry_after", "rate_limit_type", "read_rate_limit", "resets_at", "retry_delay"]

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})

LIMITS_NEVER_RETRIED = frozenset({"per_day", "quota"})
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
            raise ValueError(f"RetryPolicy.max_delay ({self.max_delay!r}) must be >= base_delay "
                             f"({self.base_delay!r})")
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
        raise ValueError(f"RetryPolicy.retry_on_status must be a collection of ints, got "
                         f"{values!r}") from None
    bad = sorted(repr(s) for s in statuses
                 if isinstance(s, bool) or not isinstance(s, int) or not 100 <= s <= 599)
    if bad:
        raise ValueError(f"RetryPolicy.retry_on_status must hold HTTP statuses (100-599), got "
                         f"{', '.join(bad)}")
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
        if error.limit_type in LIMITS_NEVER_RETRIED:
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


# ---- what a failure is: the kind table (docs/errors.md) -------------------------------------
# (a 429 whose body code says quota or retirement is not a rate limit: decided here, once)

# GitHub's brownout code, and the codes a retired API answers with (Azure AI model inference's
# /models route after the SDK's retirement: docs/endpoints.md, "Retirement of /models")
_RETIRED_CODES = frozenset({"github_models_retirement_brownout", "apiretired", "api_retired",
                            "apideprecated", "api_deprecated", "endpointretired"})
_RATE_CODES = frozenset({"ratelimitreached", "rate_limit_exceeded", "ratelimitexceeded",
                         "too_many_requests", "rate_limit_error"})
_QUOTA_CODES = frozenset({"insufficient_quota", "quotaexceeded", "quota_exceeded"})
_NOT_FOUND_CODES = frozenset({"unknown_model", "unavailable_model", "model_not_found",
                              "deploymentnotfound", "modelnotfound"})
_CONTEXT_CODES = frozenset({"tokens_limit_reached", "context_length_exceeded",
                            "string_above_max_length", "request_too_large"})
_FILTER_CODES = frozenset({"content_filter", "responsibleaipolicyviolation",
                           "content_policy_violation"})

_DISABLED_TEXT = LazyPattern(
    r"models?\b[^.]{0,40}\b(?:is|are|has been|have been)\s+(?:disabled|not enabled)"
    r"|account type is not (?:currently )?supported|models access|models is not available for"
)
_PERMISSION_TEXT = LazyPattern(
    r"models\s*:\s*read|\bmodels\b\W{0,3}(?:permission|scope)"
    r"|(?:permission|scope)s?\b[^.]{0,60}\bmodels\b|\bsso\b|\bsaml\b|single sign-on"
    r"|not accessible by (?:personal access token|integration)"
)
_NOT_FOUND_TEXT = LazyPattern(
    r"unknown model|unavailable model|model not found|no such model"
    r"|\bmodel\b[^.]{0,80}(?:does not exist|was not found|not found)"
    r"|deployment[^.]{0,60}(?:does not exist|not found)"
)
_CONTEXT_TEXT = LazyPattern(
    r"maximum context length|context[_ ]length[_ ]exceeded|request body too large"
    r"|max size: \d+ tokens"
)
_FILTER_TEXT = LazyPattern(
    r"content management policy|content[_ ]filter|responsibleaipolicyviolation"
)
_EMPTYISH = LazyPattern(
    r"^\s*(?:\d{3}\s*)?(?:forbidden|not found|gone|unauthorized|bad request|error)?\s*\.?\s*$", re.I
)


def _codes(wire: WireError) -> set[str]:
    return {c.lower() for c in (wire.code, wire.inner_code, wire.error_type) if c}


def classify(status: int | None, headers: Mapping[str, str], wire: WireError,
             bare_refusal_is_retirement: bool = False) -> str:
    """Decide what a failure means; the table in docs/errors.md as code (text wins over status).

    ``bare_refusal_is_retirement``: the endpoint profile says an empty 403/404 means the
    endpoint is gone (the removed legacy host).

    Returns:
        One of ``retired``, ``rate_limit``, ``quota``, ``disabled``, ``permission``,
        ``token_invalid``, ``model_not_found``, ``context_limit``, ``content_filter``,
        ``invalid_request``, ``unavailable``, ``not_found``, ``generic``.
    """
    codes = _codes(wire)
    text = wire.search_text
    emptyish = not wire.code and (not text or bool(_EMPTYISH.match(wire.message or wire.text)))
    if codes & _RETIRED_CODES or status == 410:
        return "retired"
    is_4xx = status is not None and 400 <= status < 500
    if emptyish and is_4xx and status != 429 and (
        "deprecation" in headers or "sunset" in headers
        or (bare_refusal_is_retirement and status in (403, 404))
    ):
        return "retired"
    if codes & _QUOTA_CODES:
        return "quota"
    if status == 429 or codes & _RATE_CODES:
        return "rate_limit"
    if status in (401, 403) or codes & {"unauthorized", "forbidden"}:
        if _DISABLED_TEXT.search(text):
            return "disabled"
        if _PERMISSION_TEXT.search(text):
            return "permission"
        if status == 401 or (status is None and "unauthorized" in codes):
            return "token_invalid"
        return "disabled"
    if codes & _NOT_FOUND_CODES and (status is None or is_4xx):
        return "model_not_found"
    if status in (400, 404, None) and _NOT_FOUND_TEXT.search(text):
        return "model_not_found"
    if status == 413 or codes & _CONTEXT_CODES or (
        status in (400, None) and _CONTEXT_TEXT.search(text)
    ):
        return "context_limit"
    if codes & _FILTER_CODES or (status in (400, None) and _FILTER_TEXT.search(text)):
        return "content_filter"
    if status in (400, 422):
        return "invalid_request"
    if status is not None and 500 <= status < 600:
        return "unavailable"
    if status == 404:
        return "not_found"
    return "generic"


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


def _http_date(value: str) -> datetime | None:
    """An HTTP date (``Retry-After``, ``Date``) as an aware datetime (UTC if it names no zone)."""
    if not value:
        return None
    try:
        from email.utils import parsedate_to_datetime  # only for HTTP-date values

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


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
        when = _http_date(raw)
        if when is not None:
            return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
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
    base = now or _http_date(headers.get("date", "")) or datetime.now(UTC)
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    try:
        return (base + timedelta(seconds=seconds)).astimezone(UTC)
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class RateLimitRead:
    """What a 429 says, read once (headers first, then the body's words): the fields a
    ``RateLimitError`` carries and :func:`retry_delay` decides on."""

    limit_type: str
    raw_limit_type: str | None
    retry_after: float | None
    resets_at: datetime | None
    limit: int | None
    window_seconds: int | None


def read_rate_limit(headers: Mapping[str, str], text: str | None,
                    now: datetime | None) -> RateLimitRead:
    """Read a 429: its kind of limit (``x-ratelimit-type`` wins over the body's "per Ns"
    window), its wait (:func:`parse_retry_after`) and when that ends. Raises nothing."""
    words = parse_rate_limit_text(text)
    raw = headers.get("x-ratelimit-type") or words.limit_type
    wait = parse_retry_after(headers, text, now)
    return RateLimitRead(rate_limit_type(raw, words.window_seconds), raw, wait,
                         resets_at(wait, headers, now), words.limit, words.window_seconds)
