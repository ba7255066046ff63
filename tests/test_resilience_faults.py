"""Against every fault the emulator can inject, each call ends in recovery or a typed
``GitHubModelsError`` within its timeout, and the session history is never corrupted: equal to
before on failure, grown by exactly the new turn on success. Then the same invariants under a
seeded random mix of faults, errors and successes, streaming or not."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.types import Role, ToolResult, ToolSchema

OK = None  # expected outcome: the call succeeds
TEXT = "one two three four five"
WEATHER = ToolSchema(name="get_weather", description="Weather for a city",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]})


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def rate_limited(seconds: int, kind: str, limit: int, window: int) -> Reply:
    message = (f"Rate limit of {limit} per {window}s exceeded for {kind}. Please wait {seconds} "
               "seconds before retrying.")
    return Reply.error(429, {"error": {"code": "RateLimitReached", "message": message}},
                       {"retry-after": str(seconds), "x-ratelimit-type": kind})


def err(status: int, code: str, message: str) -> Reply:
    return Reply.error(status, {"error": {"code": code, "message": message}})


@dataclass(frozen=True)
class Scenario:
    """Replies to script, and the outcome expected without and with streaming."""

    replies: tuple[Reply, ...]
    complete: type[E.GitHubModelsError] | None
    stream: type[E.GitHubModelsError] | None
    partial: str = ""  # text a failed stream had delivered


SCENARIOS: dict[str, Scenario] = {
    "text": Scenario((Reply.text(TEXT),), OK, OK),
    "reset": Scenario((Reply.fault("reset"),), OK, OK),
    "delay-short": Scenario((Reply.fault("delay", seconds=0.05, text=TEXT),), OK, OK),
    "drop-after-2": Scenario((Reply.fault("drop_mid_stream", after=2, text=TEXT),), OK,
                             E.StreamInterruptedError, "one two"),
    "drop-before-text": Scenario((Reply.fault("drop_mid_stream", after=0, text=TEXT),), OK, OK),
    "malformed-sse": Scenario((Reply.fault("malformed_sse", after=1, text=TEXT),), OK,
                              E.StreamInterruptedError, "one"),
    "sse-comment": Scenario((Reply.fault("sse_comment", after=1, text=TEXT),), OK, OK),
    "crlf": Scenario((Reply.fault("crlf", text=TEXT),), OK, OK),
    "slow-stream": Scenario((Reply.fault("slow_stream", interval=0.005, text=TEXT),), OK, OK),
    "in-stream-error-after-2": Scenario((Reply.fault("in_stream_error", after=2, text=TEXT),), OK,
                                        E.StreamInterruptedError, "one two"),
    "in-stream-error-first": Scenario((Reply.fault("in_stream_error", after=0, text=TEXT),), OK,
                                      OK),
    "500x2": Scenario((err(500, "server_error", "boom"), err(500, "server_error", "boom")), OK,
                      OK),
    "502x2": Scenario((Reply.error(502, "<html>Bad Gateway</html>", content_type="text/html"),
                       Reply.error(502, "")), OK, OK),
    "503x2": Scenario((Reply.error(503, "busy"), Reply.error(503, "busy")), OK, OK),
    "503x5": Scenario(tuple(Reply.error(503, "busy") for _ in range(5)),
                      E.ServiceUnavailableError, E.ServiceUnavailableError),
    "429-1s": Scenario((rate_limited(1, "UserByModelByMinute", 10, 60),), OK, OK),
    "429-day": Scenario((rate_limited(85841, "UserByModelByDay", 8, 86400),), E.RateLimitError,
                        E.RateLimitError),
    "400": Scenario((err(400, "invalid_value", "Invalid 'temperature'"),),
                    E.InvalidRequestError, E.InvalidRequestError),
    "401": Scenario((err(401, "unauthorized", "Bad credentials"),), E.TokenInvalidError,
                    E.TokenInvalidError),
    "403-models": Scenario((err(403, "no_access", "No access to model: openai/gpt-4o"),),
                           E.ModelsDisabledError, E.ModelsDisabledError),
    "404-model": Scenario((err(404, "unknown_model", "Unknown model: openai/gpt-4o"),),
                          E.ModelNotFoundError, E.ModelNotFoundError),
    "410": Scenario((err(410, "github_models_retirement_brownout", "retired"),),
                    E.ServiceRetiredError, E.ServiceRetiredError),
    "413": Scenario((err(413, "tokens_limit_reached", "Max size: 8000 tokens."),),
                    E.ContextLimitError, E.ContextLimitError),
    "content-filter": Scenario((err(400, "content_filter", "filtered"),), E.ContentFilterError,
                               E.ContentFilterError),
}


def snapshot(provider: Any) -> str:
    return str(provider.serialize_history(provider.get_history()))


def run_turn(provider: Any, emulator: Emulator, scenario: Scenario, streaming: bool,
             message: str) -> tuple[Any, BaseException | None, list[str], float]:
    emulator.clear_script()
    emulator.script(*scenario.replies)
    chunks: list[str] = []
    began = time.monotonic()
    try:
        if streaming:
            result = provider.send_message_streaming(message, chunks.append)
        else:
            result = provider.send_message(message)
        error = None
    except BaseException as exc:  # what escaped is exactly what the test checks
        result, error = None, exc
    elapsed = time.monotonic() - began
    emulator.clear_script()
    return result, error, chunks, elapsed


def check_turn(provider: Any, scenario: Scenario, streaming: bool, message: str, before: str,
               outcome: tuple[Any, BaseException | None, list[str], float]) -> None:
    result, error, chunks, elapsed = outcome
    expected = scenario.stream if streaming else scenario.complete
    assert elapsed < 5.0
    history_before = provider.deserialize_history(before)
    history = provider.get_history()
    if expected is OK:
        assert error is None, repr(error)
        assert result.text == TEXT or result.text == f"Echo: {message}"
        if streaming:
            assert "".join(chunks) == result.text
        assert history[:-2] == history_before
        assert [m.role for m in history[-2:]] == [Role.USER, Role.MODEL]
        assert (history[-2].text, history[-1].text) == (message, result.text)
        return
    assert type(error) is expected, repr(error)
    assert isinstance(error, E.GitHubModelsError)
    assert snapshot(provider) == before
    if isinstance(error, E.StreamInterruptedError):
        assert error.partial_text == scenario.partial == "".join(chunks)
        assert error.retryable is False
    elif streaming:
        assert chunks == []


@pytest.fixture
def provider(make_provider: Callable[..., Any]) -> Any:
    made = make_provider(clock=ManualClock(), timeout=2)
    made.send_message("Before the faults.")
    return made


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_fault_recovers_or_raises_typed_and_keeps_history(
        emulator: Emulator, provider: Any, name: str, streaming: bool) -> None:
    scenario = SCENARIOS[name]
    before = snapshot(provider)
    outcome = run_turn(provider, emulator, scenario, streaming, f"about {name}")
    check_turn(provider, scenario, streaming, f"about {name}", before, outcome)


def test_a_malformed_line_is_reported_as_such(emulator: Emulator, provider: Any) -> None:
    outcome = run_turn(provider, emulator, SCENARIOS["malformed-sse"], True, "x")
    error = outcome[1]
    assert isinstance(error, E.StreamInterruptedError)
    assert error.kind == "stream_malformed"
    assert re.search(re.escape("held data that is not valid server-sent events or JSON"),
                     str(error))
    assert len(chat_requests(emulator)) == 2  # the seeding turn, then exactly one attempt


def test_an_in_stream_error_after_text_is_reported_with_the_services_words(
        emulator: Emulator, provider: Any) -> None:
    outcome = run_turn(provider, emulator, SCENARIOS["in-stream-error-after-2"], True, "x")
    error = outcome[1]
    assert isinstance(error, E.StreamInterruptedError)
    assert (error.kind, error.code) == ("stream_error", "server_error")
    assert (error.partial_text, error.retryable) == ("one two", False)
    for fragment in ("sent an error inside the response stream",
                     "The server had an error while processing your request"):
        assert re.search(re.escape(fragment), str(error)), str(error)


# ---- timeouts ----------------------------------------------------------------------------------


def within(seconds: float, fn: Callable[[], Any]) -> tuple[bool, BaseException | None]:
    """Run ``fn`` in a thread; (finished in time, what it raised). The emulator's stop releases
    a call still blocked after the deadline, so a failing test never hangs."""
    box: list[BaseException | None] = [None]

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # reported to the caller
            box[0] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), box[0]


def test_a_silent_server_times_out_within_the_timeout(make_provider: Callable[..., Any],
                                                      emulator: Emulator) -> None:
    cases = [(kind, streaming) for kind in ("delay", "hang") for streaming in (False, True)]
    providers = [make_provider(clock=ManualClock(), timeout=0.5, max_retries=0) for _ in cases]
    emulator.script(*[Reply.fault(kind, seconds=30) if kind == "delay" else Reply.fault(kind)
                      for kind, _ in cases])
    results: dict[tuple[str, bool], tuple[bool, BaseException | None]] = {}
    lock = threading.Lock()

    def one(case: tuple[str, bool], provider: Any) -> None:
        def call() -> None:
            if case[1]:
                provider.send_message_streaming("wait", lambda _t: None)
            else:
                provider.send_message("wait")
        outcome = within(2.0, call)
        with lock:
            results[case] = outcome

    threads = [threading.Thread(target=one, args=(c, p)) for c, p in zip(cases, providers,
                                                                           strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    for case, (finished, error) in sorted(results.items()):
        assert finished, f"{case}: still waiting after 2 s with a 0.5 s timeout"
        assert type(error) is E.ProviderConnectionError, (case, error)
        assert (error.kind, error.retryable) == ("read_timeout", True)
        assert re.search(re.escape("accepted the request but sent no answer in time"), str(error))
        assert re.search(re.escape("raise extra['timeout']"), str(error))
    assert all(p.get_history() == [] for p in providers)


def test_a_stream_that_goes_silent_mid_way_is_an_interrupted_stream(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    provider = make_provider(clock=ManualClock(), timeout=0.3)
    emulator.script(Reply.fault("slow_stream", interval=1.0, text="one two three"))
    chunks: list[str] = []
    began = time.monotonic()
    with pytest.raises(E.ProviderConnectionError) as info:
        provider.send_message_streaming("go on", chunks.append)
    assert time.monotonic() - began < 1.0
    assert chunks == ["one"]
    assert len(chat_requests(emulator)) == 1  # text was delivered: never retried
    assert isinstance(info.value, E.StreamInterruptedError), repr(info.value)
    assert info.value.partial_text == "one"
    assert "sent no answer" not in str(info.value)


# ---- a seeded random mix -----------------------------------------------------------------------


def test_random_faults_keep_every_invariant(emulator: Emulator, provider: Any) -> None:
    rng = random.Random(20260730)
    names = sorted(SCENARIOS) + ["tool-call"] * 3
    provider.create_session(system_instruction="Be brief.", tools=[WEATHER],
                            history=provider.get_history())
    seen: dict[str, int] = {}
    for run in range(60):
        name = rng.choice(names)
        streaming = rng.random() < 0.5
        before = snapshot(provider)
        message = f"run {run}"
        if name == "tool-call":
            emulator.script(Reply.tool_calls([("get_weather", {"city": "Paris"})]))
            response = (provider.send_message_streaming(message, lambda _t: None) if streaming
                        else provider.send_message(message))
            calls = response.function_calls
            assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Paris"})]
            final = provider.send_tool_results(
                [ToolResult(call_id=calls[0].id, name="get_weather", result={"temp": run})])
            assert final.text == f"Tool results: get_weather -> {json.dumps({'temp': run})}"
            history = provider.get_history()
            assert history[:-4] == provider.deserialize_history(before)
            assert [m.role for m in history[-4:]] == [Role.USER, Role.MODEL, Role.TOOL,
                                                       Role.MODEL]
        else:
            scenario = SCENARIOS[name]
            outcome = run_turn(provider, emulator, scenario, streaming, message)
            check_turn(provider, scenario, streaming, message, before, outcome)
        seen[name] = seen.get(name, 0) + 1
    assert len(seen) >= 15  # the seed exercises most scenarios
    history = provider.get_history()
    assert len(history) > 20
    text = provider.serialize_history(history)
    assert provider.deserialize_history(text) == history
    assert json.loads(text)  # plain JSON
