"""OpenTelemetry GenAI spans and metrics over real HTTP, read back from the SDK's in-memory
exporter and metric reader (installed once as the global providers for this module)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models import telemetry_names as N
from shared.plugins.model_provider.github_models.calls import telemetry as T
from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.types import CancelToken, FinishReason, ToolResult, ToolSchema

from .conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[1]
_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()
_installed: list[bool] = []


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """The global providers (set once per process) with a cleared span exporter."""
    monkeypatch.delenv(N.CAPTURE_CONTENT_ENV, raising=False)  # content off unless a test opts in
    if not _installed:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):  # another module installed the SDK: join it
            current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        else:
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
            trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
        _installed.append(True)
    _EXPORTER.clear()
    yield _EXPORTER


@pytest.fixture
def traced(spans: InMemorySpanExporter, make_provider: Callable[..., Any]) -> Callable[..., Any]:
    def make(*args: Any, **extra: Any) -> Any:
        return make_provider(*args, tracing="otel", **extra)
    return make


def chats(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]


def points(metric: str, port: int) -> list[Any]:
    """Data points of ``metric`` recorded against the emulator on ``port`` (cumulative)."""
    found = []
    data = _READER.get_metrics_data()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == metric:
                    found += [p for p in m.data.data_points
                              if p.attributes.get("server.port") == port]
    return found


def everything(exporter: InMemorySpanExporter) -> str:
    """Every span's attributes and events as text (to search for secrets)."""
    return "\n".join(span.to_json() for span in exporter.get_finished_spans())


WEATHER = ToolSchema(name="get_weather", description="Weather for a city",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]})


# ---- one span per request, with the GenAI attributes -------------------------------------------


def test_plain_reply(traced: Any, emulator: Emulator, spans: InMemorySpanExporter) -> None:
    provider = traced()
    emulator.script(Reply.text("Hello there", usage=(11, 3)))
    with trace.get_tracer("test").start_as_current_span("jaato.turn") as parent:
        provider.send_message("hi", temperature=0.25, top_p=0.5, max_tokens=50, seed=7,
                              stop=["END"])
    (span,) = chats(spans)
    assert span.name == "chat openai/gpt-4o" and span.kind is SpanKind.CLIENT
    from shared.plugins.model_provider.github_models import __version__

    # the package's one version string (telemetry once carried a stale copy, 0.1.0)
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.version == __version__
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id  # the caller's span
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "github"
    assert attrs["gen_ai.request.model"] == "openai/gpt-4o"
    assert attrs["gen_ai.request.temperature"] == 0.25
    assert attrs["gen_ai.request.top_p"] == 0.5
    assert attrs["gen_ai.request.max_tokens"] == 50
    assert attrs["gen_ai.request.seed"] == 7
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.response.model"].startswith("gpt-4o")
    assert attrs["gen_ai.response.id"].startswith("chatcmpl-")
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (11, 3)
    assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", emulator.port)
    assert "error.type" not in attrs and "gen_ai.request.stream" not in attrs
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.input.messages" not in attrs  # content only when opted in
    (duration,) = points("gen_ai.client.operation.duration", emulator.port)
    assert duration.count == 1 and duration.sum > 0
    assert duration.attributes["gen_ai.request.model"] == "openai/gpt-4o"
    usage = {p.attributes["gen_ai.token.type"]: p.sum
             for p in points("gen_ai.client.token.usage", emulator.port)}
    assert usage == {"input": 11, "output": 3}
    assert points("gen_ai.client.operation.time_to_first_chunk", emulator.port) == []


def test_stream(traced: Any, emulator: Emulator, spans: InMemorySpanExporter) -> None:
    provider = traced()
    emulator.script(Reply.text("one two three four", usage=(9, 4)))
    chunks: list[str] = []
    provider.send_message_streaming("hi", chunks.append)
    (span,) = chats(spans)
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (9, 4)
    assert attrs["gen_ai.response.id"].startswith("chatcmpl-")
    assert 0 < attrs["gen_ai.response.time_to_first_chunk"] < span_seconds(span)
    (ttfc,) = points("gen_ai.client.operation.time_to_first_chunk", emulator.port)
    assert ttfc.count == 1
    assert {p.attributes["gen_ai.token.type"]
            for p in points("gen_ai.client.token.usage", emulator.port)} == {"input", "output"}


def span_seconds(span: ReadableSpan) -> float:
    assert span.start_time is not None and span.end_time is not None
    return (span.end_time - span.start_time) / 1e9


def test_async_stream_span(traced: Any, emulator: Emulator, spans: InMemorySpanExporter) -> None:
    provider = traced()

    async def main() -> None:
        with trace.get_tracer("test").start_as_current_span("jaato.turn"):
            await provider.asend_message_streaming("hi", lambda _t: None)
        await provider.asend_message("again")
        await provider.ashutdown()

    asyncio.run(main())
    first, second = chats(spans)
    assert first.parent is not None and second.parent is None
    assert dict(first.attributes or {})["gen_ai.request.stream"] is True
    assert dict(second.attributes or {})["gen_ai.response.finish_reasons"] == ("stop",)


def test_cancelled_stream_ends_its_span(traced: Any, emulator: Emulator,
                                        spans: InMemorySpanExporter) -> None:
    provider = traced()
    emulator.script(Reply.fault("slow_stream", interval=0.01,
                                 text=" ".join(f"w{i}" for i in range(400))))
    token = CancelToken()
    seen: list[str] = []

    def on_chunk(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            token.cancel()

    response = provider.send_message_streaming("long", on_chunk, cancel_token=token)
    assert response.finish_reason is FinishReason.CANCELLED
    (span,) = chats(spans)  # ended (exported) although the stream never finished
    attrs = dict(span.attributes or {})
    assert attrs["jaato.stream.cancelled"] is True
    assert "error.type" not in attrs and "gen_ai.response.finish_reasons" not in attrs
    assert span.status.status_code is StatusCode.UNSET
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    (duration,) = points("gen_ai.client.operation.duration", emulator.port)
    assert "error.type" not in duration.attributes


def test_tool_round_trip_with_content_capture(traced: Any, emulator: Emulator,
                                              spans: InMemorySpanExporter,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(N.CAPTURE_CONTENT_ENV, "true")
    provider = traced()
    provider.create_session(system_instruction="Be brief.", tools=[WEATHER])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Oslo"})]),
                    Reply.text("It is sunny in Oslo."))
    first = provider.send_message("Weather in Oslo?")
    (call,) = first.function_calls
    provider.send_tool_results([ToolResult(call_id=call.id, name=call.name,
                                           result={"sky": "sunny"})])
    ask, answer = chats(spans)
    ask_attrs, answer_attrs = dict(ask.attributes or {}), dict(answer.attributes or {})
    assert ask_attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert answer_attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert json.loads(ask_attrs["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}]
    assert json.loads(ask_attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]}]
    (out,) = json.loads(ask_attrs["gen_ai.output.messages"])
    assert out["finish_reason"] == "tool_calls"
    assert out["parts"] == [{"type": "tool_call", "id": call.id, "name": "get_weather",
                             "arguments": {"city": "Oslo"}}]
    inputs = json.loads(answer_attrs["gen_ai.input.messages"])
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[2]["parts"][0]["type"] == "tool_call_response"
    assert inputs[2]["parts"][0]["id"] == call.id
    (reply,) = json.loads(answer_attrs["gen_ai.output.messages"])
    assert reply["parts"] == [{"type": "text", "content": "It is sunny in Oslo."}]


def test_a_retried_stream_records_the_output_of_the_last_attempt_only(
        traced: Any, emulator: Emulator, spans: InMemorySpanExporter,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(N.CAPTURE_CONTENT_ENV, "true")
    provider = traced(clock=ManualClock())
    provider.create_session(tools=[WEATHER])
    calls = Reply.tool_calls([("get_weather", {"city": "Oslo"})])
    # cut after one tool-call delta (nothing reached the caller: retried), then the full answer
    emulator.script(Reply.fault("drop_mid_stream", after=1, reply=calls), calls)
    response = provider.send_message_streaming("Weather?", lambda _t: None)
    assert len(response.function_calls) == 1
    (span,) = chats(spans)
    assert [e.name for e in span.events] == ["jaato.retry"]
    (out,) = json.loads(dict(span.attributes or {})["gen_ai.output.messages"])
    assert [(p["name"], p["arguments"]) for p in out["parts"]] == [("get_weather",
                                                                    {"city": "Oslo"})]


def test_streamed_content_is_captured_only_when_opted_in(
        traced: Any, emulator: Emulator, spans: InMemorySpanExporter,
        monkeypatch: pytest.MonkeyPatch) -> None:
    provider = traced()
    provider.send_message_streaming("secret plans", lambda _t: None)
    monkeypatch.setenv(N.CAPTURE_CONTENT_ENV, "true")
    provider.send_message_streaming("public plans", lambda _t: None)
    off, on = chats(spans)
    assert "secret plans" not in off.to_json()
    assert not {"gen_ai.input.messages", "gen_ai.output.messages"} & set(off.attributes or {})
    (out,) = json.loads(dict(on.attributes or {})["gen_ai.output.messages"])
    assert out["parts"] == [{"type": "text", "content": "Echo: public plans"}]


def rate_limited(seconds: int) -> Reply:
    message = f"Rate limit of 10 per 60s exceeded for UserByModelByMinute. Please wait {seconds}"
    return Reply.error(429, {"error": {"code": "RateLimitReached", "message": message}},
                       {"retry-after": str(seconds), "x-ratelimit-type": "UserByModelByMinute"})


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_retried_429_is_an_event_on_one_span(traced: Any, emulator: Emulator,
                                             spans: InMemorySpanExporter,
                                             streaming: bool) -> None:
    provider = traced(clock=ManualClock())
    emulator.script(rate_limited(2))
    if streaming:
        provider.send_message_streaming("hi", lambda _t: None)
    else:
        provider.send_message("hi")
    (span,) = chats(spans)
    (event,) = [e for e in span.events if e.name == "jaato.retry"]
    assert event.attributes is not None
    assert event.attributes["error.type"] == "RateLimitError"
    assert event.attributes["http.response.status_code"] == 429
    assert event.attributes["jaato.retry.attempt"] == 1
    assert event.attributes["jaato.retry.delay"] == 2.0
    attrs = dict(span.attributes or {})
    assert "error.type" not in attrs and attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.status.status_code is StatusCode.UNSET


def test_pacing_wait_is_an_event(traced: Any, emulator: Emulator,
                                 spans: InMemorySpanExporter) -> None:
    provider = traced(clock=ManualClock(), pacing=True, max_retry_wait=600,
                      rate_limits={"high": {"requests_per_minute": 1}})
    provider.send_message("one")
    provider.send_message("two")  # waits for the minute window on the manual clock
    first, second = chats(spans)
    assert not [e for e in first.events if e.name == "jaato.pacing.wait"]
    (wait,) = [e for e in second.events if e.name == "jaato.pacing.wait"]
    assert wait.attributes is not None and wait.attributes["jaato.pacing.waited"] > 0


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_failure_sets_error_type_and_status(traced: Any, emulator: Emulator,
                                            spans: InMemorySpanExporter,
                                            streaming: bool) -> None:
    provider = traced(clock=ManualClock(), max_retries=1)
    emulator.script(Reply.error(503, "busy"), Reply.error(503, "still busy"))
    with pytest.raises(E.ServiceUnavailableError):
        if streaming:
            provider.send_message_streaming("hi", lambda _t: None)
        else:
            provider.send_message("hi")
    (span,) = chats(spans)
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == "ServiceUnavailableError"
    assert attrs["http.response.status_code"] == 503
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["jaato.retry", "exception"]
    (duration,) = points("gen_ai.client.operation.duration", emulator.port)
    assert duration.attributes["error.type"] == "ServiceUnavailableError"
    assert points("gen_ai.client.token.usage", emulator.port) == []


def test_the_token_is_never_an_attribute(traced: Any, emulator: Emulator,
                                         spans: InMemorySpanExporter,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(N.CAPTURE_CONTENT_ENV, "true")
    provider = traced(clock=ManualClock(), max_retries=0)
    provider.send_message("hi")
    provider.send_message_streaming("hi", lambda _t: None)
    emulator.script(Reply.error(401, {"error": {"code": "unauthorized",
                                                "message": f"Bad credentials {TEST_TOKEN}"}}))
    with pytest.raises(E.TokenInvalidError):
        provider.send_message("hi")
    text = everything(spans)
    assert len(chats(spans)) == 3
    assert TEST_TOKEN not in text and TEST_TOKEN[len("github_pat_"):] not in text


# ---- the names, and the cost of being off ------------------------------------------------------


def test_attribute_names_match_the_pinned_semantic_conventions() -> None:
    from importlib.metadata import version

    from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as G
    from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as GM
    from opentelemetry.semconv.attributes import (
        error_attributes,
        http_attributes,
        server_attributes,
    )

    assert version("opentelemetry-semantic-conventions") == N.SEMCONV_VERSION
    pairs = {
        N.OPERATION_NAME: G.GEN_AI_OPERATION_NAME, N.PROVIDER_NAME: G.GEN_AI_PROVIDER_NAME,
        N.REQUEST_MODEL: G.GEN_AI_REQUEST_MODEL, N.REQUEST_MAX_TOKENS: G.GEN_AI_REQUEST_MAX_TOKENS,
        N.REQUEST_TEMPERATURE: G.GEN_AI_REQUEST_TEMPERATURE,
        N.REQUEST_TOP_P: G.GEN_AI_REQUEST_TOP_P,
        N.REQUEST_STOP_SEQUENCES: G.GEN_AI_REQUEST_STOP_SEQUENCES,
        N.REQUEST_SEED: G.GEN_AI_REQUEST_SEED,
        N.REQUEST_FREQUENCY_PENALTY: G.GEN_AI_REQUEST_FREQUENCY_PENALTY,
        N.REQUEST_PRESENCE_PENALTY: G.GEN_AI_REQUEST_PRESENCE_PENALTY,
        N.REQUEST_CHOICE_COUNT: G.GEN_AI_REQUEST_CHOICE_COUNT,
        N.REQUEST_STREAM: G.GEN_AI_REQUEST_STREAM, N.OUTPUT_TYPE: G.GEN_AI_OUTPUT_TYPE,
        N.RESPONSE_MODEL: G.GEN_AI_RESPONSE_MODEL, N.RESPONSE_ID: G.GEN_AI_RESPONSE_ID,
        N.RESPONSE_FINISH_REASONS: G.GEN_AI_RESPONSE_FINISH_REASONS,
        N.RESPONSE_TIME_TO_FIRST_CHUNK: G.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
        N.USAGE_INPUT_TOKENS: G.GEN_AI_USAGE_INPUT_TOKENS,
        N.USAGE_OUTPUT_TOKENS: G.GEN_AI_USAGE_OUTPUT_TOKENS, N.TOKEN_TYPE: G.GEN_AI_TOKEN_TYPE,
        N.INPUT_MESSAGES: G.GEN_AI_INPUT_MESSAGES, N.OUTPUT_MESSAGES: G.GEN_AI_OUTPUT_MESSAGES,
        N.SYSTEM_INSTRUCTIONS: G.GEN_AI_SYSTEM_INSTRUCTIONS,
        N.SERVER_ADDRESS: server_attributes.SERVER_ADDRESS,
        N.SERVER_PORT: server_attributes.SERVER_PORT, N.ERROR_TYPE: error_attributes.ERROR_TYPE,
        N.HTTP_RESPONSE_STATUS_CODE: http_attributes.HTTP_RESPONSE_STATUS_CODE,
        N.METRIC_DURATION: GM.GEN_AI_CLIENT_OPERATION_DURATION,
        N.METRIC_TOKEN_USAGE: GM.GEN_AI_CLIENT_TOKEN_USAGE,
        N.METRIC_TIME_TO_FIRST_CHUNK: GM.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    }
    assert {ours: theirs for ours, theirs in pairs.items() if ours != theirs} == {}
    assert G.GenAiOperationNameValues.CHAT.value == "chat"
    assert G.GenAiProviderNameValues.AZURE_AI_INFERENCE.value == "azure.ai.inference"
    assert G.GenAiTokenTypeValues.INPUT.value == "input"
    assert G.GenAiTokenTypeValues.OUTPUT.value == "output"


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    return result.stdout


def test_nothing_of_opentelemetry_is_imported_when_tracing_is_off() -> None:
    out = _run(
        "import sys\n"
        "from shared import ProviderConfig\n"
        "from shared.plugins.model_provider.github_models import GitHubModelsProvider\n"
        "from shared.plugins.model_provider.github_models.emulator import Emulator\n"
        "emu = Emulator(); emu.start()\n"
        "p = GitHubModelsProvider()\n"
        "p.initialize(ProviderConfig(api_key='sk-' + 'k' * 30, extra={'endpoint': "
        "emu.inference_url}))\n"
        "p.connect('openai/gpt-4o'); p.send_message('hi')\n"
        "p.send_message_streaming('hi', lambda t: None); p.shutdown(); emu.stop()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'azure.identity'))\n"
        "             or m.endswith(('github_models.telemetry', 'github_models.auth'))))\n")
    assert out.strip() == "[]"


def test_tracing_without_opentelemetry_is_a_clear_error() -> None:
    out = _run(
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from shared import ProviderConfig\n"
        "from shared.plugins.model_provider.github_models import GitHubModelsProvider\n"
        "from shared.plugins.model_provider.github_models.errors import ConfigurationError\n"
        "try:\n"
        "    GitHubModelsProvider().initialize(ProviderConfig(api_key='sk-' + 'k' * 30,\n"
        "        extra={'endpoint': 'http://127.0.0.1:9/models', 'tracing': 'otel'}))\n"
        "except ConfigurationError as exc:\n"
        "    print(exc.why); print(exc.fix)\n")
    assert "opentelemetry-api package is not installed" in out
    assert "jaato-github-models[otel]" in out


def test_bad_tracing_value_is_refused() -> None:
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models.config.env import resolve_settings

    with pytest.raises(E.ConfigurationError, match="not off or otel"):
        resolve_settings(ProviderConfig(api_key="k" * 20, extra={"tracing": "jaeger"}),
                         environ={})
    settings = resolve_settings(ProviderConfig(api_key="k" * 20),
                                environ={"JAATO_GITHUB_TRACING": "otel"})
    assert settings.tracing == "otel"


def test_provider_names() -> None:
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models.config.env import resolve_settings

    def name(endpoint: str) -> str:
        return T.provider_name(resolve_settings(
            ProviderConfig(api_key="k" * 20, extra={"endpoint": endpoint}), environ={}))

    assert name("https://res.services.ai.azure.com/models") == "azure.ai.inference"
    assert name("https://res.openai.azure.com") == "azure.ai.openai"
    assert name("https://res.services.ai.azure.com/openai/v1/") == "azure.ai.openai"  # v1
    assert name("https://ghes.example.com/api/v3/models/inference") == "github"
    assert name("https://gateway.example.com/v1") == "openai"


def test_an_error_event_quoting_the_token_leaves_no_trace_of_it_in_spans(
        traced: Any, emulator: Emulator, spans: InMemorySpanExporter,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(N.CAPTURE_CONTENT_ENV, "true")  # content capture on: the worst case
    provider = traced()
    emulator.script(Reply.fault("in_stream_error", after=1, text=f"partial {TEST_TOKEN} text",
                                error={"code": "boom", "message": f"bad key {TEST_TOKEN}"}))
    with pytest.raises(E.GitHubModelsError):
        provider.send_message_streaming("hi", lambda _t: None)
    emulator.script(Reply.tool_calls([(f"fn_{TEST_TOKEN}", {"k": TEST_TOKEN})],
                                     text=f"echo {TEST_TOKEN}"))
    provider.send_message("again")
    dump = everything(spans)
    assert "exception" in dump  # the error is still recorded, as an event
    assert TEST_TOKEN not in dump and TEST_TOKEN[11:30] not in dump
