"""OpenTelemetry with content capture on, against hostile input: the credential in a prompt, a
system text or a tool result is masked like the output; odd tool-call deltas trace as they parse."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.plugins.model_provider.github_models import telemetry_names as N
from shared.plugins.model_provider.types import ToolResult, ToolSchema
from tests.adversarial.conftest import PROFILE, TOKEN
from tests.adversarial.hostile import HostileServer, send_sse, sse_chunk

PROPERTY = settings.get_profile(PROFILE)
_EXPORTER = InMemorySpanExporter()
_added: list[bool] = []
TOOL = ToolSchema(name="read_env", description="Reads a variable",
                  parameters={"type": "object", "properties": {"name": {"type": "string"}}})


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans of this module, content capture on (the worst case for a leak)."""
    monkeypatch.setenv(N.CAPTURE_CONTENT_ENV, "true")
    if not _added:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):  # another module installed the SDK: join it
            current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        else:
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
            trace.set_tracer_provider(provider)
        _added.append(True)
    _EXPORTER.clear()
    yield _EXPORTER


def everything(exporter: InMemorySpanExporter) -> str:
    return "\n".join(span.to_json() for span in exporter.get_finished_spans())


def test_the_input_side_is_masked(make_provider: Callable[..., Any],
                                  spans: InMemorySpanExporter) -> None:
    provider = make_provider(token=TOKEN, tracing="otel")
    provider.create_session(system_instruction=f"The key is {TOKEN}.", tools=[TOOL])
    provider.send_message(f"Remember {TOKEN} and ghp_{'A1b2' * 9}")
    text = everything(spans)
    assert TOKEN not in text and TOKEN[len("github_pat_"):] not in text
    assert f"ghp_{'A1b2' * 9}" not in text  # a token-shaped string, not ours: masked too
    assert json.loads(dict(spans.get_finished_spans()[-1].attributes or {})[
        "gen_ai.input.messages"])[0]["role"] == "user"


def test_a_tool_result_quoting_the_key_is_masked(make_provider: Callable[..., Any],
                                                 emulator: Any,
                                                 spans: InMemorySpanExporter) -> None:
    from shared.plugins.model_provider.github_models.emulator import Reply

    provider = make_provider(token=TOKEN, tracing="otel")
    provider.create_session(tools=[TOOL])
    emulator.script(Reply.tool_calls([("read_env", {"name": "GITHUB_TOKEN"})]), Reply.text("ok"))
    (call,) = provider.send_message("What is my token?").function_calls
    provider.send_tool_results([ToolResult(call_id=call.id, name=call.name,
                                           result={"value": TOKEN})])
    text = everything(spans)
    assert TOKEN not in text and TOKEN[len("github_pat_"):] not in text
    assert "tool_call_response" in text


def _tool_stream(indexes: list[Any]) -> list[bytes]:
    chunks = []
    for i, index in enumerate(indexes):
        call: dict[str, Any] = {"index": index, "function": {"arguments": "{}" if i else ""}}
        if i % 2 == 0:  # every other delta opens a call (an id), the rest add to it
            call.update(id=f"call_{i}", type="function", function={"name": "read_env",
                                                                    "arguments": ""})
        chunks.append(sse_chunk({"tool_calls": [call]}))
    return [*chunks, sse_chunk({}, "tool_calls"), b"data: [DONE]\n\n"]


def test_a_null_tool_call_index_is_traced_as_the_stream_parses_it(
        hostile: HostileServer, hostile_provider: Callable[..., Any],
        spans: InMemorySpanExporter) -> None:
    hostile.script(send_sse(_tool_stream([None, None])))
    provider = hostile_provider(tracing="otel")
    provider.create_session(tools=[TOOL])
    response = provider.send_message_streaming("go", lambda _t: None)
    assert [c.name for c in response.function_calls] == ["read_env"]
    (span,) = spans.get_finished_spans()
    (out,) = json.loads(dict(span.attributes or {})["gen_ai.output.messages"])
    assert [p["name"] for p in out["parts"]] == ["read_env"]


@PROPERTY
@given(indexes=st.lists(st.one_of(st.none(), st.integers(0, 3), st.booleans(),
                                  st.text(max_size=3), st.floats(allow_nan=True)),
                        min_size=1, max_size=5))
def test_any_tool_call_index_traces_like_it_runs_untraced(
        indexes: list[Any], hostile: HostileServer, hostile_provider: Callable[..., Any],
        spans: InMemorySpanExporter) -> None:
    body = _tool_stream(indexes)
    hostile.script(send_sse(body), send_sse(body))
    plain, traced = hostile_provider(), hostile_provider(tracing="otel")
    outcomes = []
    for provider in (plain, traced):
        provider.create_session(tools=[TOOL])
        try:
            response = provider.send_message_streaming("go", lambda _t: None)
            outcomes.append(("ok", len(response.function_calls)))
        except Exception as exc:
            outcomes.append((type(exc).__name__, 0))
    assert outcomes[0] == outcomes[1]


@PROPERTY
@given(before=st.text(max_size=10), after=st.text(max_size=10),
       where=st.sampled_from(["system", "prompt", "stop"]))
def test_the_key_is_masked_wherever_the_input_holds_it(
        make_provider: Callable[..., Any], spans: InMemorySpanExporter, before: str, after: str,
        where: str) -> None:
    from shared.plugins.model_provider.github_models import errors as E

    provider = make_provider(token=TOKEN, tracing="otel")
    spans.clear()
    text = f"{before}{TOKEN}{after}"
    try:
        if where == "system":
            provider.create_session(system_instruction=text)
            provider.send_message("hi")
        elif where == "prompt":
            provider.send_message(text)
        else:
            provider.send_message("hi", stop=[text])
    except E.GitHubModelsError:
        pass  # refused input (a lone surrogate ...): nothing to trace
    assert TOKEN[len("github_pat_"):] not in everything(spans)
