"""Successful completions over real HTTP: shapes, streams, tool calls, default/scripted replies."""

from __future__ import annotations

import json
from typing import Any

from emulator_http import CATALOG, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "detailed": {"type": "boolean"},
                "note": {"type": "string"},
            },
            "required": ["city", "days", "unit", "detailed"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    },
}


def reassemble(chunks: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """Accumulate streamed tool-call deltas by index, as a client must."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for delta in choice["delta"].get("tool_calls", ()):
                call = calls.setdefault(delta["index"], {"id": "", "name": "", "arguments": ""})
                call["id"] = delta.get("id", call["id"])
                fn = delta.get("function", {})
                call["name"] += fn.get("name", "")
                call["arguments"] += fn.get("arguments", "")
    return calls


def test_non_streaming_completion_shape_and_headers(http_: Http) -> None:
    res = http_.chat(chat_body("What is the capital of France?"))
    assert res.status == 200
    assert res.headers["content-type"] == "application/json"
    assert res.headers["x-github-request-id"]
    assert res.headers["x-ratelimit-limit-requests"] == "20000"
    assert res.headers["x-ratelimit-renewalperiod-requests"] == "60"
    body = res.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-2024-11-20"
    choice = body["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Echo: What is the capital of France?",
    }
    assert choice["finish_reason"] == "stop"
    assert "content_filter_results" not in choice
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == (len("Echo: What is the capital of France?") + 3) // 4


def test_request_ids_are_unique_and_usage_deterministic(http_: Http) -> None:
    first, second = http_.chat(chat_body("same")), http_.chat(chat_body("same"))
    assert first.headers["x-github-request-id"] != second.headers["x-github-request-id"]
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["usage"] == second.json()["usage"]
    assert first.json()["choices"] == second.json()["choices"]


def test_model_ids_match_ignoring_case_and_unknown_deployments_echo_the_name(http_: Http) -> None:
    res = http_.chat(chat_body(model="META/llama-3.3-70b-instruct"))
    assert res.status == 200
    assert res.json()["model"] == "llama-3.3-70b-instruct"


def test_alternate_v1_path_api_version_query_and_api_key_header(http_: Http) -> None:
    res = http_.chat(
        chat_body(),
        path="/inference/v1/chat/completions?api-version=2024-05-01-preview",
        token=None,
        headers={"api-key": "ghp_fromAzureSdk"},
    )
    assert res.status == 200
    recorded = http_.emu.requests[-1]
    assert recorded.path == "/inference/v1/chat/completions"
    assert recorded.query == {"api-version": "2024-05-01-preview"}


def test_azure_style_annotates_content_filters() -> None:
    with Emulator(catalog=CATALOG, stream_style="azure") as emu:
        http = Http(emu)
        body = http.chat(chat_body()).json()
        assert body["prompt_filter_results"][0]["prompt_index"] == 0
        assert body["choices"][0]["content_filter_results"]["hate"] == {
            "filtered": False,
            "severity": "safe",
        }
        res = http.chat(chat_body("one two", stream=True))
        chunks = res.chunks()
        assert chunks[0]["choices"] == [] and "prompt_filter_results" in chunks[0]
        assert chunks[1]["choices"][0]["delta"]["role"] == "assistant"
        content = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
        assert all(c["choices"][0]["content_filter_results"]["violence"] for c in content)
        assert res.events()[-1] == "[DONE]"


def test_stream_openai_style_with_usage(http_: Http) -> None:
    res = http_.chat(
        chat_body("one two three", stream=True, stream_options={"include_usage": True})
    )
    assert res.status == 200
    assert res.headers["content-type"] == "text/event-stream"
    assert "\r" not in res.text
    assert not [line for line in res.text.split("\n") if line and not line.startswith("data: ")]
    events = res.events()
    assert events[-1] == "[DONE]"
    chunks = res.chunks()
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert "".join(pieces) == "Echo: one two three"
    assert len([p for p in pieces if p]) == 4  # one chunk per word
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert [c["choices"][0]["finish_reason"] for c in finish] == ["stop"]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == (len("Echo: one two three") + 3) // 4


def test_stream_without_include_usage_has_no_usage_chunk(http_: Http) -> None:
    chunks = http_.chat(chat_body(stream=True)).chunks()
    assert all(c["choices"] for c in chunks)
    assert all("usage" not in c for c in chunks)


def test_default_tool_call_when_prompt_names_the_tool(http_: Http) -> None:
    body = chat_body("Please call get_weather for Paris", tools=[WEATHER_TOOL, TIME_TOOL])
    msg = http_.chat(body).json()["choices"][0]
    assert msg["finish_reason"] == "tool_calls"
    (call,) = msg["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {
        "city": "Paris",
        "days": 1,
        "unit": "celsius",
        "detailed": True,
    }
    assert msg["message"]["content"] is None


def test_parallel_tool_call_deltas_reassemble_to_valid_json(http_: Http) -> None:
    http_.emu.script(
        Reply.tool_calls(
            [
                ("get_weather", {"city": "Paris", "details": "long enough to split"}),
                ("get_time", {"tz": "CET"}),
            ]
        )
    )
    res = http_.chat(chat_body("weather and time", stream=True, tools=[WEATHER_TOOL, TIME_TOOL]))
    chunks = res.chunks()
    heads = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", ()) if "id" in d]
    assert [h["function"] for h in heads] == [
        {"name": "get_weather", "arguments": ""},
        {"name": "get_time", "arguments": ""},
    ]
    indexes = [d["index"] for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", ())]
    assert indexes[:4] == [0, 1, 0, 1]  # interleaved
    calls = reassemble(chunks)
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris", "details": "long enough to split"}
    assert json.loads(calls[1]["arguments"]) == {"tz": "CET"}
    assert calls[0]["id"] != calls[1]["id"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert res.events()[-1] == "[DONE]"


def test_tool_results_are_summarised(http_: Http) -> None:
    body = {
        "model": "openai/gpt-4o",
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_9", "content": '{"temp": 21}'},
        ],
    }
    msg = http_.chat(body).json()["choices"][0]
    assert msg["message"]["content"] == 'Tool results: get_weather -> {"temp": 21}'
    assert msg["finish_reason"] == "stop"


def test_json_schema_response_format_gets_a_conforming_object(http_: Http) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "kind": {"$ref": "#/$defs/kind"},
            "extra": {"type": "string"},
        },
        "required": ["name", "age", "tags", "kind"],
        "$defs": {"kind": {"type": "string", "enum": ["a", "b"]}},
    }
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": schema, "strict": True},
    }
    content = http_.chat(chat_body("a person", response_format=fmt)).json()["choices"][0][
        "message"
    ]["content"]
    assert json.loads(content) == {
        "name": "example",
        "age": 18,
        "tags": ["example", "example"],
        "kind": "a",
    }


def test_max_tokens_truncates_with_length_and_stop_sequences_cut(http_: Http) -> None:
    long_text = "word " * 40
    msg = http_.chat(chat_body(long_text, max_tokens=5)).json()["choices"][0]
    assert msg["finish_reason"] == "length"
    assert msg["message"]["content"] == ("Echo: " + long_text)[:20]
    msg = http_.chat(chat_body("alpha beta STOP gamma", stop=["STOP"])).json()["choices"][0]
    assert msg["message"]["content"] == "Echo: alpha beta "
    assert msg["finish_reason"] == "stop"


def test_scripted_replies_fifo_model_filter_and_usage(http_: Http) -> None:
    emu = http_.emu
    emu.script(Reply.text("for mini only"), model="openai/gpt-4o-mini")
    emu.script(Reply.text("first", usage=(11, 2)), Reply.json({"ok": True}))
    first = http_.chat(chat_body()).json()
    assert first["choices"][0]["message"]["content"] == "first"
    assert first["usage"] == {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
    assert json.loads(http_.chat(chat_body()).json()["choices"][0]["message"]["content"]) == {
        "ok": True
    }
    assert http_.chat(chat_body()).json()["choices"][0]["message"]["content"].startswith("Echo:")
    mini = http_.chat(chat_body(model="openai/GPT-4o-mini")).json()
    assert mini["choices"][0]["message"]["content"] == "for mini only"
    assert emu.pending_replies == 0


def test_scripted_text_with_tool_calls_and_content_filter(http_: Http) -> None:
    http_.emu.script(
        Reply.tool_calls([("get_time", {"tz": "CET"})], text="Let me check."),
        Reply.text("filtered", finish_reason="content_filter"),
    )
    msg = http_.chat(chat_body()).json()["choices"][0]
    assert msg["message"]["content"] == "Let me check."
    assert msg["message"]["tool_calls"][0]["function"] == {
        "name": "get_time",
        "arguments": '{"tz": "CET"}',
    }
    assert http_.chat(chat_body()).json()["choices"][0]["finish_reason"] == "content_filter"


def test_tool_choice_required_and_none(http_: Http) -> None:
    required = http_.chat(chat_body("no mention", tools=[TIME_TOOL], tool_choice="required")).json()
    assert required["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_time"
    none = http_.chat(chat_body("get_time please", tools=[TIME_TOOL], tool_choice="none")).json()
    assert "tool_calls" not in none["choices"][0]["message"]
