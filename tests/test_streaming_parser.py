"""The SSE parser accepts everything the SSE spec allows and surfaces in-stream errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared.plugins.model_provider.github_models.wire.streaming import (
    SSEParser,
    StreamAccumulator,
    StreamEventError,
    StreamProtocolError,
    iter_events,
)
from shared.plugins.model_provider.types import FinishReason


def chunk(**delta: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def sse(*events: object, done: bool = True, eol: str = "\n") -> bytes:
    text = "".join(f"data: {json.dumps(e)}{eol}{eol}" for e in events)
    return (text + (f"data: [DONE]{eol}{eol}" if done else "")).encode()


def test_comments_event_lines_and_crlf_are_tolerated() -> None:
    body = (b": keep-alive\n\nevent: message\nid: 7\n" + sse(chunk(content="a"), eol="\r\n")
            + b"data: {\"never\": 1}\n\n")
    events = list(iter_events([body]))
    assert events == [chunk(content="a")]  # nothing after [DONE]


def test_events_split_across_arbitrary_blocks() -> None:
    body = sse(chunk(content="héllo"), chunk(content=" wörld"))
    for size in (1, 2, 3, 7, 64):
        blocks = [body[i:i + size] for i in range(0, len(body), size)]
        acc = StreamAccumulator()
        for event in iter_events(blocks):
            acc.feed(event)
        assert acc.text == "héllo wörld"


def test_multi_line_data_event_is_joined() -> None:
    body = (b'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "x"}}]}\n\n'
            b"data: [DONE]\n\n")
    assert [e["choices"][0]["delta"] for e in iter_events([body])] == [{"content": "x"}]


def test_malformed_line_raises_protocol_error() -> None:
    with pytest.raises(StreamProtocolError, match="not JSON"):
        list(iter_events([b"data: {not json\n\n"]))


def test_in_stream_error_event_is_raised_not_dropped() -> None:
    body = sse(chunk(content="a"), {"error": {"code": "server_error", "message": "boom"}})
    parser = SSEParser()
    # the text before the error in the same block is handed over first, then the error raises
    assert [e["choices"][0]["delta"]["content"] for e in parser.feed(body)] == ["a"]
    assert parser.pending_error
    with pytest.raises(StreamEventError, match="boom") as info:
        parser.close()
    assert info.value.payload["error"]["code"] == "server_error"


def test_accumulator_reassembles_parallel_tool_calls_and_usage() -> None:
    events = [
        {"choices": [], "prompt_filter_results": []},
        chunk(role="assistant"),
        chunk(tool_calls=[{"index": 0, "id": "call_a", "type": "function",
                           "function": {"name": "get_weather", "arguments": ""}}]),
        chunk(tool_calls=[{"index": 1, "id": "call_b", "type": "function",
                           "function": {"name": "get_time", "arguments": "{\"tz\""}}]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": "{\"city\": "}}]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": "\"Paris\"}"}}]),
        chunk(tool_calls=[{"index": 1, "function": {"arguments": ": \"CET\"}"}}]),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                  "total_tokens": 15}},
    ]
    acc = StreamAccumulator()
    for e in iter_events([sse(*events)]):
        acc.feed(e)
    calls = acc.function_calls()
    assert [(c.id, c.name, c.args) for c in calls] == [
        ("call_a", "get_weather", {"city": "Paris"}), ("call_b", "get_time", {"tz": "CET"})]
    assert acc.finish_reason is FinishReason.TOOL_USE
    assert acc.usage is not None and acc.usage.total_tokens == 15


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=20),
       st.integers(min_value=1, max_value=50))
@example(pieces=["\r"], size=1)  # whitespace the <think> splitter holds back at the start
@example(pieces=["<th"], size=3)  # a possible tag, never completed
def test_any_text_survives_any_block_split(pieces: list[str], size: int) -> None:
    body = sse(*[chunk(content=p) for p in pieces])
    acc = StreamAccumulator()
    for e in iter_events(body[i:i + size] for i in range(0, len(body), size)):
        acc.feed(e)
    assert acc.text == "".join(pieces)


def test_invalid_utf8_is_a_protocol_error_not_a_decode_error() -> None:
    with pytest.raises(StreamProtocolError, match="not JSON"):
        list(iter_events([b'data: {"choices":[{"delta":{"content":"caf\xe9"}}]}\n\n']))
