"""``GitHubModelsProvider``: the framework's provider interface for GitHub Models and every
endpoint that speaks its protocol (GHES, proxies, Microsoft Foundry / Azure AI model inference,
OpenAI-compatible gateways).

This module orchestrates; it holds no wire mapping (``converters``), no HTTP (``transport`` /
``calls``), no configuration reading (``env``) and no model facts (``catalog``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..base import ProviderConfig
from ..types import (
    CancelToken,
    FinishReason,
    Message,
    Part,
    ProviderResponse,
    Role,
    TokenUsage,
    ToolResult,
    ToolSchema,
)
from .calls import CallRunner, StreamCancelled
from .catalog import Catalog, ModelInfo, static_catalog
from .clock import Clock, MonotonicClock
from .converters import (
    history_from_json,
    history_to_json,
    messages_to_wire,
    response_from_wire,
)
from .env import SETTING_KEYS, Settings, resolve_settings
from .errors import (
    ConfigurationError,
    ContextLimitError,
    ErrorContext,
    InvalidRequestError,
    StructuredOutputError,
    model_not_found,
)
from .limits import limits_for_tier
from .options import OPTION_NAMES, adapt_for_model, validate_options
from .pacing import Pacer
from .retry import RetryPolicy
from .session import ChatSession, order_tool_results, tool_message
from .streaming import StreamAccumulator
from .tokens import estimate_request_tokens, estimate_tokens
from .usage import UsageTotals, UsageTracker

__all__ = ["DEFAULT_CONTEXT_LIMIT", "GitHubModelsProvider"]

logger = logging.getLogger("shared.plugins.model_provider.github_models")
DEFAULT_CONTEXT_LIMIT = 128_000
_warned_models: set[str] = set()


class GitHubModelsProvider:
    """The GitHub Models provider. See the package docs for the whole interface.

    Args:
        clock: Time source for pacing and retry waits (tests pass a scaled clock).
        environ: Environment mapping read by ``initialize`` (default ``os.environ``).
        catalog: Model catalog (default: the static catalog shipped with the package).
    """

    def __init__(self, *, clock: Clock | None = None, environ: Mapping[str, str] | None = None,
                 catalog: Catalog | None = None) -> None:
        self._clock: Clock = clock or MonotonicClock()
        self._environ = environ
        self._catalog = catalog
        self._settings: Settings | None = None
        self._runner: CallRunner | None = None
        self._model: str | None = None
        self._info: ModelInfo | None = None
        self._defaults: dict[str, Any] = {}
        self._session = ChatSession()
        self._last_usage = TokenUsage()
        self._usage = UsageTracker()

    # ---------------------------------------------------------------- lifecycle

    @property
    def name(self) -> str:
        """``"github_models"``."""
        return "github_models"

    def __repr__(self) -> str:
        endpoint = self._settings.endpoint if self._settings else None
        return f"GitHubModelsProvider(endpoint={endpoint!r}, model={self._model!r})"

    def initialize(self, config: ProviderConfig | None = None) -> None:
        """Resolve settings (config > environment > ``.env`` > defaults) and build the client.

        Raises:
            TokenNotFoundError: No token anywhere (lists each place checked).
            ConfigurationError: A malformed setting (endpoint, organization, timeout ...).
            InvalidRequestError: A default request option out of its documented range.
        """
        settings = resolve_settings(config, self._environ)
        extra = dict(config.extra) if config is not None else {}
        unknown = sorted(k for k in extra if k not in SETTING_KEYS and k not in OPTION_NAMES
                         and k != "max_completion_tokens")
        if unknown:
            logger.warning("ignoring unknown ProviderConfig.extra keys: %s", ", ".join(unknown))
        defaults = validate_options({k: v for k, v in extra.items()
                                     if k in OPTION_NAMES or k == "max_completion_tokens"})
        self.shutdown()
        from .transport import SyncTransport

        if settings.organization and not settings.org_path_applied:
            logger.warning(
                "organization %r is set but the endpoint %s has no /orgs/{org}/inference form; "
                "usage cannot be attributed to the organization on this endpoint",
                settings.organization, settings.endpoint)
        if settings.is_retired_host:
            logger.warning(
                "%s belongs to GitHub Models, which GitHub retired on 2026-07-30 (it answers "
                "410 Gone). Set JAATO_GITHUB_ENDPOINT or extra['endpoint'] to a working endpoint; "
                "see docs/migration.md.", settings.endpoint)
        pacer = Pacer(self._pacing_limits(settings), clock=self._clock, enabled=settings.pacing)
        policy = RetryPolicy(max_attempts=settings.max_retries + 1,
                             max_retry_after=settings.max_retry_wait)
        transport = SyncTransport(settings)
        self._settings = settings
        self._defaults = defaults
        self._runner = CallRunner(transport, pacer, policy, self._clock, self._error_context)
        self._usage = UsageTracker(settings.organization)
        self._session = ChatSession(attributed_to=settings.organization)

    @staticmethod
    def _pacing_limits(settings: Settings) -> dict[str, Any]:
        from .limits import FREE_TIER_LIMITS

        limits = dict(FREE_TIER_LIMITS)
        for tier, changes in settings.rate_limit_overrides.items():
            try:
                limits[tier] = limits_for_tier(tier).with_overrides(tier=tier, **changes)
            except TypeError as exc:
                raise ConfigurationError(
                    what=f"Checking extra['rate_limits'][{tier!r}]", why=str(exc),
                    fix="use the fields requests_per_minute, requests_per_day, "
                        "max_input_tokens, max_output_tokens, concurrent_requests") from exc
        return limits

    def shutdown(self) -> None:
        """Close the client and its connections (idempotent)."""
        if self._runner is not None:
            self._runner.transport.close()
            self._runner = None

    @property
    def settings(self) -> Settings:
        """The resolved settings (token masked in ``repr``).

        Raises:
            ConfigurationError: ``initialize`` was not called.
        """
        if self._settings is None:
            raise ConfigurationError(
                what="Using the provider", why="initialize() has not been called",
                fix="call provider.initialize(config) or load_provider('github_models', config)")
        return self._settings

    def _error_context(self, model: str | None = None) -> ErrorContext:
        s = self.settings
        return ErrorContext(
            endpoint=s.endpoint, model=model or self._model, organization=s.organization,
            enterprise=s.enterprise, token_type=s.token_type, token_source=s.token_source,
            is_github_host=s.is_github_host,
            endpoint_config_hint="JAATO_GITHUB_ENDPOINT or extra['endpoint']",
            operation="Chat completion")

    # ---------------------------------------------------------------- models

    @property
    def catalog(self) -> Catalog:
        """The model catalog in use."""
        if self._catalog is None:
            self._catalog = static_catalog()
        return self._catalog

    def connect(self, model: str) -> None:
        """Select the model for later calls.

        On GitHub-shaped endpoints an id the catalog does not know raises before any request;
        elsewhere (gateways, Foundry) any id is accepted, with one warning when it is unknown.

        Raises:
            ConfigurationError: ``initialize`` was not called or ``model`` is empty.
            ModelNotFoundError: Unknown id on a GitHub-shaped endpoint (with close matches).
        """
        settings = self.settings
        model = (model or "").strip()
        if not model:
            raise ConfigurationError(what="Selecting a model", why="the model id is empty",
                                     fix="pass an id such as 'openai/gpt-4o'")
        info = self.catalog.get(model)
        if info is None and settings.endpoint_kind in ("github", "legacy"):
            raise model_not_found(model, replace(self._error_context(model),
                                                 known_models=tuple(self.catalog.ids())))
        if info is None and model.lower() not in _warned_models:
            _warned_models.add(model.lower())
            logger.warning("model %r is not in the catalog; sending it as given (context limit "
                           "assumed %d tokens)", model, DEFAULT_CONTEXT_LIMIT)
        self._info = info
        self._model = info.id if info is not None else model

    @property
    def is_connected(self) -> bool:
        """Whether the provider is initialized and a model is selected."""
        return self._runner is not None and self._model is not None

    @property
    def model_name(self) -> str | None:
        """The selected model id (the catalog's spelling)."""
        return self._model

    @property
    def model_info(self) -> ModelInfo | None:
        """Catalog facts about the selected model (None for ids the catalog does not know)."""
        return self._info

    def fetch_catalog_entries(self) -> list[dict[str, Any]]:
        """``GET`` the endpoint's live model catalog (API-format entries), through the same
        client, headers and error mapping as inference requests (no retries, no pacing).

        Raises:
            ConfigurationError: Not initialized, or the endpoint has no catalog (not GitHub-shaped).
            GitHubModelsError: (a subclass) what the service answered (410 when retired ...).
        """
        settings = self.settings
        url = settings.catalog_url
        runner = self._runner
        if url is None or runner is None:
            raise ConfigurationError(
                what="Fetching the model catalog",
                why=f"the endpoint {settings.endpoint} is not GitHub-shaped (no /catalog/models)",
                fix="use the static catalog (the default) for this endpoint")
        from .errors import ServiceUnavailableError, error_from_connection, error_from_response
        from .transport import TransportFailure

        context = replace(self._error_context(), operation="Catalog request")
        try:
            result = runner.transport.get(url)
        except TransportFailure as failure:
            raise error_from_connection(failure.kind, failure.detail, context) from failure
        if result.status != 200:
            raise error_from_response(result.status, result.headers, result.body, context)
        try:
            data = result.json()
        except ValueError as exc:
            raise ServiceUnavailableError(
                what="Reading the model catalog", why="the body is not JSON",
                fix="check that the endpoint serves GET /catalog/models", status=200) from exc
        entries = data.get("data") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise ServiceUnavailableError(
                what="Reading the model catalog", why="the body is not a list of models",
                fix="check that the endpoint serves GET /catalog/models", status=200)
        return [e for e in entries if isinstance(e, dict)]

    def set_catalog(self, catalog: Catalog) -> None:
        """Use ``catalog`` (e.g. a live one) for lookups, limits and capabilities from now on."""
        self._catalog = catalog
        if self._model is not None:
            self._info = catalog.get(self._model) or self._info

    def list_models(self, prefix: str | None = None) -> list[str]:
        """Model ids from the catalog, optionally filtered by a case-insensitive prefix."""
        return self.catalog.ids(prefix)

    def _wire_model(self) -> str:
        assert self._model is not None
        if self.settings.endpoint_kind == "legacy":
            return self._model.split("/", 1)[-1]
        return self._model

    # ---------------------------------------------------------------- sessions

    def create_session(self, system_instruction: str | None = None,
                       tools: list[ToolSchema] | None = None,
                       history: list[Message] | None = None) -> None:
        """Start or reset the conversation.

        Raises:
            InvalidRequestError: Two tools share a name.
        """
        org = self._settings.organization if self._settings else None
        self._session = ChatSession(system_instruction, tools, history, attributed_to=org)

    def get_history(self) -> list[Message]:
        """A copy of the conversation so far."""
        with self._session.lock:
            return list(self._session.history)

    def set_options(self, **options: Any) -> None:
        """Set default generation options (temperature, top_p, max_tokens, stop, seed ...).

        Raises:
            InvalidRequestError: An unknown option or a value out of range.
        """
        self._defaults.update(validate_options(options))

    # ---------------------------------------------------------------- messaging

    def generate(self, prompt: str, **options: Any) -> ProviderResponse:
        """One-shot completion: no history, no tools, nothing recorded in the session.

        Raises:
            InvalidRequestError, ContextLimitError, GitHubModelsError: see ``send_message``.
        """
        message = self._user_text(prompt)
        return self._turn(ChatSession(), [message], None, options, record=False)

    def send_message(self, message: str, response_schema: dict[str, Any] | None = None,
                     **options: Any) -> ProviderResponse:
        """Send a user turn and return the model's reply (text and/or function calls).

        Raises:
            ConfigurationError: Not initialized or not connected.
            InvalidRequestError: Empty message, bad option, schema on a model without it.
            ContextLimitError: The prompt is larger than the model or tier allows.
            StructuredOutputError: ``response_schema`` was given and the reply is not JSON.
            GitHubModelsError: (subclasses) what the service answered, after retries.
        """
        return self._turn(self._session, [self._user_text(message)], response_schema, options)

    def send_message_with_parts(self, parts: list[Part],
                                response_schema: dict[str, Any] | None = None,
                                **options: Any) -> ProviderResponse:
        """Send a user turn of text and images (``Part.inline_data``).

        Raises:
            InvalidRequestError: No text or image part, or images on a text-only model.
            (and everything ``send_message`` raises)
        """
        return self._turn(self._session, [self._user_parts(parts)], response_schema, options)

    def send_tool_results(self, results: list[ToolResult],
                          response_schema: dict[str, Any] | None = None,
                          **options: Any) -> ProviderResponse:
        """Answer every function call of the last response (each becomes a tool message).

        Raises:
            InvalidRequestError: Results missing, unknown or repeated for the pending calls.
            (and everything ``send_message`` raises)
        """
        ordered = order_tool_results(self._session.pending_calls(), results)
        return self._turn(self._session, [tool_message(ordered)], response_schema, options)

    def send_message_streaming(
        self, message: str, on_chunk: Callable[[str], None],
        cancel_token: CancelToken | None = None,
        response_schema: dict[str, Any] | None = None,
        on_usage_update: Callable[[TokenUsage], None] | None = None,
        **options: Any,
    ) -> ProviderResponse:
        """Like ``send_message``, calling ``on_chunk(text)`` as text arrives.

        A cancelled token stops the stream promptly; the partial text comes back with
        ``FinishReason.CANCELLED``.

        Raises:
            the same as ``send_message``.
        """
        return self._turn(self._session, [self._user_text(message)], response_schema, options,
                          stream=(on_chunk, cancel_token, on_usage_update))

    def send_tool_results_streaming(
        self, results: list[ToolResult], on_chunk: Callable[[str], None],
        cancel_token: CancelToken | None = None,
        response_schema: dict[str, Any] | None = None,
        on_usage_update: Callable[[TokenUsage], None] | None = None,
        **options: Any,
    ) -> ProviderResponse:
        """Like ``send_tool_results``, streaming the reply.

        Raises:
            the same as ``send_tool_results``.
        """
        ordered = order_tool_results(self._session.pending_calls(), results)
        return self._turn(self._session, [tool_message(ordered)], response_schema, options,
                          stream=(on_chunk, cancel_token, on_usage_update))

    # ---------------------------------------------------------------- the turn

    @staticmethod
    def _user_text(text: str) -> Message:
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequestError(
                what="Checking the message", why="it is empty",
                fix="send a non-empty string", param="message")
        return Message(role=Role.USER, parts=[Part(text=text)])

    def _user_parts(self, parts: Sequence[Part]) -> Message:
        useful = [p for p in parts if (p.text and p.text.strip()) or p.inline_data is not None]
        if not useful:
            raise InvalidRequestError(
                what="Checking the message parts", why="there is no text or image part",
                fix="pass at least one Part with text or inline_data", param="parts")
        if any(p.inline_data is not None for p in useful):
            self._require_connected()
            if self._info is not None and not self._info.supports_images:
                raise InvalidRequestError(
                    what=f"Sending an image to {self._info.id}",
                    why="the model accepts no image input (catalog: "
                        f"{', '.join(self._info.input_modalities)})",
                    fix="choose a model with image input, e.g. openai/gpt-4o", param="parts")
        return Message(role=Role.USER, parts=list(useful))

    def _require_connected(self) -> CallRunner:
        runner = self._runner
        if runner is None or self._model is None:
            raise ConfigurationError(
                what="Sending a request",
                why="the provider is not initialized" if runner is None else "no model selected",
                fix="call initialize(config) and connect('openai/gpt-4o') first")
        return runner

    def _request_options(self, schema: dict[str, Any] | None, call: Mapping[str, Any]
                         ) -> dict[str, Any]:
        call_opts = validate_options(call)
        info = self._info
        if schema is not None:
            if not isinstance(schema, Mapping) or not schema:
                raise InvalidRequestError(
                    what="Checking response_schema", why="it is not a JSON-schema object",
                    fix="pass a dict such as {'type': 'object', 'properties': {...}}",
                    param="response_schema")
            if info is not None and not info.structured_output and self.settings.is_github_host:
                raise InvalidRequestError(
                    what=f"Asking {info.id} for structured output",
                    why="the catalog says this model does not support json_schema output",
                    fix="choose e.g. openai/gpt-4o or openai/gpt-4.1, or drop response_schema",
                    param="response_schema")
            call_opts["response_format"] = {"type": "json_schema", "json_schema": {
                "name": str(schema.get("title") or "response").replace(" ", "_")[:64],
                "schema": dict(schema)}}
        assert self._model is not None
        return adapt_for_model(
            self._defaults, call_opts, model=self._model,
            token_param=info.token_param if info else "max_tokens",
            supports_temperature=info.supports_temperature if info else True,
            max_output_tokens=info.max_output_tokens if info else None)

    def _preflight(self, wire_messages: list[dict[str, Any]], session: ChatSession) -> None:
        estimate = estimate_request_tokens(wire_messages, session.wire_tools)
        window = self._info.max_input_tokens if self._info else None
        if window and estimate > window:
            raise ContextLimitError(
                what=f"Checking the prompt size for {self._model}",
                why=f"the request is about {estimate} tokens; the model's context window is "
                    f"{window}",
                fix="shorten the prompt or start a new session (create_session)",
                limit=window, requested=estimate)
        if not self.settings.enforce_tier_limits or self._info is None:
            return
        cap = self._runner_limits(self._info.tier).max_input_tokens
        if cap and estimate > cap:
            raise ContextLimitError(
                what=f"Checking the prompt size for {self._model}",
                why=f"the request is about {estimate} tokens; the {self._info.tier} rate-limit "
                    f"tier accepts {cap} tokens in per request (model window {window})",
                fix="shorten the prompt or the history, use a paid/custom endpoint and set "
                    "extra['enforce_tier_limits']=False, or raise the tier's max_input_tokens in "
                    "extra['rate_limits']",
                limit=cap, requested=estimate)

    def _runner_limits(self, tier: str | None) -> Any:
        runner = self._require_connected()
        return runner.pacer.limits_for(tier) if hasattr(runner.pacer, "limits_for") else (
            limits_for_tier(tier))

    def _turn(
        self, session: ChatSession, new: list[Message], schema: dict[str, Any] | None,
        options: Mapping[str, Any], *, record: bool = True,
        stream: tuple[Callable[[str], None], CancelToken | None,
                      Callable[[TokenUsage], None] | None] | None = None,
    ) -> ProviderResponse:
        runner = self._require_connected()
        opts = self._request_options(schema, options)
        with session.lock:
            wire_messages = messages_to_wire(
                [*session.history, *new], session.system_instruction,
                supports_system=self._info.supports_system if self._info else True)
            self._preflight(wire_messages, session)
            body: dict[str, Any] = {"model": self._wire_model(), "messages": wire_messages}
            if session.wire_tools:
                body["tools"] = session.wire_tools
            body.update(opts)
            key, tier = self._model or "", self._info.tier if self._info else None
            if stream is None:
                data = runner.complete(body, key=key, tier=tier)
                try:
                    response = response_from_wire(data)
                except ValueError as exc:
                    raise StructuredOutputError(
                        what="Reading the model's tool calls", why=str(exc),
                        fix="retry the request; if it persists, report the model's behaviour",
                        raw_text=json.dumps(data)[:2000]) from exc
            else:
                response = self._stream_turn(runner, body, key, tier, *stream)
            if schema is not None and response.finish_reason is not FinishReason.CANCELLED:
                response.structured_output = self._parse_structured(response.text)
            self._record(session, new, response, record)
            return response

    def _stream_turn(self, runner: CallRunner, body: dict[str, Any], key: str,
                     tier: str | None, on_chunk: Callable[[str], None],
                     cancel_token: CancelToken | None,
                     on_usage: Callable[[TokenUsage], None] | None) -> ProviderResponse:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        acc = StreamAccumulator()

        def on_event(event: dict[str, Any]) -> str:
            text = acc.feed(event)
            if text:
                on_chunk(text)
            if event.get("usage") and on_usage is not None and acc.usage is not None:
                on_usage(acc.usage)
            return text

        try:
            runner.stream(body, on_event, key=key, tier=tier, cancel_token=cancel_token)
        except StreamCancelled:
            return ProviderResponse(text=acc.text or None, function_calls=[],
                                    usage=acc.usage or TokenUsage(),
                                    finish_reason=FinishReason.CANCELLED, raw=None)
        try:
            calls = acc.function_calls()
        except ValueError as exc:
            raise StructuredOutputError(
                what="Reading the model's streamed tool calls",
                why=f"the arguments are not valid JSON: {exc}",
                fix="retry the request; if it persists, report the model's behaviour",
                raw_text=acc.text) from exc
        return ProviderResponse(text=acc.text or None, function_calls=calls,
                                usage=acc.usage or TokenUsage(),
                                finish_reason=acc.finish_reason,
                                raw={"model": acc.model, "chunks": acc.chunks})

    @staticmethod
    def _parse_structured(text: str | None) -> Any:
        try:
            return json.loads(text or "")
        except json.JSONDecodeError as exc:
            raise StructuredOutputError(
                what="Parsing the model's reply against response_schema",
                why=f"the reply is not valid JSON ({exc.msg} at position {exc.pos})",
                fix="retry, simplify the schema, or choose a model with structured output "
                    "support (openai/gpt-4o, openai/gpt-4.1)",
                raw_text=text or "") from exc

    def _record(self, session: ChatSession, new: list[Message], response: ProviderResponse,
                record: bool) -> None:
        self._last_usage = response.usage
        model = self._model or ""
        pricing = self._info.pricing if self._info else None
        self._usage.add(model, response.usage, pricing)
        if not record:
            return
        session.usage.add(model, response.usage, pricing)
        parts: list[Part] = []
        if response.text:
            parts.append(Part(text=response.text))
        if response.finish_reason is not FinishReason.CANCELLED:
            parts.extend(Part(function_call=c) for c in response.function_calls)
        session.commit([*new, Message(role=Role.MODEL, parts=parts)] if parts else new)

    # ---------------------------------------------------------------- accounting

    def supports_stop(self) -> bool:
        """Cancellation mid-stream is supported."""
        return True

    def count_tokens(self, content: str) -> int:
        """Estimate the tokens of ``content`` (no tokenizer download; see ``tokens.py``)."""
        return estimate_tokens(content)

    def get_context_limit(self) -> int:
        """The selected model's context window (128000 for ids the catalog does not know)."""
        return self._info.max_input_tokens if self._info else DEFAULT_CONTEXT_LIMIT

    def get_token_usage(self) -> TokenUsage:
        """Usage of the last response."""
        return self._last_usage

    def get_session_usage(self) -> UsageTotals:
        """Running totals of the current session (tokens, requests, estimated cost)."""
        return self._session.usage.totals()

    def get_usage_summary(self) -> dict[str, Any]:
        """Provider-wide totals with the organization the usage was attributed to."""
        summary = self._usage.totals().to_dict()
        summary["attributed_to"] = self._usage.attributed_to or "the token's user"
        return summary

    def serialize_history(self, history: list[Message]) -> str:
        """History as JSON text (lossless, tool calls and results included)."""
        return history_to_json(history)

    def deserialize_history(self, data: str) -> list[Message]:
        """The inverse of ``serialize_history``. Raises ValueError on malformed data."""
        return history_from_json(data)

    def supports_structured_output(self) -> bool:
        """Whether the selected model accepts a JSON schema (unknown models: assumed yes)."""
        return self._info.structured_output if self._info else True

    def supports_streaming(self) -> bool:
        """Whether the selected model streams (unknown models: assumed yes)."""
        return self._info.supports_streaming if self._info else True
