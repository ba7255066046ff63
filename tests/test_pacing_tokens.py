"""A tokens-per-minute budget in the in-process pacer (the shared store enforces the same one
across processes, and a pacer falling back from the store keeps it)."""

from __future__ import annotations

import pytest

from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.common.limits import TierLimits
from shared.plugins.model_provider.github_models.errors import RateLimitError
from shared.plugins.model_provider.github_models.pacing.pacing import Pacer

LIMITS = {"t": TierLimits("t", None, None, None, None, None, tokens_per_minute=1000)}
BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 600}


def test_a_request_waits_until_its_tokens_fit_in_the_minute() -> None:
    clock = ManualClock()
    pacer = Pacer(LIMITS, clock=clock)
    with pacer.slot("m", "t", BODY) as first:
        assert 600 < first.tokens < 700  # the prompt estimate plus the completion cap
    clock.advance(10)
    with pacer.slot("m", "t", BODY) as second:  # ~1300 > 1000: waits for the first to leave
        pass
    assert second.started_at == pytest.approx(60.0, abs=0.01)
    assert second.waited == pytest.approx(50.0, abs=0.01)


def test_the_real_usage_replaces_the_estimate() -> None:
    clock = ManualClock()
    pacer = Pacer(LIMITS, clock=clock)
    with pacer.slot("m", "t", BODY) as first:
        first.used_tokens = 50  # the response said so
    with pacer.slot("m", "t", BODY) as second:  # 50 + ~620 fit at once
        pass
    assert second.waited == 0.0 and clock.sleeps == []


def test_a_refused_request_gives_its_tokens_back() -> None:
    clock = ManualClock()
    pacer = Pacer(LIMITS, clock=clock)
    with pacer.slot("m", "t", BODY) as first:
        first.refused = True  # a 429: the server did not count it
    with pacer.slot("m", "t", BODY) as second:
        pass
    assert second.waited == 0.0


def test_a_wait_past_max_wait_fails_fast_naming_the_token_budget() -> None:
    pacer = Pacer(LIMITS, clock=ManualClock(), max_wait=5)
    with pacer.slot("m", "t", BODY):
        pass
    with pytest.raises(RateLimitError) as caught, pacer.slot("m", "t", BODY):
        pass
    assert caught.value.limit_type == "tokens_per_minute" and caught.value.client_side
    assert caught.value.limit == 1000 and caught.value.window_seconds == 60
    assert "1000 tokens a minute" in str(caught.value)


def test_without_a_token_limit_nothing_is_estimated() -> None:
    pacer = Pacer({"t": TierLimits("t", None, None, None, None, None)}, clock=ManualClock())
    for _ in range(5):
        with pacer.slot("m", "t", BODY) as permit:
            assert permit.tokens == 0 and permit.token_entry is None
