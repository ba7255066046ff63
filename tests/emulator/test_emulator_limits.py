"""Free-tier limits driven by an injected clock: 429 windows, concurrency, 413 token caps."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from emulator_http import CATALOG, TOKEN, Http, chat_body

from shared.plugins.model_provider.github_models.common.clock import ManualClock, ScaledClock
from shared.plugins.model_provider.github_models.common.limits import FREE_TIER_LIMITS
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def limited(clock: ManualClock) -> Iterator[Emulator]:
    with Emulator(catalog=CATALOG, clock=clock, rate_limits=True) as emu:
        yield emu


def rate_error(res_json: dict[str, dict[str, str]]) -> str:
    err = res_json["error"]
    assert err["code"] == "RateLimitReached"
    assert err["details"] == err["message"]
    return err["message"]


def test_per_minute_window_slides_with_the_clock(limited: Emulator, clock: ManualClock) -> None:
    http = Http(limited)
    for _ in range(10):  # high tier: 10 per minute
        assert http.chat(chat_body()).status == 200
        clock.advance(1)
    res = http.chat(chat_body())
    assert res.status == 429
    assert rate_error(res.json()) == (
        "Rate limit of 10 per 60s exceeded for UserByModelByMinute. "
        "Please wait 50 seconds before retrying."
    )
    assert res.headers["retry-after"] == "50"
    assert res.headers["x-ratelimit-timeremaining"] == "50"
    assert res.headers["x-ratelimit-type"] == "UserByModelByMinute"
    assert res.headers["x-ms-error-code"] == "RateLimitReached"
    # Windows are per model and per token.
    assert http.chat(chat_body(model="openai/gpt-4.1")).status == 200
    assert http.chat(chat_body(), token="ghp_someone_else").status == 200
    clock.advance(50)
    assert http.chat(chat_body()).status == 200


def test_per_day_window(limited: Emulator, clock: ManualClock) -> None:
    high = FREE_TIER_LIMITS["high"].with_overrides(requests_per_minute=None, requests_per_day=3)
    limited.set_rate_limits(overrides={"high": high})
    http = Http(limited)
    for _ in range(3):
        assert http.chat(chat_body()).status == 200
    clock.advance(3600)
    res = http.chat(chat_body())
    assert res.status == 429
    assert res.headers["x-ratelimit-type"] == "UserByModelByDay"
    assert res.headers["retry-after"] == str(86400 - 3600)
    assert "Rate limit of 3 per 86400s exceeded for UserByModelByDay" in rate_error(res.json())
    clock.advance(86400 - 3600)
    assert http.chat(chat_body()).status == 200


def test_custom_models_have_their_own_documented_rows(limited: Emulator) -> None:
    http = Http(limited)
    for _ in range(2):  # the mini reasoning models: 2 a minute (o1/o3/gpt-5 have 1)
        assert http.chat(chat_body(model="openai/o3-mini")).status == 200
    res = http.chat(chat_body(model="openai/o3-mini"))
    assert res.status == 429
    assert "Rate limit of 2 per 60s" in rate_error(res.json())


def test_concurrency_limit_counts_in_flight_requests(limited: Emulator) -> None:
    limited.script(Reply.fault("delay", seconds=0.4), Reply.fault("delay", seconds=0.4))
    statuses: list[int] = []

    def slow() -> None:
        statuses.append(Http(limited).chat(chat_body()).status)

    threads = [threading.Thread(target=slow) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(limited.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    res = Http(limited).chat(chat_body())
    assert res.status == 429
    assert res.headers["x-ratelimit-type"] == "UserConcurrentRequests"
    assert res.headers["retry-after"] == "0"
    assert rate_error(res.json()) == (
        "Rate limit of 2 per 0s exceeded for UserConcurrentRequests. "
        "Please wait 0 seconds before retrying."
    )
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    assert Http(limited).chat(chat_body()).status == 200  # slots released


def test_streams_hold_a_concurrency_slot_until_done(limited: Emulator) -> None:
    custom = FREE_TIER_LIMITS["high"].with_overrides(concurrent_requests=1)
    limited.set_rate_limits(overrides={"high": custom})
    limited.script(Reply.fault("slow_stream", interval=0.05))
    done = threading.Event()

    def stream() -> None:
        Http(limited).chat(chat_body("a b c d e f", stream=True))
        done.set()

    t = threading.Thread(target=stream)
    t.start()
    while not limited.requests:
        time.sleep(0.005)
    assert Http(limited).chat(chat_body()).status == 429
    t.join()
    assert done.is_set()
    assert Http(limited).chat(chat_body()).status == 200


def test_scaled_clock_runs_a_minute_window_in_milliseconds() -> None:
    low = FREE_TIER_LIMITS["low"].with_overrides(requests_per_minute=2)
    with Emulator(catalog=CATALOG, clock=ScaledClock(600), rate_limits=True) as emu:
        emu.set_rate_limits(overrides={"low": low})  # a minute lasts 100 ms
        http = Http(emu)
        body = chat_body(model="openai/gpt-4o-mini")
        started = time.monotonic()
        statuses = [http.chat(body).status for _ in range(3)]
        if time.monotonic() - started < 0.1:
            assert statuses == [200, 200, 429]
        time.sleep(0.12)
        assert http.chat(body).status == 200


def test_rate_limits_can_be_switched_off(limited: Emulator) -> None:
    limited.set_rate_limits(enabled=False)
    http = Http(limited)
    assert all(http.chat(chat_body(model="openai/o3-mini")).status == 200 for _ in range(5))


def test_token_caps_answer_413_with_the_bare_model_name() -> None:
    with Emulator(catalog=CATALOG, token_limits=True) as emu:
        http = Http(emu)
        big = "x" * 40000  # about 10000 tokens
        res = http.chat(chat_body(big))
        assert res.status == 413
        assert res.json() == {
            "error": {
                "code": "tokens_limit_reached",
                "message": "Request body too large for gpt-4o model. Max size: 8000 tokens.",
                "details": "Request body too large for gpt-4o model. Max size: 8000 tokens.",
            }
        }
        assert http.chat(chat_body("x" * 20000)).status == 200
        res = http.chat(chat_body("x" * 20000, model="openai/o3-mini"))  # custom tier: 4000 in
        assert res.status == 413
        assert "o3-mini model. Max size: 4000 tokens" in res.json()["error"]["message"]
        emu.set_token_limits(False)
        assert http.chat(chat_body(big)).status == 200


def test_tokens_are_keyed_separately(limited: Emulator) -> None:
    http = Http(limited)
    for _ in range(2):  # openai/o3-mini: 2 a minute per token
        assert http.chat(chat_body(model="openai/o3-mini"), token=TOKEN).status == 200
    assert http.chat(chat_body(model="openai/o3-mini"), token="ghp_other").status == 200
    assert http.chat(chat_body(model="openai/o3-mini"), token=TOKEN).status == 429


def test_the_emulator_keeps_its_own_copy_of_the_published_limits() -> None:
    """The emulator referees the provider's pacing: it must not read the provider's table, and the
    two copies (each written from the docs) must agree row for row."""
    import inspect

    from shared.plugins.model_provider.github_models.common.limits import (
        limits_for_tier,
        limits_key,
    )
    from shared.plugins.model_provider.github_models.emulator import published_limits, state

    assert "FREE_TIER_LIMITS" not in inspect.getsource(state)
    assert "FREE_TIER_LIMITS" not in inspect.getsource(published_limits)
    assert published_limits.PUBLISHED_LIMITS == FREE_TIER_LIMITS
    for tier, model in [("low", "openai/gpt-4o-mini"), ("high", "openai/gpt-4o"),
                        ("embeddings", "openai/text-embedding-3-small"),
                        ("custom", "xai/grok-3-mini"), ("custom", "openai/o3"),
                        ("custom", "someone/unlisted-model"), ("Custom", "openai/o4-mini")]:
        mine = published_limits.published_limits(tier, model)
        theirs = limits_for_tier(limits_key(model, tier))
        assert mine == theirs, (tier, model)


def test_a_wrong_client_table_does_not_change_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator enforces its own numbers even when the provider's table says otherwise."""
    from shared.plugins.model_provider.github_models.emulator.published_limits import (
        published_limits,
    )

    wrong = FREE_TIER_LIMITS["high"].with_overrides(requests_per_day=10_000)
    monkeypatch.setitem(FREE_TIER_LIMITS, "high", wrong)
    assert published_limits("high", "openai/gpt-4o").requests_per_day == 50
