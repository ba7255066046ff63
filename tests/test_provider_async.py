"""The async API shares validation, mapping, errors, retries and pacing with the sync path."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared import CancelToken, FinishReason, Role, ToolResult, ToolSchema
from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.errors import (
    InvalidRequestError,
    ServiceRetiredError,
    ServiceUnavailableError,
    TokenInvalidError,
)

WEATHER = ToolSchema("get_weather", "Weather", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def chat_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/chat/completions")]


def test_async_messages_tools_and_streaming(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session("sys", tools=[WEATHER])

    async def scenario() -> None:
        first = await provider.asend_message("hello")
        assert first.text == "Echo: hello"
        emulator.script(Reply.tool_calls([("get_weather", {"city": "Rome"})]))
        calls = (await provider.asend_message("weather in Rome?")).function_calls
        assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Rome"})]
        chunks: list[str] = []
        final = await provider.asend_tool_results_streaming(
            [ToolResult(calls[0].id, "get_weather", {"t": 21})], chunks.append)
        assert "".join(chunks) == final.text and final.usage.total_tokens > 0
        one_shot = await provider.agenerate("solo")
        assert one_shot.text == "Echo: solo"
        await provider.ashutdown()

    asyncio.run(scenario())
    assert [m.role for m in provider.get_history()] == [
        Role.USER, Role.MODEL, Role.USER, Role.MODEL, Role.TOOL, Role.MODEL]
    assert chat_requests(emulator)[-1].body["messages"] == [{"role": "user", "content": "solo"}]


def test_many_concurrent_sessions_on_one_provider(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()

    async def talk(i: int) -> list[str | None]:
        conv = provider.new_session(system_instruction=f"session {i}")
        texts = []
        for turn in range(3):
            texts.append((await conv.asend_message(f"s{i} t{turn}")).text)
        assert [m.text for m in conv.get_history()][::2] == [f"s{i} t{t}" for t in range(3)]
        return texts

    async def scenario() -> list[list[str | None]]:
        try:
            return await asyncio.gather(*(talk(i) for i in range(16)))
        finally:
            await provider.ashutdown()

    results = asyncio.run(scenario())
    assert results == [[f"Echo: s{i} t{t}" for t in range(3)] for i in range(16)]
    assert len(chat_requests(emulator)) == 48
    assert provider.get_history() == []  # the default session was not touched


def test_async_errors_retries_and_validation(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(max_retries=2)

    async def scenario() -> None:
        with pytest.raises(InvalidRequestError, match="outside the allowed range"):
            await provider.asend_message("x", temperature=5)
        assert chat_requests(emulator) == []
        emulator.script(Reply.error(503, {"error": {"code": "unavailable", "message": "busy"}}),
                        Reply.error(503, {"error": {"code": "unavailable", "message": "busy"}}))
        assert (await provider.asend_message("retry me")).text == "Echo: retry me"
        assert len(chat_requests(emulator)) == 3
        emulator.script(*[Reply.error(500, "oops")] * 3)
        with pytest.raises(ServiceUnavailableError):
            await provider.asend_message("fail")
        emulator.set_mode("retired")
        with pytest.raises(ServiceRetiredError, match="JAATO_GITHUB_ENDPOINT"):
            await provider.asend_message_streaming("gone", lambda _t: None)
        await provider.ashutdown()

    asyncio.run(scenario())
    assert [m.text for m in provider.get_history()] == ["retry me", "Echo: retry me"]


def test_async_auth_error(emulator: Any, make_provider: Any) -> None:
    emulator.add_token("github_pat_11GOOD_only_this_one_works")
    provider = make_provider()

    async def scenario() -> None:
        try:
            await provider.asend_message("hi")
        finally:
            await provider.ashutdown()

    with pytest.raises(TokenInvalidError, match="401"):
        asyncio.run(scenario())


def test_async_cancel_returns_partial_text(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(Reply.fault("slow_stream", interval=0.01,
                                text=" ".join(f"w{i}" for i in range(300))))
    token = CancelToken()
    seen: list[str] = []

    def on_chunk(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            token.cancel()

    async def scenario() -> Any:
        try:
            return await provider.asend_message_streaming("go", on_chunk, cancel_token=token)
        finally:
            await provider.ashutdown()

    response = asyncio.run(scenario())
    assert response.finish_reason is FinishReason.CANCELLED
    assert response.text == "".join(seen) and len(seen) < 50


def test_each_event_loop_gets_its_own_client(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    for i in range(3):  # asyncio.run makes a new loop each time
        assert asyncio.run(provider.agenerate(f"loop {i}")).text == f"Echo: loop {i}"
    provider.shutdown()


def test_context_managers_close_the_clients(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()

    async def scenario() -> None:
        async with provider:
            assert (await provider.agenerate("in async with")).text == "Echo: in async with"
            assert provider._arunners  # one aio client for this loop
        assert not provider._arunners and not provider.is_connected

    asyncio.run(scenario())
    with make_provider() as sync_provider:
        assert sync_provider.generate("in with").text == "Echo: in with"
    assert not sync_provider.is_connected


def test_a_finished_event_loop_is_not_kept_alive_by_the_provider(make_provider: Any) -> None:
    # each asyncio.run() is a new loop with its own runner: a process calling it per request
    # must not keep every finished loop (and its runner and client) for the provider's life
    import gc
    import weakref

    provider = make_provider()
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await provider.asend_message("hi")

    for _ in range(3):
        asyncio.run(main())
    gc.collect()
    assert [ref for ref in loops if ref() is not None] == []
