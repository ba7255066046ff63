"""One retry layer, over real HTTP: what is retried, how long it waits (on a manual clock, so
sleeps are recorded instead of slept), what fails fast, and that the SDK never retries behind
our back. Every count is of requests that reached the emulator."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.types import ToolSchema

STREAMING = pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def send(provider: Any, streaming: bool, message: str = "hello",
         chunks: list[str] | None = None) -> Any:
    sink = chunks if chunks is not None else []
    if streaming:
        return provider.send_message_streaming(message, sink.append)
    return provider.send_message(message)


def rate_limited(seconds: int, kind: str = "UserByModelByMinute", limit: int = 10,
                 window: int = 60) -> Reply:
    message = (f"Rate limit of {limit} per {window}s exceeded for {kind}. Please wait {seconds} "
               "seconds before retrying.")
    return Reply.error(
        429, {"error": {"code": "RateLimitReached", "message": message, "details": message}},
        {"retry-after": str(seconds), "x-ratelimit-timeremaining": str(seconds),
         "x-ratelimit-type": kind, "x-ms-error-code": "RateLimitReached"})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- retried, and the caller sees success ------------------------------------------------------


@STREAMING
def test_429_with_retry_after_1_is_retried_once(emulator: Emulator,
                                                make_provider: Callable[..., Any],
                                                streaming: bool) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(rate_limited(1))
    response = send(provider, streaming)
    assert response.text == "Echo: hello"
    assert len(chat_requests(emulator)) == 2
    assert clock.sleeps == [1.0]  # exactly the server's wait, within max_retry_wait (60 s)
    assert len(provider.get_history()) == 2


@STREAMING
def test_503_burst_of_two_then_success(emulator: Emulator, make_provider: Callable[..., Any],
                                       streaming: bool) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.error(503, "upstream unavailable"), Reply.error(503, ""))
    response = send(provider, streaming)
    assert response.text == "Echo: hello"
    assert len(chat_requests(emulator)) == 3
    # capped exponential backoff (0.5 s, 1 s), jitter only shortens by up to 25 %
    assert len(clock.sleeps) == 2
    assert 0.375 <= clock.sleeps[0] <= 0.5
    assert 0.75 <= clock.sleeps[1] <= 1.0


def test_a_server_retry_after_on_503_is_honoured(emulator: Emulator,
                                                 make_provider: Callable[..., Any]) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.error(503, "busy", {"Retry-After": "7"}))
    assert provider.send_message("hello").text == "Echo: hello"
    assert clock.sleeps == [7.0]


@STREAMING
def test_five_500s_with_two_retries_give_up_after_three_requests(
        emulator: Emulator, make_provider: Callable[..., Any], streaming: bool) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock, max_retries=2)
    emulator.script(*[Reply.error(500, "internal error") for _ in range(5)])
    with pytest.raises(E.ServiceUnavailableError) as info:
        send(provider, streaming)
    assert len(chat_requests(emulator)) == 3
    assert len(clock.sleeps) == 2 and all(0 < s <= 8.0 for s in clock.sleeps)
    assert info.value.status == 500
    assert re.search(re.escape("server-side failure (HTTP 500) (service said: 'internal error')"),
                     str(info.value))
    assert emulator.pending_replies == 2
    assert provider.get_history() == []


@STREAMING
def test_reset_before_any_byte_is_retried(emulator: Emulator, make_provider: Callable[..., Any],
                                          streaming: bool) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.fault("reset"))
    assert send(provider, streaming).text == "Echo: hello"
    assert len(chat_requests(emulator)) == 2
    assert len(clock.sleeps) == 1 and 0.375 <= clock.sleeps[0] <= 0.5


def test_a_non_streaming_body_cut_in_half_is_retried(emulator: Emulator,
                                                     make_provider: Callable[..., Any]) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.fault("drop_mid_stream", text="lost half way"))
    assert provider.send_message("hello").text == "Echo: hello"  # nothing reached the caller
    assert len(chat_requests(emulator)) == 2


def test_in_stream_error_before_any_text_is_retried(emulator: Emulator,
                                                    make_provider: Callable[..., Any]) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.fault("in_stream_error", after=0, text="never seen"))
    chunks: list[str] = []
    assert send(provider, True, chunks=chunks).text == "Echo: hello"
    assert chunks == ["Echo:", " hello"]
    assert len(chat_requests(emulator)) == 2


# ---- streams that delivered text are final -----------------------------------------------------


def test_stream_dropped_after_text_is_not_retried(emulator: Emulator,
                                                  make_provider: Callable[..., Any]) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    provider.send_message("first")
    before = provider.get_history()
    emulator.clear_requests()
    emulator.script(Reply.fault("drop_mid_stream", after=3, text="one two three four five"))
    chunks: list[str] = []
    with pytest.raises(E.StreamInterruptedError) as info:
        send(provider, True, chunks=chunks)
    error = info.value
    assert chunks == ["one", " two", " three"]
    assert error.partial_text == "one two three"
    assert (error.kind, error.retryable) == ("stream_interrupted", False)
    assert re.search(re.escape("ended before it was complete"), str(error))
    assert re.search(re.escape("after 13 characters of text had been delivered"), str(error))
    assert isinstance(error.__cause__, Exception)
    assert len(chat_requests(emulator)) == 1
    assert clock.sleeps == []
    assert provider.get_history() == before


def test_stream_dropped_before_any_text_is_retried(emulator: Emulator,
                                                   make_provider: Callable[..., Any]) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.fault("drop_mid_stream", after=0, text="never seen"))
    chunks: list[str] = []
    response = send(provider, True, chunks=chunks)
    assert response.text == "Echo: hello" and chunks == ["Echo:", " hello"]
    assert len(chat_requests(emulator)) == 2


WEATHER = ToolSchema(name="get_weather", description="Weather for a city",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]})


def test_a_retried_tool_call_stream_does_not_mix_attempts(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    provider.create_session(tools=[WEATHER])
    call = Reply.tool_calls([("get_weather", {"city": "Paris, France"})])
    emulator.script(Reply.fault("in_stream_error", after=3, reply=call), call)
    response = send(provider, True, message="weather in Paris?")
    assert [(c.name, c.args) for c in response.function_calls] == [
        ("get_weather", {"city": "Paris, France"})]
    assert len(chat_requests(emulator)) == 2


# ---- never retried -----------------------------------------------------------------------------


@STREAMING
def test_per_day_429_fails_fast_and_says_when_it_resets(
        emulator: Emulator, make_provider: Callable[..., Any], streaming: bool) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(rate_limited(85841, "UserByModelByDay", limit=8, window=86400))
    began = time.monotonic()
    with pytest.raises(E.RateLimitError) as info:
        send(provider, streaming)
    error = info.value
    assert time.monotonic() - began < 2.0
    assert (error.status, error.limit_type, error.retry_after) == (429, "per_day", 85841.0)
    assert (error.limit, error.window_seconds, error.client_side) == (8, 86400, False)
    assert error.resets_at is not None
    for fragment in ("per-day rate limit was reached (8 requests per 86400 s, UserByModelByDay)",
                     "the daily budget resets in 23 h 50 min (until ",
                     "retrying sooner will not help"):
        assert re.search(re.escape(fragment), str(error)), str(error)
    assert len(chat_requests(emulator)) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(("reply", "extra", "cls", "retry_after"), [
    (rate_limited(120), {}, E.RateLimitError, 120.0),
    (rate_limited(30), {"max_retry_wait": 5}, E.RateLimitError, 30.0),
    (Reply.error(503, "busy", {"Retry-After": "10"}), {"max_retry_wait": 5},
     E.ServiceUnavailableError, 10.0),
], ids=["429-120s-over-default-60", "429-30s-over-5", "503-10s-over-5"])
def test_a_wait_above_max_retry_wait_is_not_slept(
        emulator: Emulator, make_provider: Callable[..., Any], reply: Reply,
        extra: dict[str, Any], cls: type[E.GitHubModelsError], retry_after: float) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock, **extra)
    emulator.script(reply)
    with pytest.raises(cls) as info:
        provider.send_message("hello")
    assert info.value.retry_after == retry_after  # type: ignore[attr-defined]
    assert len(chat_requests(emulator)) == 1
    assert clock.sleeps == []


NEVER = [
    (400, {"error": {"code": "unsupported_parameter", "message": "Unsupported parameter: "
                     "'max_tokens'", "param": "max_tokens"}}, E.InvalidRequestError),
    (400, {"error": {"code": "content_filter", "message": "filtered"}}, E.ContentFilterError),
    (401, {"error": {"code": "unauthorized", "message": "Bad credentials"}}, E.TokenInvalidError),
    (403, {"error": {"code": "no_access", "message": "No access to model: openai/gpt-4o"}},
     E.ModelsDisabledError),
    (404, {"error": {"code": "unknown_model", "message": "Unknown model: x"}},
     E.ModelNotFoundError),
    (410, {"error": {"code": "github_models_retirement_brownout", "message": "retired"}},
     E.ServiceRetiredError),
    (413, {"error": {"code": "tokens_limit_reached", "message": "Max size: 8000 tokens."}},
     E.ContextLimitError),
    (422, {"error": {"code": "invalid_value", "message": "bad"}}, E.InvalidRequestError),
]


@STREAMING
@pytest.mark.parametrize(("status", "body", "cls"), NEVER,
                         ids=[f"{s}-{c.__name__}" for s, _, c in NEVER])
def test_client_errors_are_never_retried(emulator: Emulator, make_provider: Callable[..., Any],
                                         status: int, body: dict[str, Any],
                                         cls: type[E.GitHubModelsError],
                                         streaming: bool) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.error(status, body, {"Retry-After": "1"}))
    with pytest.raises(cls) as info:
        send(provider, streaming)
    assert info.value.status == status
    assert len(chat_requests(emulator)) == 1
    assert clock.sleeps == []


# ---- connection failures -----------------------------------------------------------------------


@STREAMING
def test_connection_refused_is_a_connection_error_within_the_timeout(
        make_provider: Callable[..., Any], streaming: bool) -> None:
    from azure.core.exceptions import ServiceRequestError

    from shared.plugins.model_provider.github_models.transport.azure_boundary import (
        TransportFailure,
    )

    clock = ManualClock()
    port = closed_port()
    provider = make_provider(clock=clock, endpoint=f"http://127.0.0.1:{port}/inference",
                             timeout=2)
    began = time.monotonic()
    with pytest.raises(E.ProviderConnectionError) as info:
        send(provider, streaming)
    assert time.monotonic() - began < 2.0
    error = info.value
    assert type(error) is E.ProviderConnectionError
    assert (error.kind, error.status) == ("refused", None)
    for fragment in (f"nothing accepted the connection to http://127.0.0.1:{port}/inference "
                     "(connection refused)", "that the server, proxy or local emulator"):
        assert re.search(re.escape(fragment), str(error)), str(error)
    assert isinstance(error.__cause__, TransportFailure)
    # the SDK's exception (it holds the request's Authorization header) stays at the boundary:
    # the failure names it instead
    assert error.__cause__.__cause__ is None
    assert error.__cause__.detail.startswith(ServiceRequestError.__name__ + ": ")
    assert len(clock.sleeps) == 3  # refused before any byte: retried (max_retries 3)
    assert provider.get_history() == []


# ---- the SDK's own retries are off -------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    Reply.error(500, "boom", {"Retry-After": "0"}),
    Reply.error(503, "", {"Retry-After": "0"}),
    Reply.error(429, "", {"Retry-After": "0"}),
    Reply.error(408, "request timeout", {"Retry-After": "0"}),
    Reply.fault("reset"),
], ids=["500", "503", "429", "408", "reset"])
@STREAMING
def test_the_sdk_never_retries(emulator: Emulator, make_provider: Callable[..., Any],
                               reply: Reply, streaming: bool) -> None:
    provider = make_provider(clock=ManualClock(), max_retries=0)
    emulator.script(reply)
    with pytest.raises(E.GitHubModelsError):
        send(provider, streaming)
    assert len(chat_requests(emulator)) == 1
