"""The retry policy: a table of (error, attempt) -> wait, with a seeded rng (pure calls)."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.errors import (
    ErrorContext,
    error_from_connection,
    error_from_response,
)
from shared.plugins.model_provider.github_models.failures.retry import (
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    retry_delay,
)

CTX = ErrorContext()
POLICY = RetryPolicy()  # 4 attempts, 0.5 s base, 8 s cap, 60 s max server wait, jitter 0.25
NO_JITTER = RetryPolicy(jitter=0.0)
NOW = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)


def rate(retry_after: float | None, limit_type: str = "per_minute",
         status: int | None = 429) -> E.RateLimitError:
    return E.RateLimitError(retry_after=retry_after, limit_type=limit_type, status=status)


def http(status: int, body: str = "", **headers: str) -> E.GitHubModelsError:
    return error_from_response(status, headers, body, CTX, now=NOW)


CASES: list[tuple[str, E.GitHubModelsError, int, RetryPolicy, float | None]] = [
    # server asked for a wait within the cap: honoured as given
    ("429 retry-after 46", rate(46.0), 1, POLICY, 46.0),
    ("429 retry-after exactly the cap", rate(60.0), 1, POLICY, 60.0),
    # longer than max_retry_after, or per day: fail fast
    ("429 retry-after above the cap", rate(61.0), 1, POLICY, None),
    ("429 per day", rate(85841.0, "per_day"), 1, POLICY, None),
    ("429 per day, even a short wait", rate(5.0, "per_day"), 1, POLICY, None),
    ("quota exhausted", rate(None, "quota"), 1, POLICY, None),
    ("client-side per-day refusal", rate(3600.0, "per_day", status=None), 1, POLICY, None),
    # concurrency (retry-after 0) and unknown waits: backoff
    ("429 concurrent, retry-after 0", rate(0.0, "concurrent"), 1, NO_JITTER, 0.5),
    ("429 without hints, attempt 2", rate(None, "unknown"), 2, NO_JITTER, 1.0),
    ("429 but 429 is not retried by this policy", rate(5.0),
     1, RetryPolicy(retry_on_status=frozenset({503})), None),
    # 5xx: backoff doubling to the cap, or the server's wait
    ("503 attempt 1", http(503), 1, NO_JITTER, 0.5),
    ("503 attempt 3", http(503), 3, NO_JITTER, 2.0),
    ("502 capped", http(502), 6, RetryPolicy(max_attempts=10, jitter=0.0), 8.0),
    ("503 retry-after 2", http(503, **{"Retry-After": "2"}), 1, POLICY, 2.0),
    ("503 retry-after beyond the cap", http(503, **{"Retry-After": "600"}), 1, POLICY, None),
    ("501 not in the list", http(501), 1, POLICY, None),
    # attempts exhausted
    ("last attempt", rate(1.0), 4, POLICY, None),
    ("no_retries policy", http(503), 1, RetryPolicy.no_retries(), None),
    # connections: only before any response byte
    ("refused", error_from_connection("refused", "", CTX), 1, NO_JITTER, 0.5),
    ("read timeout, nothing received", error_from_connection("read_timeout", "", CTX), 2,
     NO_JITTER, 1.0),
    ("read timeout after headers",
     error_from_connection("read_timeout", "", CTX, response_started=True), 1, POLICY, None),
    ("dns", error_from_connection("dns", "", CTX), 1, POLICY, None),
    ("tls", error_from_connection("tls", "", CTX), 1, POLICY, None),
    ("stream dropped after text",
     error_from_connection("stream_interrupted", "", CTX, partial_text="Hi"), 1, POLICY, None),
    ("stream dropped before text", error_from_connection("stream_interrupted", "", CTX), 1,
     NO_JITTER, 0.5),
    # never retried
    ("retired", http(410, '{"error":{"code":"github_models_retirement_brownout"}}'), 1, POLICY,
     None),
    ("bad credentials", http(401, "Bad credentials"), 1, POLICY, None),
    ("permission", http(403, "needs models:read"), 1, POLICY, None),
    ("disabled", http(403, "No access to model: x"), 1, POLICY, None),
    ("unknown model", http(404, '{"error":{"code":"unknown_model"}}'), 1, POLICY, None),
    ("invalid request", http(400, "bad"), 1, POLICY, None),
    ("content filter", http(400, '{"error":{"code":"content_filter"}}'), 1, POLICY, None),
    ("context limit", http(413, "Max size: 8000 tokens"), 1, POLICY, None),
    ("token not found", E.token_not_found([]), 1, POLICY, None),
    ("base class", E.GitHubModelsError(), 1, POLICY, None),
]


@pytest.mark.parametrize(("error", "attempt", "policy", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_retry_table(error: E.GitHubModelsError, attempt: int, policy: RetryPolicy,
                     expected: float | None) -> None:
    assert retry_delay(error, attempt, policy, rng=random.Random(7)) == expected


def test_jitter_only_shortens_and_is_seeded() -> None:
    error = http(503)
    delays = [retry_delay(error, 3, POLICY, rng=random.Random(seed)) for seed in range(200)]
    assert all(d is not None and 1.5 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 100
    assert retry_delay(error, 3, POLICY, rng=random.Random(1)) == retry_delay(
        error, 3, POLICY, rng=random.Random(1))
    expected = 2.0 * (1 - 0.25 * random.Random(1).random())
    assert backoff_delay(3, POLICY, random.Random(1)) == expected


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match=re.escape("attempt numbers start at 1, got 0")):
        retry_delay(http(503), 0, POLICY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "RetryPolicy.max_attempts must be >= 1, got 0"),
        ({"max_attempts": 2.5}, "RetryPolicy.max_attempts must be an int, got 2.5"),
        ({"max_attempts": True}, "RetryPolicy.max_attempts must be an int, got True"),
        ({"base_delay": -1}, "RetryPolicy.base_delay must be between 0.0 and 3600.0, got -1"),
        ({"base_delay": float("nan")}, "RetryPolicy.base_delay must be a number, got nan"),
        ({"base_delay": 5, "max_delay": 1},
         "RetryPolicy.max_delay (1) must be >= base_delay (5)"),
        ({"jitter": 1.5}, "RetryPolicy.jitter must be between 0.0 and 1.0, got 1.5"),
        ({"max_retry_after": -3}, "RetryPolicy.max_retry_after must be between 0.0 and"),
        ({"retry_on_status": {429, 700}},
         "RetryPolicy.retry_on_status must hold HTTP statuses (100-599), got 700"),
        ({"retry_on_status": 429}, "RetryPolicy.retry_on_status must be a collection of ints"),
    ],
)
def test_policy_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_normalizes_statuses_and_is_frozen() -> None:
    policy = RetryPolicy(retry_on_status=[503, 429])  # type: ignore[arg-type]
    assert policy.retry_on_status == frozenset({429, 503})
    with pytest.raises(AttributeError):
        policy.max_attempts = 9  # type: ignore[misc]
    assert RetryPolicy(max_retry_after=86400).max_retry_after == 86400


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"retry-after-ms": "250", "retry-after": "3"}, None, 0.25),
        ({"Retry-After": "3"}, None, 3.0),
        ({"Retry-After": "1.5"}, None, 1.5),
        ({"Retry-After": "Wed, 01 Jul 2026 12:01:00 GMT"}, None, 60.0),
        ({"Retry-After": "Wed, 01 Jul 2026 11:00:00 GMT"}, None, 0.0),  # in the past
        ({"x-ratelimit-timeremaining": "28"}, None, 28.0),
        ({"Retry-After": "soon", "x-ratelimit-timeremaining": "9"}, None, 9.0),
        ({"Retry-After": "-5"}, "Please wait 46 seconds before retrying.", 46.0),
        ({"Retry-After": "inf"}, None, None),
        ({}, "Rate limit of 10 per 60s exceeded. Please wait 46 seconds before retrying.", 46.0),
        ({}, "nothing useful", None),
        ({}, None, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], body: str | None,
                           expected: float | None) -> None:
    assert parse_retry_after(headers, body, now=NOW) == expected
