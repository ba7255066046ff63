"""Issue 12: a broken or hostile server gets a typed error, never a crash, never lost text.

Everything runs over real HTTP against the raw-socket server in ``hostile.py``: wrong JSON types
and absurd nesting in 200 bodies and stream chunks, surrogates in replies, text in the same
network block as an error event, lines without end, bodies without chunked encoding.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.wire.streaming import MAX_LINE_BYTES
from tests.adversarial.hostile import (
    HostileServer,
    completion_body,
    drip,
    send_json,
    send_sse,
    sse_chunk,
)

Make = Callable[..., Any]


def body(**changes: Any) -> dict[str, Any]:
    data = completion_body("hi")
    data.update(changes)
    return data


def calls(value: Any) -> dict[str, Any]:
    return completion_body(None, tool_calls=value)


WRONG_SHAPES: list[Any] = [
    body(choices="abc"), body(choices=["x"]), body(choices=5), body(choices=[{"message": [1]}]),
    completion_body(5), completion_body({"a": 1}), completion_body([1, 2]),
    calls("zz"), calls([1]), calls([{"id": "a", "function": "x"}]),
    calls([{"id": "a", "function": {"name": "f", "arguments": 5}}]),
    calls([{"id": {"x": 1}, "function": {"name": "f", "arguments": "{}"}}]),
    calls([{"id": "a", "function": {"name": ["f"], "arguments": "{}"}}]),
    body(usage="lots"), body(usage=[1, 2]), body(usage={"prompt_tokens": "abc"}),
    body(usage={"prompt_tokens": -5}), body(usage={"total_tokens": True}),
    body(choices=[{"message": {"content": "x"}, "finish_reason": 5}]),
    body(choices=[{"index": "0", "message": {"content": "x"}}]),
    [1, 2], "hello", None, 3.5,
]


@pytest.mark.parametrize("data", WRONG_SHAPES, ids=lambda d: json.dumps(d)[:50])
def test_a_200_body_of_the_wrong_shape_is_a_typed_error(hostile: HostileServer,
                                                         hostile_provider: Make,
                                                         data: Any) -> None:
    provider = hostile_provider()
    hostile.script(send_json(data))
    with pytest.raises(E.ServiceUnavailableError) as info:
        provider.send_message("hi")
    assert info.value.status == 200
    assert provider.get_history() == []  # nothing recorded


@pytest.mark.parametrize("raw", [
    b'{"choices":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"choices":[{"message":{"content":' + b"[" * 3000 + b"]" * 3000 + b"}}]}",
    b'{"x":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
])
def test_absurd_nesting_in_a_200_body_is_a_typed_error(hostile: HostileServer,
                                                       hostile_provider: Make,
                                                       raw: bytes) -> None:
    provider = hostile_provider()
    hostile.script(send_json(raw))
    with pytest.raises(E.ServiceUnavailableError):
        provider.send_message("hi")


def test_absurdly_nested_tool_arguments_and_structured_replies_are_typed(
        hostile: HostileServer, hostile_provider: Make) -> None:
    provider = hostile_provider()
    deep = "[" * 5000 + "]" * 5000
    hostile.script(send_json(calls([{"id": "a", "function": {"name": "f",
                                                               "arguments": deep}}])))
    with pytest.raises(E.StructuredOutputError):
        provider.send_message("hi")
    hostile.script(send_json(completion_body(deep)))
    with pytest.raises(E.StructuredOutputError):
        provider.send_message("hi", response_schema={"type": "object"})
    assert provider.get_history() == []


def ev(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


END = sse_chunk({}, "stop") + b"data: [DONE]\n\n"
WRONG_CHUNKS = [
    {"choices": "abc"}, {"choices": [[1]]}, {"choices": [{"delta": "x"}]},
    {"choices": [{"delta": {"content": 5}}]}, {"choices": [{"delta": {"tool_calls": "x"}}]},
    {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "a",
                                            "function": {"name": 5, "arguments": 7}}]}}]},
    {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": 5}]}}]},
    {"choices": [], "usage": "x"}, {"choices": [], "usage": {"prompt_tokens": "x"}},
    {"model": {"a": 1}, "choices": []}, {"choices": [{"index": "0", "delta": {"content": "x"}}]},
    {"choices": [{"delta": {"content": "x"}, "finish_reason": {"a": 1}}]},
]


@pytest.mark.parametrize("chunk", WRONG_CHUNKS, ids=lambda d: json.dumps(d)[:50])
def test_a_stream_chunk_of_the_wrong_shape_is_a_typed_error(hostile: HostileServer,
                                                            hostile_provider: Make,
                                                            chunk: Any) -> None:
    provider = hostile_provider()
    hostile.script(send_sse([ev(chunk) + END]))
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("hi", lambda _t: None)
    assert info.value.kind == "stream_malformed"
    assert provider.get_history() == []


def test_absurd_nesting_in_a_stream_is_a_typed_error(hostile: HostileServer,
                                                     hostile_provider: Make) -> None:
    provider = hostile_provider()
    deep = b"data: " + b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n\n"
    hostile.script(send_sse([deep + END]))
    with pytest.raises(E.StreamInterruptedError):
        provider.send_message_streaming("hi", lambda _t: None)


def test_surrogates_in_a_reply_are_repaired_and_the_session_still_sends(
        hostile: HostileServer, hostile_provider: Make) -> None:
    provider = hostile_provider()
    hostile.script(send_json(b'{"choices":[{"message":{"content":"a\\ud800b"},'
                             b'"finish_reason":"stop"}]}'))
    assert provider.send_message("hi").text == "a\ufffdb"
    # a pair split over two chunks is joined; a lone half becomes U+FFFD
    hostile.script(send_sse([ev({"choices": [{"delta": {"content": "x\ud83d"}}]}),
                             ev({"choices": [{"delta": {"content": "\ude00y\udc00"}}]}) + END]))
    chunks: list[str] = []
    response = provider.send_message_streaming("more", chunks.append)
    assert response.text == "x\U0001f600y\ufffd" == "".join(chunks)
    for chunk in chunks:
        chunk.encode("utf-8")  # every piece handed to on_chunk is printable
    # tool-call names, ids and arguments too
    hostile.script(send_json(b'{"choices":[{"message":{"tool_calls":[{"id":"c\\udc00",'
                             b'"function":{"name":"f\\ud800","arguments":"{\\"k\\\\ud800\\":'
                             b'\\"v\\\\udfff\\"}"}}]},"finish_reason":"tool_calls"}]}'))
    call = provider.send_message("tools").function_calls[0]
    assert (call.id, call.name, call.args) == ("c\ufffd", "f\ufffd", {"k\ufffd": "v\ufffd"})
    hostile.script(send_json(completion_body("fine")))
    provider.create_session(history=provider.get_history()[:2])
    assert provider.send_message("and again").text == "fine"  # the history still encodes
    assert b"\\ud800" not in hostile.requests[-1] and b"\xef\xbf\xbd" in hostile.requests[-1]


def test_text_in_the_same_block_as_an_error_event_is_not_lost(hostile: HostileServer,
                                                              hostile_provider: Make) -> None:
    provider = hostile_provider()
    block = (ev({"choices": [{"delta": {"content": "Hello "}}]})
             + ev({"choices": [{"delta": {"content": "world"}}]})
             + ev({"error": {"code": "server_error", "message": "boom"}}))
    hostile.script(send_sse([block], hold=10))  # the server keeps the connection open
    chunks: list[str] = []
    began = time.monotonic()
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("hi", chunks.append)
    assert time.monotonic() - began < 4  # raised at once, not at the read timeout
    assert chunks == ["Hello ", "world"]
    assert info.value.partial_text == "Hello world"
    assert "boom" in str(info.value)


@pytest.mark.parametrize("api", ["sync", "async"])
def test_text_held_back_as_a_possible_token_start_is_not_lost_on_an_error(
        hostile: HostileServer, hostile_provider: Make, api: str) -> None:
    # "g" could start the token (github_pat_...), so the masker holds it back; the error event
    # must not swallow it: it reaches on_chunk (masked, here as itself) and partial_text
    import asyncio

    provider = hostile_provider()
    block = (ev({"choices": [{"delta": {"content": "Hello "}}]})
             + ev({"choices": [{"delta": {"content": "I rang"}}]})
             + ev({"error": {"code": "server_error", "message": "boom"}}))
    hostile.script(send_sse([block], hold=10))
    chunks: list[str] = []
    with pytest.raises(E.StreamInterruptedError) as info:
        if api == "sync":
            provider.send_message_streaming("hi", chunks.append)
        else:
            asyncio.run(provider.asend_message_streaming("hi", chunks.append))
    assert "".join(chunks) == "Hello I rang"
    assert info.value.partial_text == "Hello I rang"
    assert provider.get_history() == []


def test_a_body_without_chunked_encoding_streams_as_it_arrives(hostile: HostileServer,
                                                               hostile_provider: Make) -> None:
    provider = hostile_provider()
    hostile.script(send_sse([ev({"choices": [{"delta": {"content": "first"}}]}),
                             ev({"choices": [{"delta": {"content": " second"}}]}) + END],
                            chunked_body=False, pause=1.5))
    began = time.monotonic()
    seen: list[tuple[str, float]] = []
    response = provider.send_message_streaming(
        "hi", lambda t: seen.append((t, time.monotonic() - began)))
    assert response.text == "first second"
    assert seen[0][0] == "first" and seen[0][1] < 1.0  # before the server's 1.5 s pause ended


def test_a_body_without_chunked_encoding_still_hits_the_read_timeout(
        hostile: HostileServer, hostile_provider: Make) -> None:
    provider = hostile_provider(timeout=1)
    hostile.script(send_sse([ev({"choices": [{"delta": {"content": "first"}}]})],
                            chunked_body=False, hold=10))
    began = time.monotonic()
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("hi", lambda _t: None)
    assert time.monotonic() - began < 5
    assert info.value.partial_text == "first"


def test_a_huge_line_without_a_newline_is_refused_past_the_cap(hostile: HostileServer,
                                                               hostile_provider: Make) -> None:
    provider = hostile_provider()
    block = b"x" * 65536
    count = MAX_LINE_BYTES // len(block) + 4
    hostile.script(drip(itertools.chain([b'data: {"a":"'], itertools.repeat(block, count))))
    with pytest.raises(E.StreamInterruptedError) as info:  # linear time: benchmarks/sse_lines
        provider.send_message_streaming("hi", lambda _t: None)
    assert "without a line end" in str(info.value)


def test_a_line_split_over_many_blocks_is_parsed(hostile: HostileServer,
                                                 hostile_provider: Make) -> None:
    provider = hostile_provider()
    text = "y" * 300_000
    line = ev({"choices": [{"delta": {"content": text}}]})
    pieces = [line[i:i + 7] for i in range(0, len(line), 7)]  # 7-byte network blocks
    hostile.script(drip([*pieces, END]))
    assert provider.send_message_streaming("hi", lambda _t: None).text == text


def test_data_lines_without_an_end_of_event_are_refused_past_the_cap(
        hostile: HostileServer, hostile_provider: Make) -> None:
    provider = hostile_provider()
    line = b"data: " + b"x" * 65530 + b"\n"  # never a blank line, never JSON
    count = MAX_LINE_BYTES // len(line) + 4
    hostile.script(drip(itertools.repeat(line, count)))
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("hi", lambda _t: None)
    assert "without a blank line" in str(info.value)


@pytest.mark.parametrize("chunked_body", [True, False])
def test_a_line_that_stalls_without_an_end_hits_the_read_timeout(
        hostile: HostileServer, hostile_provider: Make, chunked_body: bool) -> None:
    provider = hostile_provider(timeout=1)
    hostile.script(send_sse([ev({"choices": [{"delta": {"content": "first"}}]}),
                             b'data: {"choices": [{"delta": {"content": "sec'],
                            chunked_body=chunked_body, hold=10))
    began = time.monotonic()
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("hi", lambda _t: None)
    assert time.monotonic() - began < 5  # the 1 s read timeout, not the server's 10 s
    assert info.value.partial_text == "first"


def test_an_async_stream_without_chunked_encoding_arrives_as_it_is_sent(
        hostile: HostileServer, hostile_provider: Make) -> None:
    import asyncio

    provider = hostile_provider()
    hostile.script(send_sse([ev({"choices": [{"delta": {"content": "first"}}]}),
                             ev({"choices": [{"delta": {"content": " second"}}]}) + END],
                            chunked_body=False, pause=1.5))
    seen: list[tuple[str, float]] = []

    async def main() -> Any:
        began = time.monotonic()
        return await provider.asend_message_streaming(
            "hi", lambda t: seen.append((t, time.monotonic() - began)))

    response = asyncio.run(main())
    assert response.text == "first second"
    assert seen[0][0] == "first" and seen[0][1] < 1.0
