"""Quota-aware pacing end to end: an emulator enforcing the free-tier limits and a provider
pacing itself share one scaled clock (a minute in 0.1 s), and bursts from one thread, many
threads or coroutines finish without the caller ever seeing a rate limit."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.clock import ScaledClock
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from tests.conftest import TEST_TOKEN

FACTOR = 120  # a minute of clock time in 0.5 s (at 600, a 0.1 s stall of a busy machine was a
# whole clock minute: under a DEBUG-logged full run the burst span once read 125 s)
LOW, HIGH = "openai/gpt-4o-mini", "openai/gpt-4o"  # low: 15 rpm, 5 at once; high: 10 rpm, 2


class Wire:
    """Statuses (and clock times) of every response the provider's HTTP session received."""

    def __init__(self, provider: Any, clock: ScaledClock) -> None:
        self.seen: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        session = provider._runner.transport._session
        session.hooks["response"].append(self._hook)
        self._clock = clock

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.seen.append((self._clock.now(), response.status_code))

    @property
    def statuses(self) -> list[int]:
        return [s for _, s in self.seen]

    def max_in_window(self, window: float) -> int:
        """The most responses inside any half-open clock window [t, t + window)."""
        times = sorted(t for t, _ in self.seen)
        return max(sum(1 for t in times[i:] if t < first + window)
                   for i, first in enumerate(times))

    def span(self) -> float:
        times = [t for t, _ in self.seen]
        return max(times) - min(times)


@pytest.fixture
def paced() -> Iterator[Callable[..., tuple[Any, Emulator, ScaledClock, Wire]]]:
    """An emulator enforcing the free-tier request limits, and paced providers sharing its clock."""
    clock = ScaledClock(FACTOR)
    emu = Emulator(clock=clock, rate_limits=True)
    emu.start()
    made: list[Any] = []

    def make(model: str = LOW, **extra: Any) -> tuple[Any, Emulator, ScaledClock, Wire]:
        provider = GitHubModelsProvider(clock=clock)
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": emu.inference_url, "pacing": True, "timeout": 5, **extra}))
        provider.connect(model)
        made.append(provider)
        return provider, emu, clock, Wire(provider, clock)

    try:
        yield make
    finally:
        for provider in made:
            provider.shutdown()
        emu.stop()


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def burst(provider: Any, count: int, workers: int) -> tuple[list[str], list[BaseException]]:
    texts: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            text = provider.generate(f"request {i}").text
            with lock:
                texts.append(text)
        except BaseException as exc:  # every failure is collected and asserted on
            with lock:
                failures.append(exc)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))
    return texts, failures


def test_a_burst_of_30_on_a_15_per_minute_tier_completes_without_a_rate_limit(
        paced: Callable[..., tuple[Any, Emulator, ScaledClock, Wire]]) -> None:
    provider, _emu, _clock, wire = paced(LOW)
    began = time.monotonic()
    texts, failures = burst(provider, 30, workers=6)
    elapsed = time.monotonic() - began
    assert failures == []  # no RateLimitError (nor anything else) surfaced
    assert sorted(texts) == sorted(f"Echo: request {i}" for i in range(30))
    # spread at all: 30 starts at 15 a minute cannot fit in one window
    assert wire.span() >= 60.0
    assert elapsed < 3.0  # about two windows at most (0.2 s), with room for a slow machine
    assert wire.statuses.count(200) == 30
    # at most 15 requests (answered or refused) inside any 45 s of clock time: unpaced, the whole
    # burst lands in the first second; 15 s of slack absorb latency jitter (1 ms = 0.6 s here)
    assert wire.max_in_window(45.0) <= 15, wire.seen


def test_a_paced_burst_sends_no_429_and_keeps_to_the_ideal_schedule(
        paced: Callable[..., tuple[Any, Emulator, ScaledClock, Wire]]) -> None:
    provider, emu, _clock, wire = paced(LOW)
    texts, failures = burst(provider, 30, workers=6)
    assert failures == [] and len(texts) == 30
    assert wire.statuses.count(429) == 0, wire.seen
    assert len(chat_requests(emu)) == 30
    # the 16th waits one window; the rest follow at once. On a clock 600x real time a loaded
    # machine stretches the span (99 s seen with other jobs on both cores); a second window
    # would start at 120 s, so that is the bound that still catches a double wait.
    assert 60.0 <= wire.span() < 120.0


def test_concurrency_is_capped_for_threads(
        paced: Callable[..., tuple[Any, Emulator, ScaledClock, Wire]]) -> None:
    provider, emu, _clock, wire = paced(HIGH, max_retries=0)  # a 429 would surface
    emu.script(*[Reply.fault("delay", seconds=0.03) for _ in range(10)])  # hold the slots
    texts, failures = burst(provider, 10, workers=10)
    assert failures == []
    assert len(texts) == 10
    assert wire.statuses == [200] * 10
    assert len(chat_requests(emu)) == 10


def test_concurrency_is_capped_for_coroutines(
        paced: Callable[..., tuple[Any, Emulator, ScaledClock, Wire]]) -> None:
    provider, emu, _clock, _wire = paced(HIGH, max_retries=0)
    if not hasattr(provider, "agenerate"):
        pytest.skip("no async API")
    emu.script(*[Reply.fault("delay", seconds=0.03) for _ in range(8)])

    async def main() -> list[Any]:
        try:
            return await asyncio.gather(*(provider.agenerate(f"c{i}") for i in range(8)),
                                        return_exceptions=True)
        finally:
            await provider.ashutdown()

    results = asyncio.run(main())
    assert [r.text for r in results] == [f"Echo: c{i}" for i in range(8)], results
    assert len(chat_requests(emu)) == 8


def test_one_session_shared_by_threads_keeps_whole_turns(
        paced: Callable[..., tuple[Any, Emulator, ScaledClock, Wire]]) -> None:
    provider, _emu, _clock, _wire = paced(LOW)
    errors: list[BaseException] = []

    def talk(i: int) -> None:
        try:
            provider.send_message(f"thread {i}")
        except BaseException as exc:  # collected and asserted on
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    history = provider.get_history()
    assert len(history) == 16
    pairs = list(zip(history[::2], history[1::2], strict=True))
    assert all(u.role.value == "user" and m.role.value == "model" for u, m in pairs)
    assert all(m.text == f"Echo: {u.text}" for u, m in pairs)
    assert sorted(u.text for u, _ in pairs) == sorted(f"thread {i}" for i in range(8))
    assert provider.deserialize_history(provider.serialize_history(history)) == history


def test_a_spent_day_budget_fails_fast_on_the_client(emulator: Emulator,
                                                     make_provider: Callable[..., Any]) -> None:
    provider = make_provider(LOW, pacing=True, rate_limits={"low": {"requests_per_day": 3}})
    for i in range(3):
        assert provider.send_message(f"m{i}").text == f"Echo: m{i}"
    emulator.clear_requests()
    began = time.monotonic()
    for streaming in (False, True):
        with pytest.raises(E.RateLimitError) as info:
            if streaming:
                provider.send_message_streaming("one more", lambda _t: None)
            else:
                provider.send_message("one more")
        error = info.value
        assert (error.limit_type, error.client_side, error.status) == ("per_day", True, None)
        assert (error.limit, error.window_seconds) == (3, 86400)
        assert error.retry_after is not None and 86000 < error.retry_after <= 86400
        assert error.resets_at is not None
        for fragment in ("the client-side budget of 3 requests a day for tier low is spent",
                         "the next slot opens in 864", "extra['rate_limits']"):
            assert re.search(re.escape(fragment), str(error)), str(error)
    assert time.monotonic() - began < 1.0
    assert chat_requests(emulator) == []
    assert len(provider.get_history()) == 6


def per_day_429() -> Reply:
    message = ("Rate limit of 8 per 86400s exceeded for UserByModelByDay. Please wait 85841 "
               "seconds before retrying.")
    return Reply.error(429, {"error": {"code": "RateLimitReached", "message": message}},
                       {"retry-after": "85841", "x-ratelimit-type": "UserByModelByDay"})


def after_a_server_day_limit(emulator: Emulator, make_provider: Callable[..., Any]
                             ) -> E.RateLimitError:
    """A server per-day 429, then the next call: refused by the pacer without a request."""
    provider = make_provider(HIGH, pacing=True)
    emulator.script(per_day_429())
    with pytest.raises(E.RateLimitError) as first:
        provider.send_message("one")
    assert (first.value.status, first.value.client_side) == (429, False)
    emulator.clear_requests()
    with pytest.raises(E.RateLimitError) as second:
        provider.send_message("two")
    assert chat_requests(emulator) == []
    assert provider.get_history() == []
    return second.value


def test_a_server_day_limit_pauses_the_model_without_sending(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    error = after_a_server_day_limit(emulator, make_provider)
    assert (error.status, error.client_side, error.limit_type) == (None, True, "per_day")
    assert error.retry_after is not None and 85000 < error.retry_after <= 85841


def test_a_server_day_limit_pause_is_worded_as_the_servers(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    error = after_a_server_day_limit(emulator, make_provider)
    assert "None" not in str(error)
    assert "client-side budget" not in str(error)
    assert re.search(r"server", error.why)
