"""Client-side pacing: bursts spread over the minute, concurrency caps, day budget, 429 pauses."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Sequence

import pytest

from shared.plugins.model_provider.github_models.common.clock import ManualClock, ScaledClock
from shared.plugins.model_provider.github_models.common.limits import TierLimits
from shared.plugins.model_provider.github_models.errors import RateLimitError
from shared.plugins.model_provider.github_models.pacing.pacing import Pacer
from shared.plugins.model_provider.github_models.pacing.pacing_windows import Permit


def max_in_window(starts: Sequence[float], window: float = 60.0) -> int:
    """The most starts inside any half-open window [t, t + window)."""
    ordered = sorted(starts)
    best = 0
    for i, first in enumerate(ordered):
        best = max(best, sum(1 for t in ordered[i:] if t < first + window))
    return best


def only(tier: str, rpm: int | None = None, rpd: int | None = None,
         concurrent: int | None = None) -> dict[str, TierLimits]:
    return {tier: TierLimits(tier, rpm, rpd, None, None, concurrent)}


def test_burst_on_a_manual_clock_is_spread_over_minutes() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock)  # free tier: low = 15 per minute
    starts = []
    for _ in range(30):
        with pacer.slot("openai/gpt-4.1-mini", "low") as permit:
            starts.append(permit.started_at)
    assert starts[:15] == [0.0] * 15
    assert all(60.0 <= t < 60.01 for t in starts[15:])
    assert max_in_window(starts) == 15
    stats = pacer.stats()
    # only the 16th start waits: by then the first minute's starts have all left the window
    assert (stats.granted, stats.waits, stats.rejected, stats.in_flight) == (30, 1, 0, 0)
    assert stats.waited_seconds == pytest.approx(60.0, abs=0.01)


def test_burst_from_threads_on_a_scaled_clock_never_exceeds_the_minute_budget() -> None:
    clock = ScaledClock(600)  # a minute in 0.1 s
    pacer = Pacer(clock=clock)
    permits: list[Permit] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            with pacer.slot("openai/gpt-4.1-mini", "low") as permit, lock:
                permits.append(permit)

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(permits) == 30
    assert max_in_window([p.started_at for p in permits]) <= 15
    assert max(p.started_at for p in permits) >= 60.0  # the second half had to wait a window
    assert time.monotonic() - began < 2.0


def test_concurrency_cap_under_threads() -> None:
    pacer = Pacer(only("high", concurrent=2), clock=ScaledClock(1))
    active = peak = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal active, peak
        with pacer.slot("m", "high"):
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.02)
            with lock:
                active -= 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert peak == 2
    assert pacer.stats().in_flight == 0


def test_concurrency_cap_under_asyncio_and_threads_sharing_one_pacer() -> None:
    pacer = Pacer(only("high", concurrent=2), clock=ScaledClock(1))
    active = peak = 0
    lock = threading.Lock()

    def enter() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)

    def leave() -> None:
        nonlocal active
        with lock:
            active -= 1

    async def task() -> None:
        async with pacer.aslot("m", "high"):
            enter()
            await asyncio.sleep(0.01)
            leave()

    async def many() -> None:
        await asyncio.gather(*(task() for _ in range(10)))

    def thread_worker() -> None:
        for _ in range(3):
            with pacer.slot("m", "high"):
                enter()
                time.sleep(0.01)
                leave()

    threads = [threading.Thread(target=thread_worker) for _ in range(2)]
    threads.append(threading.Thread(target=lambda: asyncio.run(many())))
    for t in threads:
        t.start()
    asyncio.run(many())  # a second event loop, in this thread
    for t in threads:
        t.join(5)
    assert peak == 2
    assert pacer.stats().granted == 26
    assert pacer.stats().in_flight == 0


def test_async_burst_is_spread_on_a_manual_clock() -> None:
    clock = ManualClock()
    pacer = Pacer(only("t", rpm=3), clock=clock)

    async def one() -> float:
        async with pacer.aslot("k", "t") as permit:
            return permit.started_at

    async def burst() -> list[float]:
        return list(await asyncio.gather(*(one() for _ in range(7))))

    starts = asyncio.run(burst())
    assert max_in_window(starts) <= 3
    assert max(starts) >= 120.0


def test_spent_day_budget_fails_fast_without_sleeping() -> None:
    clock = ManualClock()
    pacer = Pacer(only("custom", rpd=3), clock=clock)
    for _ in range(3):
        with pacer.slot("openai/o3", "custom"):
            clock.advance(10)
    with pytest.raises(RateLimitError) as info, pacer.slot("openai/o3", "custom"):
        pytest.fail("the slot must not be granted")
    error = info.value
    assert (error.status, error.limit_type, error.client_side) == (None, "per_day", True)
    assert (error.limit, error.window_seconds) == (3, 86400)
    # each start is stamped when it answered (t=10, 20, 30): the first leaves the day at 86410
    assert error.retry_after == pytest.approx(86400 - 20, abs=0.01)
    assert error.resets_at is not None
    assert clock.sleeps == []
    assert re.search(re.escape("Pacing requests for openai/o3 failed: the client-side budget of "
                               "3 requests a day for tier custom is spent; the next slot opens "
                               "in 86380 s (at "), str(error))
    assert pacer.stats().rejected == 1
    clock.advance(86400)
    with pacer.slot("openai/o3", "custom"):
        pass


def test_async_day_budget_fails_fast() -> None:
    pacer = Pacer(only("custom", rpd=1), clock=ManualClock())

    async def twice() -> None:
        async with pacer.aslot("k", "custom"):
            pass
        async with pacer.aslot("k", "custom"):
            pass

    with pytest.raises(RateLimitError, match="requests a day"):
        asyncio.run(twice())


def test_disabled_pacer_never_waits() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, enabled=False)
    for _ in range(200):
        with pacer.slot("m", "custom") as permit:
            assert permit.waited == 0.0
    assert clock.sleeps == []
    assert pacer.stats().waits == 0


def test_note_rate_limited_pauses_the_key() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock)
    pacer.note_rate_limited("m", "low", 30.0)
    pacer.note_rate_limited("m", "low", 5.0)  # a shorter pause never shortens a longer one
    pacer.note_rate_limited("m", "low", None)
    with pacer.slot("m", "low") as permit:
        assert permit.waited == pytest.approx(30.0)
    with pacer.slot("other", "low") as permit:
        assert permit.waited == 0.0


def test_a_server_pause_longer_than_max_wait_raises_at_once() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, max_wait=60)
    pacer.note_rate_limited("m", "low", 3600.0, limit_type="per_day")
    with pytest.raises(RateLimitError) as info, pacer.slot("m", "low"):
        pass
    assert info.value.limit_type == "per_day"
    assert info.value.retry_after == pytest.approx(3600.0)
    assert clock.sleeps == []


def test_note_rate_limited_is_honoured_by_aslot() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock)
    pacer.note_rate_limited("m", "high", 12.0)

    async def go() -> float:
        async with pacer.aslot("m", "high") as permit:
            return permit.waited

    assert asyncio.run(go()) == pytest.approx(12.0)


def test_overrides_replace_a_tier_and_unknown_tiers_are_unlimited() -> None:
    clock = ManualClock()
    pacer = Pacer({"LOW": TierLimits("low", 2, None, None, None, None)}, clock=clock)
    starts = []
    for _ in range(3):
        with pacer.slot("m", "low") as permit:
            starts.append(permit.started_at)
    assert starts == [0.0, 0.0, pytest.approx(60.0)]
    assert pacer.limits_for("high").requests_per_minute == 10  # untouched default
    for _ in range(100):
        with pacer.slot("x", "tier-from-the-future") as permit:
            assert permit.waited == 0.0


def test_keys_are_paced_independently() -> None:
    clock = ManualClock()
    pacer = Pacer(only("t", rpm=1), clock=clock)
    with pacer.slot("a", "t"):
        pass
    with pacer.slot("b", "t") as permit:
        assert permit.waited == 0.0


def test_release_happens_when_the_body_raises() -> None:
    pacer = Pacer(only("t", concurrent=1), clock=ManualClock())
    with pytest.raises(ZeroDivisionError), pacer.slot("k", "t"):
        1 / 0  # noqa: B018
    assert pacer.stats().in_flight == 0
    with pacer.slot("k", "t"):
        pass


def test_max_wait_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match=re.escape("Pacer max_wait must be >= 0, got -1")):
        Pacer(max_wait=-1)


def test_a_start_counts_from_when_it_answered_and_a_refused_one_not_at_all() -> None:
    clock = ManualClock()
    pacer = Pacer(only("low", rpm=2), clock=clock)
    with pacer.slot("m", "low") as first:
        clock.advance(5)  # the server saw it later than we granted it
        first.answered_at = clock.now()
        clock.advance(20)  # a long stream: its window stamp stays at the answer
    with pacer.slot("m", "low") as refused:
        refused.refused = True  # 429: the server did not count it
    with pacer.slot("m", "low"):
        pass
    started = clock.now()
    with pacer.slot("m", "low"):
        waited_until = clock.now()
    assert started == 25.0
    assert waited_until == pytest.approx(65.0, abs=0.01)  # first answered at 5: free at 65


def test_waiting_for_a_busy_concurrency_slot_is_capped_too() -> None:
    import threading
    import time

    pacer = Pacer(only("custom", concurrent=1), max_wait=0.2)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with pacer.slot("m", "custom"):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    started = time.monotonic()
    busy = "concurrent slots of tier custom stayed busy"
    with pytest.raises(RateLimitError, match=busy) as info, pacer.slot("m", "custom"):
        pytest.fail("the slot must not be granted")
    assert 0.2 <= time.monotonic() - started < 2
    assert (info.value.limit_type, info.value.client_side) == ("concurrent", True)
    release.set()
    thread.join()


def test_custom_models_get_their_own_documented_rows() -> None:
    from shared.plugins.model_provider.github_models.common.limits import limits_key
    from shared.plugins.model_provider.github_models.pacing.pacing import limits_with_overrides

    pacer = Pacer()
    row = pacer.limits_for(limits_key("xai/grok-3-mini", "custom"))
    assert (row.requests_per_minute, row.requests_per_day, row.max_output_tokens) == (2, 30, 8000)
    assert pacer.limits_for(limits_key("openai/o4-mini", "custom")).requests_per_day == 12
    assert pacer.limits_for(limits_key("openai/gpt-5", "custom")).requests_per_day == 8
    assert limits_key("openai/gpt-4o", "high") == "high"
    unknown = pacer.limits_for(limits_key("acme/secret-model", "custom"))
    assert unknown.requests_per_day == 8  # no row of its own: the strictest custom row
    overridden = Pacer(limits_with_overrides({"custom": {"requests_per_day": 500}}))
    assert overridden.limits_for("custom:grok-3-mini").requests_per_day == 500


def test_a_noticeable_pacing_wait_is_announced_once_a_minute(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    clock = ManualClock()
    pacer = Pacer(only("low", rpm=1), clock=clock)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            with pacer.slot("openai/gpt-4o-mini", "low"):
                pass
    announcements = [r for r in caplog.records if "pacing: holding" in r.getMessage()]
    assert len(announcements) == 2  # waits at t=0 and t=60 s: each a minute apart
    assert "JAATO_GITHUB_PACING=false" in announcements[0].getMessage()
