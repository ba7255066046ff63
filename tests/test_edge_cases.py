"""Edge cases an independent review reproduced against the emulator; each was a real bug."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from shared import CancelToken, FinishReason, ProviderConfig, ToolResult, ToolSchema
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

from .conftest import TEST_TOKEN

TOOL = ToolSchema("get_weather", "Weather", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def sse(*events: Any, done: bool = True) -> str:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return body + ("data: [DONE]\n\n" if done else "")


def raw(body: Any, content_type: str = "text/event-stream") -> Reply:
    return Reply.error(200, body, content_type=content_type)  # served verbatim


def chunk(finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


# ---- wire dialects ----

def test_list_content_is_read_as_text_and_keeps_the_session_usable(
        emulator: Emulator, make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(raw({"choices": [{"finish_reason": "stop", "message": {
        "role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"},
                                         {"type": "text", "text": "Paris"}]}}]},
        "application/json"))
    assert provider.send_message("capital?").text == "Paris"
    assert provider.send_message("and again").text == "Echo: and again"
    assert emulator.requests[-1].body["messages"][1] == {"role": "assistant",
                                                         "content": "Paris"}


def test_stream_with_list_deltas_and_null_tool_index(emulator: Emulator,
                                                     make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session(tools=[TOOL])
    emulator.script(raw(sse(
        chunk(content=[{"type": "text", "text": "Let me check. "}]),
        chunk(tool_calls=[{"index": None, "id": "c1", "type": "function",
                           "function": {"name": "get_weather", "arguments": "{\"ci"}}]),
        chunk(tool_calls=[{"index": None, "function": {"arguments": "ty\": \"Oslo\"}"}}]),
        chunk("tool_calls"))))
    chunks: list[str] = []
    response = provider.send_message_streaming("weather?", chunks.append)
    assert chunks == ["Let me check. "]
    assert [(c.id, c.args) for c in response.function_calls] == [("c1", {"city": "Oslo"})]


def test_a_stream_without_done_is_complete_after_its_finish_chunk(
        emulator: Emulator, make_provider: Any) -> None:
    provider = make_provider(max_retries=0)
    emulator.script(raw(sse(chunk(content="all "), chunk("stop", content="here"), done=False)))
    response = provider.send_message_streaming("go", lambda _t: None)
    assert (response.text, response.finish_reason) == ("all here", FinishReason.STOP)
    emulator.script(raw(sse(chunk(content="cut "), done=False)))
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("again", lambda _t: None)
    assert info.value.partial_text == "cut "
    assert len(provider.get_history()) == 2


def test_duplicate_tool_call_ids_are_made_unique_and_answerable(
        emulator: Emulator, make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session(tools=[TOOL])
    emulator.script(raw({"choices": [{"finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [
            {"id": "call_abc", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "call_abc", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]}}]},
        "application/json"))
    calls = provider.send_message("two cities").function_calls
    assert [c.id for c in calls] == ["call_abc", "call_abc~2"]
    provider.send_tool_results([ToolResult(c.id, c.name, {"city": c.args["city"]})
                                for c in calls])
    tools = [m for m in emulator.requests[-1].body["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], json.loads(m["content"])["city"]) for m in tools] == [
        ("call_abc", "Paris"), ("call_abc~2", "Rome")]


# ---- waits, loops, cancellation ----

def test_a_server_pause_longer_than_max_retry_wait_fails_fast_on_the_next_call(
        emulator: Emulator, make_provider: Any) -> None:
    clock = ManualClock()
    provider = make_provider(clock=clock, pacing=True, max_retries=0, max_retry_wait=1)
    emulator.script(Reply.error(429, {"error": {"code": "RateLimitReached", "message":
        "Rate limit of 10 per 60s exceeded for UserByModelByMinute. Please wait 8 seconds "
        "before retrying."}}, headers={"retry-after": "8"}))
    with pytest.raises(E.RateLimitError):
        provider.send_message("first")
    sent = len(emulator.requests)
    with pytest.raises(E.RateLimitError, match="asked for a pause") as info:
        provider.send_message("second")
    assert info.value.client_side and len(emulator.requests) == sent
    assert clock.sleeps == []  # never slept past max_retry_wait


def test_concurrent_async_calls_on_one_conversation_work_on_every_event_loop(
        emulator: Emulator, make_provider: Any) -> None:
    provider = make_provider()

    async def two(tag: str) -> list[str | None]:
        replies = await asyncio.gather(provider.asend_message(f"{tag} a"),
                                       provider.asend_message(f"{tag} b"))
        return [r.text for r in replies]

    assert asyncio.run(two("one")) == ["Echo: one a", "Echo: one b"]
    assert asyncio.run(two("two")) == ["Echo: two a", "Echo: two b"]
    assert len(provider.get_history()) == 8


def test_asyncio_run_closes_its_client_when_the_loop_ends(make_provider: Any) -> None:
    provider = make_provider()

    async def main() -> tuple[str, list[Any]]:
        return (await provider.agenerate("x")).text, list(provider._arunners.values())

    text, runners = asyncio.run(main())
    assert text == "Echo: x"
    assert runners and all(r.atransport.closed for r in runners)
    assert not provider._arunners  # and the finished loop dropped out


def test_cancel_before_the_headers_returns_promptly(emulator: Emulator,
                                                   make_provider: Any) -> None:
    provider = make_provider(timeout=30)
    emulator.script(Reply.fault("delay", seconds=5))
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    response = provider.send_message_streaming("slow", lambda _t: None, cancel_token=token)
    assert time.monotonic() - started < 2
    assert (response.finish_reason, response.text) == (FinishReason.CANCELLED, None)
    assert provider.get_history() == []

    emulator.script(Reply.fault("delay", seconds=5))
    token = CancelToken()

    async def run() -> Any:
        asyncio.get_running_loop().call_later(0.2, token.cancel)
        async with provider:
            return await provider.asend_message_streaming("slow", lambda _t: None,
                                                          cancel_token=token)

    started = time.monotonic()
    assert asyncio.run(run()).finish_reason is FinishReason.CANCELLED
    assert time.monotonic() - started < 2


def test_a_pre_cancelled_call_sends_and_records_nothing(emulator: Emulator,
                                                        make_provider: Any) -> None:
    provider = make_provider()
    token = CancelToken()
    token.cancel()
    response = provider.send_message_streaming("never", lambda _t: None, cancel_token=token)
    assert response.finish_reason is FinishReason.CANCELLED
    assert emulator.requests == [] and provider.get_history() == []
    assert provider.get_session_usage().requests == 0


def test_get_history_does_not_wait_for_a_running_request(emulator: Emulator,
                                                         make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(Reply.fault("slow_stream", interval=0.3, text="a b c d"))
    worker = threading.Thread(target=provider.send_message_streaming,
                              args=("slow", lambda _t: None))
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert provider.get_history() == []
    assert time.monotonic() - started < 0.1
    worker.join(10)
    assert len(provider.get_history()) == 2


# ---- history, status, configuration, messages ----

def test_an_in_place_edit_of_history_is_what_gets_sent(emulator: Emulator,
                                                       make_provider: Any) -> None:
    provider = make_provider()
    provider.send_message("my password is hunter2")
    provider.send_message("ok")
    history = provider.get_history()
    history[0].parts[0].text = "my password is [redacted]"  # an agent redacting its history
    provider.send_message("next")
    assert emulator.requests[-1].body["messages"][0]["content"] == "my password is [redacted]"


def test_rate_limit_status_counts_async_traffic(emulator: Emulator,
                                                make_provider: Any) -> None:
    provider = make_provider()

    async def run() -> None:
        async with provider:
            for i in range(3):
                await provider.agenerate(f"n{i}")

    asyncio.run(run())
    provider = make_provider()  # fresh provider: the first was shut down by async with
    asyncio.run(provider.agenerate("one"))
    status = provider.get_rate_limit_status()
    assert status["requests_sent"] == 1 and status["headers"]


@pytest.mark.parametrize("url", ["http://localhost:99999/inference",
                                 "http://localhost:80a/inference", "https://[::1/inference"])
def test_a_malformed_endpoint_is_a_configuration_error(url: str) -> None:
    provider = GitHubModelsProvider()
    with pytest.raises(E.ConfigurationError, match="not a valid URL"):
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": url}))


def test_an_echoed_key_of_any_format_never_reaches_the_error(emulator: Emulator,
                                                             make_provider: Any) -> None:
    key = "0123456789abcdef0123456789abcdef"  # an Azure-style key: no recognisable prefix
    provider = make_provider(token=key, endpoint=emulator.url + "/inference/v1",
                             max_retries=0)
    emulator.script(Reply.error(401, {"error": {
        "code": "401", "message": f"Access denied due to invalid subscription key {key}"}}))
    with pytest.raises(E.TokenInvalidError) as info:
        provider.send_message("hi")
    error = info.value
    assert key not in str(error) and key not in error.body and key not in repr(vars(error))


def test_a_retired_model_on_a_custom_endpoint_asks_for_another_model(
        emulator: Emulator, make_provider: Any) -> None:
    provider = make_provider("gpt-35-turbo-0301", endpoint=emulator.url + "/inference/v1",
                             max_retries=0)
    emulator.script(Reply.error(410, {"error": {"code": "ModelRetired", "message":
        "The model gpt-35-turbo-0301 has been retired. Use a newer model version."}}))
    with pytest.raises(E.ServiceRetiredError) as info:
        provider.send_message("hi")
    assert "choose another model or deployment" in info.value.fix
    assert "Foundry" not in info.value.fix


def test_re_initializing_re_checks_the_model_for_the_new_endpoint(
        emulator: Emulator, make_provider: Any) -> None:
    provider = make_provider("gpt-4o")
    assert provider._wire_model() == "openai/gpt-4o"  # GitHub-shaped: the catalog spelling
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": emulator.url + "/inference/v1"}))
    assert provider.is_connected and provider._wire_model() == "gpt-4o"  # custom: as given
    provider.shutdown()


def test_live_catalog_answers_connect_right_after_initialize(tmp_path: Any,
                                                             monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = {"id": "acme/acme-coder-2", "name": "Acme Coder 2", "publisher": "Acme",
             "rate_limit_tier": "low", "supported_input_modalities": ["text"],
             "supported_output_modalities": ["text"], "capabilities": ["streaming"],
             "limits": {"max_input_tokens": 64000, "max_output_tokens": 8000}}
    with Emulator(catalog=[entry]) as emu:
        provider = GitHubModelsProvider()  # its background catalog fetch has not landed yet
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": emu.inference_url, "catalog": "live"}))
        provider.connect("acme/acme-coder-2")
        assert provider.model_info.max_input_tokens == 64000
        provider.shutdown()


def test_a_reply_that_fails_the_schema_is_still_counted_as_used(emulator: Emulator,
                                                                make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(Reply.text("not json at all", usage=(40, 7)))
    with pytest.raises(E.StructuredOutputError):
        provider.send_message("facts", response_schema={"type": "object"})
    assert provider.get_history() == []
    usage = provider.get_session_usage()
    assert (usage.requests, usage.prompt_tokens, usage.output_tokens) == (1, 40, 7)


def test_a_long_retry_wait_is_announced(emulator: Emulator, make_provider: Any,
                                        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    clock = ManualClock()
    provider = make_provider(clock=clock)
    emulator.script(Reply.error(429, {"error": {"code": "RateLimitReached", "message":
        "Rate limit of 10 per 60s exceeded for UserByModelByMinute. Please wait 5 seconds "
        "before retrying."}}, headers={"retry-after": "5"}))
    with caplog.at_level(logging.WARNING):
        assert provider.send_message("hi").text == "Echo: hi"
    assert clock.sleeps == [5.0]
    assert any("retrying after RateLimitError" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_a_non_json_200_that_echoes_the_key_never_shows_it(emulator: Emulator,
                                                           make_provider: Any) -> None:
    key = "0123456789abcdef0123456789abcdef"
    provider = make_provider(token=key, endpoint=emulator.url + "/inference/v1",
                             max_retries=0)
    emulator.script(raw(f"<html>login page for key {key}</html>", "text/html"))
    with pytest.raises(E.ServiceUnavailableError, match="not JSON") as info:
        provider.send_message("hi")
    assert key not in str(info.value)
