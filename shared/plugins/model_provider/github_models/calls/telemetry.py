"""OpenTelemetry GenAI spans and metrics for chat requests (``extra["tracing"]="otel"``).

Imported only when tracing is on; nothing of OpenTelemetry is imported otherwise. Uses the
global tracer and meter providers (the application configures the SDK and exporters), so a
caller's current span (e.g. jaato's ``jaato.turn``) becomes the parent.

Per request (one ``send_message`` ...), a ``chat {model}`` span of kind CLIENT with the GenAI
semantic-convention attributes; each retry and each pacing wait is an event on it; a stream's
span ends when the stream ends, fails or is cancelled. Metrics: ``gen_ai.client.operation.
duration``, ``gen_ai.client.token.usage`` and, for streams, ``gen_ai.client.operation.
time_to_first_chunk``. Message content is recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` is true. No header, key or token is ever
an attribute.

Attribute names follow opentelemetry-semantic-conventions 0.66b2 (the dev extra pins it and a
test compares every name below with it); they are spelled here so that the runtime needs only
``opentelemetry-api``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from .. import telemetry_names as N
from ..config.settings import Settings
from ..errors import ConfigurationError
from ..telemetry_names import CAPTURE_CONTENT_ENV, SEMCONV_VERSION

__all__ = ["CAPTURE_CONTENT_ENV", "SEMCONV_VERSION", "Operation", "Telemetry"]

_CAPTURE_ON = {"1", "true", "yes", "on", "span_only", "span_and_event"}

# the conventions' advisory bucket boundaries
_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                     40.96, 81.92]
_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                  16777216, 67108864]

_PARAMS = (("temperature", N.REQUEST_TEMPERATURE), ("top_p", N.REQUEST_TOP_P),
           ("seed", N.REQUEST_SEED), ("frequency_penalty", N.REQUEST_FREQUENCY_PENALTY),
           ("presence_penalty", N.REQUEST_PRESENCE_PENALTY))


def provider_name(settings: Settings) -> str:
    """``gen_ai.provider.name`` for an endpoint: the conventions' value where one fits."""
    host = (urlsplit(settings.endpoint).hostname or "").lower()
    return settings.profile.provider_name(host)


def _server(endpoint: str) -> tuple[str, int]:
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


class Telemetry:
    """Spans and metrics of one provider, on the global OpenTelemetry providers.

    Raises:
        ConfigurationError: opentelemetry-api is not installed.
    """

    def hide(self, text: str) -> str:
        """``text`` with the credentials masked: the key, the Entra tokens issued, and anything
        shaped like a token."""
        from ..common.masking import SecretMasker
        from ..common.secret_text import scrub

        return scrub(SecretMasker(self.settings.secrets()).scrub(text))

    def __init__(self, settings: Settings) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as exc:
            raise ConfigurationError(
                what="Turning on OpenTelemetry tracing (JAATO_GITHUB_TRACING=otel)",
                why="the opentelemetry-api package is not installed",
                fix="pip install 'jaato-github-models[otel]' plus an SDK and exporter "
                    "(opentelemetry-sdk, opentelemetry-exporter-otlp), or set tracing off"
            ) from exc
        from opentelemetry import context
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.settings = settings

        self._trace, self._context = trace, context
        self.client_kind = SpanKind.CLIENT
        self._status, self._error_code = Status, StatusCode.ERROR
        from ..common.version import __version__  # the package's one version string

        self.tracer = trace.get_tracer(N.INSTRUMENTATION_NAME, __version__)
        meter = metrics.get_meter(N.INSTRUMENTATION_NAME, __version__)
        self.duration = meter.create_histogram(
            N.METRIC_DURATION, unit="s", description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS)
        self.token_usage = meter.create_histogram(
            N.METRIC_TOKEN_USAGE, unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS)
        self.time_to_first_chunk = meter.create_histogram(
            N.METRIC_TIME_TO_FIRST_CHUNK, unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS)
        self.provider = provider_name(settings)
        self.server_address, self.server_port = _server(settings.endpoint)

    @staticmethod
    def capture_content() -> bool:
        """Whether message content may be recorded (the conventions' opt-in switch)."""
        return os.environ.get(N.CAPTURE_CONTENT_ENV, "").strip().lower() in _CAPTURE_ON

    @contextmanager
    def operation(self, body: Mapping[str, Any], *, streaming: bool) -> Iterator[Operation]:
        """A ``chat {model}`` span (current while the body runs) and the operation's metrics.

        Exceptions pass through after they are recorded.
        """
        op = Operation(self, body, streaming)
        token = self._context.attach(self._trace.set_span_in_context(op.span))
        try:
            yield op
        except BaseException as exc:
            self._context.detach(token)
            op.finish(exc)
            raise
        self._context.detach(token)
        op.finish(None)

    def retry(self, error: BaseException, attempt: int, delay: float) -> None:
        """Note a retry on the current span."""
        attrs: dict[str, Any] = {N.ERROR_TYPE: type(error).__name__, "jaato.retry.attempt": attempt,
                                 "jaato.retry.delay": round(delay, 3)}
        status = getattr(error, "status", None)
        if isinstance(status, int):
            attrs[N.HTTP_RESPONSE_STATUS_CODE] = status
        self._trace.get_current_span().add_event(N.RETRY_EVENT, attrs)

    def paced(self, waited: float) -> None:
        """Note a pacing wait (seconds) on the current span."""
        self._trace.get_current_span().add_event(N.PACING_EVENT, {"jaato.pacing.waited": waited})


class Operation:
    """One traced request: its span, what the response said, and the clock."""

    def __init__(self, telemetry: Telemetry, body: Mapping[str, Any], streaming: bool) -> None:
        self.t = telemetry
        self.model = str(body.get("model") or "")
        self.streaming = streaming
        self.capture = telemetry.capture_content()
        self.started = time.perf_counter()
        self.first_chunk: float | None = None
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.finish_reasons: dict[int, str] = {}
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.text: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.span = telemetry.tracer.start_span(
            f"chat {self.model}".strip(), kind=telemetry.client_kind,
            attributes=self._request(body))

    def _common(self) -> dict[str, Any]:
        return {N.OPERATION_NAME: "chat", N.PROVIDER_NAME: self.t.provider,
                N.REQUEST_MODEL: self.model, N.SERVER_ADDRESS: self.t.server_address,
                N.SERVER_PORT: self.t.server_port}

    def _request(self, body: Mapping[str, Any]) -> dict[str, Any]:
        attrs = self._common()
        for name, attr in _PARAMS:
            value = body.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                attrs[attr] = value
        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        if isinstance(max_tokens, int):
            attrs[N.REQUEST_MAX_TOKENS] = max_tokens
        stop = body.get("stop")
        if stop:
            attrs[N.REQUEST_STOP_SEQUENCES] = [self.t.hide(str(x)) for x in
                                               ([stop] if isinstance(stop, str) else stop)]
        n = body.get("n")
        if isinstance(n, int) and n != 1:
            attrs[N.REQUEST_CHOICE_COUNT] = n
        if self.streaming:
            attrs[N.REQUEST_STREAM] = True
        fmt = body.get("response_format")
        if isinstance(fmt, Mapping) and str(fmt.get("type", "")).startswith("json"):
            attrs[N.OUTPUT_TYPE] = "json"
        if self.capture:
            messages = body.get("messages") or []
            system = [_parts(m.get("content")) for m in messages
                      if isinstance(m, Mapping) and m.get("role") in ("system", "developer")]
            # the input is masked like the output: a prompt, system text or tool result can
            # quote the key or an Entra token (a pasted config, a tool that read the env)
            if system:
                attrs[N.SYSTEM_INSTRUCTIONS] = self.t.hide(
                    json.dumps([p for ps in system for p in ps]))
            attrs[N.INPUT_MESSAGES] = self.t.hide(json.dumps(
                [_message(m) for m in messages
                 if isinstance(m, Mapping) and m.get("role") not in ("system", "developer")]))
        return attrs

    # ---- the response ----

    def completed(self, data: dict[str, Any]) -> dict[str, Any]:
        """Record a whole (non-streamed) response; returns ``data``."""
        self._head(data)
        for choice in data.get("choices") or []:
            if isinstance(choice, Mapping):
                self._choice(choice, choice.get("message"))
        self._usage(data.get("usage"))
        return data

    def observe(self, on_event: Callable[[dict[str, Any]], str]
                ) -> Callable[[dict[str, Any]], str]:
        """Wrap a stream's event callback to watch each chunk on its way to ``on_event``."""
        def watched(event: dict[str, Any]) -> str:
            if self.first_chunk is None:
                self.first_chunk = time.perf_counter() - self.started
            self._head(event)
            for choice in event.get("choices") or []:
                if isinstance(choice, Mapping):
                    self._choice(choice, choice.get("delta"))
            self._usage(event.get("usage"))
            return on_event(event)
        return watched

    def attempt(self, inner: Callable[[], None] | None) -> Callable[[], None]:
        """Wrap a stream's ``on_attempt``: a retried stream starts its recorded output afresh."""
        def fresh() -> None:
            self.finish_reasons.clear()
            self.text.clear()
            self.tool_calls.clear()
            if inner is not None:
                inner()
        return fresh

    def _head(self, data: Mapping[str, Any]) -> None:
        if isinstance(data.get("model"), str) and data["model"]:
            self.response_model = data["model"]
        if isinstance(data.get("id"), str) and data["id"]:
            self.response_id = data["id"]

    def _choice(self, choice: Mapping[str, Any], message: Any) -> None:
        index = choice.get("index", 0) if isinstance(choice.get("index"), int) else 0
        if choice.get("finish_reason"):
            self.finish_reasons[index] = str(choice["finish_reason"])
        if not self.capture or not isinstance(message, Mapping):
            return
        if isinstance(message.get("content"), str):
            self.text.append(message["content"])
        for call in message.get("tool_calls") or []:
            if not isinstance(call, Mapping):
                continue
            slot = self.tool_calls.setdefault(self._call_index(call),
                                              {"id": None, "name": "", "arguments": ""})
            fn = call.get("function") or {}
            slot["id"] = call.get("id") or slot["id"]
            slot["name"] += str(fn.get("name") or "")
            slot["arguments"] += str(fn.get("arguments") or "")

    def _call_index(self, call: Mapping[str, Any]) -> int:
        """Which recorded call a tool-call (delta) adds to: the stream parser's rule (a null or
        missing index: a new id opens a call, else the last one grows)."""
        index = call.get("index")
        if not self.streaming:
            return len(self.tool_calls)
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        return (len(self.tool_calls) if call.get("id") or not self.tool_calls
                else max(self.tool_calls))

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, Mapping):
            return
        if isinstance(usage.get("prompt_tokens"), int):
            self.input_tokens = usage["prompt_tokens"]
        if isinstance(usage.get("completion_tokens"), int):
            self.output_tokens = usage["completion_tokens"]

    # ---- the end ----

    def finish(self, exc: BaseException | None) -> None:
        """End the span and record the metrics (call once)."""
        span = self.span
        attrs: dict[str, Any] = {}
        if self.response_model:
            attrs[N.RESPONSE_MODEL] = self.response_model
        if self.response_id:
            attrs[N.RESPONSE_ID] = self.response_id
        if self.finish_reasons:
            attrs[N.RESPONSE_FINISH_REASONS] = [self.finish_reasons[i]
                                              for i in sorted(self.finish_reasons)]
        if self.input_tokens is not None:
            attrs[N.USAGE_INPUT_TOKENS] = self.input_tokens
        if self.output_tokens is not None:
            attrs[N.USAGE_OUTPUT_TOKENS] = self.output_tokens
        if self.first_chunk is not None:
            attrs[N.RESPONSE_TIME_TO_FIRST_CHUNK] = self.first_chunk
        if self.capture and (self.text or self.tool_calls):
            attrs[N.OUTPUT_MESSAGES] = self.t.hide(json.dumps([self._output_message()]))
        cancelled = exc is not None and _is_cancel(exc)
        error_type: str | None = None
        if cancelled:
            attrs[N.CANCELLED] = True
        elif exc is not None:
            error_type = type(exc).__name__
            attrs[N.ERROR_TYPE] = error_type
            status = getattr(exc, "status", None)
            if isinstance(status, int):
                attrs[N.HTTP_RESPONSE_STATUS_CODE] = status
            message = self.t.hide(str(exc))
            span.set_status(self.t._status(self.t._error_code, message.splitlines()[0][:200]))
            # not record_exception: its stack trace quotes the chained causes verbatim
            span.add_event("exception", {"exception.type": error_type,
                                         "exception.message": message,
                                         "exception.escaped": True})
        span.set_attributes(attrs)
        span.end()
        self._metrics(error_type)

    def _metrics(self, error_type: str | None) -> None:
        metric_attrs = self._common()
        if self.response_model:
            metric_attrs[N.RESPONSE_MODEL] = self.response_model
        duration_attrs = dict(metric_attrs)
        if error_type:
            duration_attrs[N.ERROR_TYPE] = error_type
        self.t.duration.record(time.perf_counter() - self.started, duration_attrs)
        if self.input_tokens is not None:
            self.t.token_usage.record(self.input_tokens, {**metric_attrs, N.TOKEN_TYPE: "input"})
        if self.output_tokens is not None:
            self.t.token_usage.record(self.output_tokens, {**metric_attrs, N.TOKEN_TYPE: "output"})
        if self.first_chunk is not None:
            self.t.time_to_first_chunk.record(self.first_chunk, metric_attrs)

    def _output_message(self) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if self.text:
            parts.append({"type": "text", "content": "".join(self.text)})
        for call in self.tool_calls.values():
            parts.append({"type": "tool_call", "id": call["id"], "name": call["name"],
                          "arguments": _span_arguments(call["arguments"])})
        reason = self.finish_reasons.get(0)
        return {"role": "assistant", "parts": parts,
                **({"finish_reason": reason} if reason else {})}


def _is_cancel(exc: BaseException) -> bool:
    import asyncio

    return type(exc).__name__ == "StreamCancelled" or isinstance(exc, asyncio.CancelledError)


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for item in content or []:
        if isinstance(item, Mapping) and item.get("type") == "text":
            parts.append({"type": "text", "content": item.get("text", "")})
        elif isinstance(item, Mapping):
            parts.append({"type": str(item.get("type", "unknown"))})  # images: no bytes
    return parts


def _message(m: Mapping[str, Any]) -> dict[str, Any]:
    role = str(m.get("role", "user"))
    if role == "tool":
        return {"role": "tool", "parts": [{"type": "tool_call_response",
                                            "id": m.get("tool_call_id"),
                                            "response": m.get("content")}]}
    parts = _parts(m.get("content"))
    for call in m.get("tool_calls") or []:
        if not isinstance(call, Mapping):
            continue
        fn = call.get("function") or {}
        parts.append({"type": "tool_call", "id": call.get("id"), "name": fn.get("name"),
                      "arguments": fn.get("arguments")})
    return {"role": role, "parts": parts}


def _span_arguments(raw: str | None) -> Any:
    """A tool call's arguments as the span shows them: the decoded object, or the raw text
    when it is not JSON (the text is kept as is; nothing is built from the failure)."""
    try:
        return json.loads(raw or "{}")
    except ValueError:
        pass
    return raw
