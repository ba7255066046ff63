"""The library's surface against odd callers and odd servers: tools that are not a list, a gateway
that ignores ``"stream": true`` and answers with one whole JSON reply, a request whose
``Authorization`` header is not UTF-8 (the emulator answers 401, never a 500)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.errors import (
    GitHubModelsError,
    InvalidRequestError,
    StreamInterruptedError,
)
from shared.plugins.model_provider.types import FinishReason, ToolSchema
from tests.adversarial.hostile import HostileServer, completion_body, send_json, send_sse

WEATHER = ToolSchema(name="get_weather", description="Weather",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.mark.parametrize("tools", [WEATHER, {"name": "get_weather"}, "get_weather", 5],
                         ids=["one-schema", "mapping", "text", "number"])
def test_tools_that_are_not_a_list_are_a_clear_error(make_provider: Callable[..., Any],
                                                     emulator: Any, tools: Any) -> None:
    provider = make_provider()
    with pytest.raises(InvalidRequestError) as info:
        provider.create_session(tools=tools)
    assert "not a list of ToolSchema" in str(info.value) and "tools=[" in str(info.value)
    assert emulator.requests == []


def test_tools_from_an_iterator_are_read_once_and_kept(make_provider: Callable[..., Any],
                                                       emulator: Any) -> None:
    provider = make_provider()
    provider.create_session(tools=iter([WEATHER]))
    provider.send_message("hi")
    (request,) = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert [t["function"]["name"] for t in request.body["tools"]] == ["get_weather"]


# ---- a gateway that ignores "stream": true ----------------------------------------------------


def test_a_whole_json_reply_to_a_stream_is_the_answer(
        hostile: HostileServer, hostile_provider: Callable[..., Any]) -> None:
    hostile.script(send_json(completion_body("The whole answer.")))
    provider = hostile_provider()
    chunks: list[str] = []
    response = provider.send_message_streaming("hi", chunks.append)
    assert response.text == "The whole answer." and chunks == ["The whole answer."]
    assert response.finish_reason == FinishReason.STOP
    assert response.usage.output_tokens == 1
    assert [m.role.value for m in provider.get_history()] == ["user", "model"]


def test_a_whole_json_reply_with_tool_calls_to_an_async_stream(
        hostile: HostileServer, hostile_provider: Callable[..., Any]) -> None:
    calls = [{"id": "call_1", "type": "function",
              "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]
    body = completion_body(None, tool_calls=calls)
    body["choices"][0]["finish_reason"] = "tool_calls"
    hostile.script(send_json(body))
    provider = hostile_provider()
    provider.create_session(tools=[WEATHER])
    response = asyncio.run(provider.asend_message_streaming("weather?", lambda _t: None))
    (call,) = response.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Oslo"})


@pytest.mark.parametrize(("body", "error"), [
    (b'{"choices": [{"message": {"role": "assistant", "content": "cut', "neither SSE nor JSON"),
    (b'{"error": {"code": "server_error", "message": "overloaded"}}', "overloaded"),
], ids=["cut-json", "error-object"])
def test_a_broken_whole_json_reply_is_an_error_not_an_answer(
        hostile: HostileServer, hostile_provider: Callable[..., Any], body: bytes,
        error: str) -> None:
    hostile.script(send_json(body))
    provider = hostile_provider()
    with pytest.raises(GitHubModelsError) as info:  # typed, whatever the shape
        provider.send_message_streaming("hi", lambda _t: None)
    assert error in str(info.value)
    assert provider.get_history() == []


def test_a_stream_cut_before_done_is_still_reported(
        hostile: HostileServer, hostile_provider: Callable[..., Any]) -> None:
    hostile.script(send_sse([b'data: {"id":"c","object":"chat.completion.chunk","choices":'
                             b'[{"index":0,"delta":{"content":"par"}}]}\n\n']))
    with pytest.raises(StreamInterruptedError):
        hostile_provider().send_message_streaming("hi", lambda _t: None)


# ---- the emulator and a header that is not UTF-8 ---------------------------------------------


def test_the_emulator_answers_a_non_utf8_authorization_with_401(
        emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    body = b'{"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
    port = int(emulator.inference_url.split(":")[2].split("/")[0])
    caplog.set_level(logging.ERROR)
    for value in (b"Bearer \xff\xfe\x80", b"Bearer ghp_\xc3\x28abc", b"\xff"):
        with socket.create_connection(("127.0.0.1", port), 5) as conn:
            conn.sendall(b"POST /inference/chat/completions HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nAuthorization: " + value +
                         f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + body)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert b"Bad credentials" in answer or b"unauthorized" in answer.lower()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# ---- a reply body cut short: one typed error, no third-party log line -------------------------


def test_a_cut_reply_body_logs_no_azure_line(hostile: HostileServer,
                                             hostile_provider: Callable[..., Any],
                                             caplog: pytest.LogCaptureFixture) -> None:
    from shared.plugins.model_provider.github_models.errors import ProviderConnectionError
    from tests.adversarial.hostile import response_head

    def cut(conn: socket.socket) -> None:
        conn.sendall(response_head(200, length=1000) + b'{"id": "x", "choices": [')

    def cut_chunk(conn: socket.socket) -> None:
        conn.sendall(response_head(200, chunked_body=True) + b"100\r\n" + b'{"id": "x"')

    caplog.set_level(logging.DEBUG)
    provider = hostile_provider()
    for act in (cut, cut_chunk):
        hostile.script(act)
        with pytest.raises(ProviderConnectionError):
            provider.send_message("hi")
    noise = [r.getMessage() for r in caplog.records if r.name.startswith("azure")
             and r.levelno >= logging.WARNING]
    assert noise == []


@pytest.mark.parametrize(("head", "status"), [
    (b"POST /orgs/\xff\xfe/inference/chat/completions HTTP/1.1\r\n", b"400"),
    (b"POST /inference/chat/completions HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n", b"400"),
    (b"POST /inference/chat/completions HTTP/1.1\r\nContent-Type: application/json; "
     b"charset=\xff\r\n", b"401"),  # no token: refused before the body is read
    (b"POST /inference/chat/completions HTTP/1.1\r\nUser-Agent: \xff\xfe\r\n", b"401"),
], ids=["path", "huge-header", "charset", "user-agent"])
def test_the_emulator_answers_unparsable_requests_without_an_error_log(
        emulator: Any, caplog: pytest.LogCaptureFixture, head: bytes, status: bytes) -> None:
    port = int(emulator.inference_url.split(":")[2].split("/")[0])
    caplog.set_level(logging.ERROR)
    with socket.create_connection(("127.0.0.1", port), 5) as conn:
        conn.sendall(head + b"Host: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.split(b" ", 2)[1] == status, answer[:200]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
