"""The provider's state and the parts of a turn shared by the sync and async APIs.

``ProviderCore`` holds settings, the selected model, the session and the call runners, and
does everything around a request except sending it: validation (before any request), request
building, the pre-flight size check, and turning a reply into a response and a history entry.
``provider.py`` adds the public messaging methods on top, sync and async.
"""

from __future__ import annotations

import contextlib
import json
import logging
import weakref
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Self

from ._host import (
    FinishReason,
    Message,
    Part,
    ProviderConfig,
    ProviderResponse,
    Reply,
    Role,
    TokenUsage,
    ToolSchema,
    make_usage,
)
from .accounting import DEFAULT_CONTEXT_LIMIT, Accounting
from .clock import Clock, MonotonicClock
from .converters import (
    assemble_messages,
    message_to_wire,
    response_from_wire,
)
from .env import SETTING_KEYS, Settings, resolve_settings
from .errors import (
    ConfigurationError,
    ErrorContext,
    InvalidRequestError,
    ServiceUnavailableError,
    StructuredOutputError,
    model_not_found,
)
from .fitting import oldest_to_keep, too_large
from .inputs import check_json_value, check_sendable
from .limits import limits_key
from .masking import SecretMasker, mask_response, scrub_causes
from .options import OPTION_NAMES, adapt_for_model, validate_options
from .service_facts import RETIREMENT_DATE
from .session import ChatSession
from .streaming import MaskedAccumulator, StreamAccumulator, StreamProtocolError
from .tokens import (
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    estimate_message_tokens,
    estimate_request_tokens,
    estimate_tokens,
)
from .usage import UsageTracker
from .wire_check import WireShapeError, loads_json

if TYPE_CHECKING:
    import asyncio

    from .calls import AsyncCallRunner, CallRunner
    from .catalog import Catalog, ModelInfo

__all__ = ["DEFAULT_CONTEXT_LIMIT", "PreparedTurn", "ProviderCore"]

logger = logging.getLogger("shared.plugins.model_provider.github_models")
_warned_models: set[str] = set()
# keys jaato-server itself puts into ProviderConfig.extra (not user settings)
_FRAMEWORK_KEYS = frozenset({"workspace_path", "config_root"})


def _key_from_extra(config: ProviderConfig | None) -> ProviderConfig | None:
    """``config`` with ``extra["api_key"]`` as its ``api_key`` when that is unset: jaato hands
    a profile's ``plugin_configs`` over as ``extra`` and promotes the key only on some paths
    (not for ``verify_auth``)."""
    extra = getattr(config, "extra", None)
    key = extra.get("api_key") if isinstance(extra, Mapping) else None
    if config is None or getattr(config, "api_key", None) or not isinstance(key, str):
        return config  # resolve_settings vets the rest
    import copy

    promoted = copy.copy(config)
    promoted.api_key = key
    promoted.extra = {k: v for k, v in config.extra.items() if k != "api_key"}
    return promoted


async def _close_at_loop_shutdown(arunner: AsyncCallRunner) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await arunner.atransport.close()


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """A validated request and what to record when it succeeds."""

    session: ChatSession
    new: list[Message]
    schema: dict[str, Any] | None
    body: dict[str, Any]
    key: str
    tier: str | None
    record: bool


class ProviderCore(Accounting):
    """State, validation, request building and recording shared by the sync and async APIs.

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
        self.live_catalog: Any = None
        self._settings: Settings | None = None
        self._runner: CallRunner | None = None
        self._arunners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncCallRunner] = (
            weakref.WeakKeyDictionary())
        self._model: str | None = None
        self._requested: str | None = None
        self._wire_id = ""
        self._info: ModelInfo | None = None
        self._defaults: dict[str, Any] = {}
        self._session = ChatSession()
        self._last_usage = TokenUsage()
        self._usage = UsageTracker()
        self._masker = SecretMasker()  # masks echoes of the token in replies
        self._masker_for: tuple[str, ...] | None = None

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
        config = _key_from_extra(config)
        try:
            settings = resolve_settings(config, self._environ)
        except Exception as exc:  # a token read into the wrong setting stays out of the causes
            import os

            env = os.environ if self._environ is None else self._environ
            key = getattr(config, "api_key", None)
            scrub_causes(exc, SecretMasker((key if isinstance(key, str) else None,
                                            env.get("GITHUB_TOKEN"))))
            raise
        extra = dict(config.extra or {}) if config is not None else {}  # resolve_settings vetted it
        nested = extra.pop("api_params", None)  # jaato profiles nest request defaults here
        if isinstance(nested, Mapping):
            both = sorted(k for k in nested if k in extra and extra[k] != nested[k])
            if both:
                logger.warning("api_params and a top-level key both set %s: api_params wins, as "
                               "in jaato profiles (the top-level form is the older one)",
                               ", ".join(both))
            extra = {**extra, **nested}
        unknown = sorted(k for k in extra if k not in SETTING_KEYS and k not in OPTION_NAMES
                         and k not in _FRAMEWORK_KEYS and k != "max_completion_tokens")
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
                "%s belongs to GitHub Models, which GitHub retired on " + RETIREMENT_DATE
                + " (it answers 410 Gone). Set JAATO_GITHUB_ENDPOINT or extra['endpoint'] to a "
                "working endpoint; see docs/migration.md.", settings.endpoint)
        from .calls import CallRunner  # the request machinery loads when it is first needed
        from .pacing import Pacer, limits_with_overrides
        from .retry import RetryPolicy

        # the pacer never waits longer than a retry may (max_retry_wait): a longer server
        # pause or window fails fast with the time it ends, as documented
        limits = limits_with_overrides(settings.rate_limit_overrides)
        pacer: Pacer
        if settings.rate_store and settings.pacing:  # one quota shared by many processes
            from .shared_pacing import shared_pacer_for

            pacer = shared_pacer_for(settings, limits, self._clock)
        else:
            if settings.rate_store:
                logger.warning("the rate store is not used: pacing is off")
            pacer = Pacer(limits, clock=self._clock, enabled=settings.pacing,
                          max_wait=settings.max_retry_wait)
        policy = RetryPolicy(max_attempts=settings.max_retries + 1,
                             max_retry_after=settings.max_retry_wait)
        transport = SyncTransport(settings)
        self._settings = settings
        self._defaults = defaults
        self._runner = CallRunner(transport, pacer, policy, self._clock, self._error_context)
        self._usage = UsageTracker(settings.organization)
        self._session = ChatSession(attributed_to=settings.organization)
        previous, self._model, self._info, self._wire_id = self._requested, None, None, ""
        self.live_catalog = None
        if settings.catalog_mode == "live":
            from .live_catalog import enable_live_catalog

            self.live_catalog = enable_live_catalog(self, ttl=settings.catalog_ttl,
                                                    background=True)
        if previous:  # re-initialized: re-check the model against the new endpoint
            self.connect(previous)

    def shutdown(self) -> None:
        """Close the clients and their connections (idempotent).

        Async clients belong to their event loop: in async code prefer ``await ashutdown()``;
        here they are closed when their loop is idle, else dropped.
        """
        for loop, arunner in list(self._arunners.items()):
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(arunner.atransport.close())
        self._arunners.clear()
        if self._runner is not None:
            self._runner.transport.close()
            self._runner.pacer.close()
            self._runner = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.ashutdown()

    async def ashutdown(self) -> None:
        """Close the async client of the running loop, then everything else (idempotent)."""
        import asyncio

        arunner = self._arunners.pop(asyncio.get_running_loop(), None)
        if arunner is not None:
            await arunner.atransport.close()
            if arunner.closer is not None:
                await arunner.closer.aclose()
        self.shutdown()

    async def _async_runner(self) -> AsyncCallRunner:
        """The async runner of the running event loop (one aio client per loop, reused).

        Its client is closed when the loop shuts down (``asyncio.run`` closes async generators
        on exit, and a parked one holds the cleanup), so a loop that ends without
        ``ashutdown()`` leaves no unclosed session behind.
        """
        runner = self._require_connected()
        import asyncio

        loop = asyncio.get_running_loop()
        arunner = self._arunners.get(loop)
        if arunner is None:
            from .calls import AsyncCallRunner
            from .transport import AsyncTransport

            arunner = AsyncCallRunner(runner, AsyncTransport(self.settings))
            self._arunners[loop] = arunner
            closer = _close_at_loop_shutdown(arunner)
            await closer.__anext__()  # parked at its yield: aclose() runs the cleanup
            arunner.closer = closer
        return arunner

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
            endpoint=s.endpoint, model=model or self._wire_id or self._model,
            organization=s.organization,
            enterprise=s.enterprise, token_type=s.token_type, token_source=s.token_source,
            is_github_host=s.is_github_host,
            endpoint_config_hint="JAATO_GITHUB_ENDPOINT or extra['endpoint']",
            operation="Chat completion", secrets=self._secrets())

    # ---------------------------------------------------------------- models

    @property
    def catalog(self) -> Catalog:
        """The model catalog in use."""
        if self._catalog is None:
            from .catalog import static_catalog

            self._catalog = static_catalog()
        return self._catalog

    def connect(self, model: str, *, skip_model_test: bool = False) -> None:
        """Select the model for later calls (no request is sent either way, so
        ``skip_model_test`` changes nothing: the catalog answers for the model).

        On GitHub-shaped endpoints an id the catalog does not know raises before any request;
        elsewhere (gateways, Foundry) any id is accepted, with one warning when it is unknown.

        Raises:
            ConfigurationError: ``initialize`` was not called or ``model`` is empty.
            ModelNotFoundError: Unknown id on a GitHub-shaped endpoint (with close matches).
        """
        del skip_model_test
        settings = self.settings
        if model is not None and not isinstance(model, str):
            raise ConfigurationError(what="Selecting a model",
                                     why=f"the model id is {type(model).__name__}, not a string",
                                     fix="pass an id such as 'openai/gpt-4o'", setting="model")
        model = (model or "").strip()
        if not model:
            raise ConfigurationError(what="Selecting a model", why="the model id is empty",
                                     fix="pass an id such as 'openai/gpt-4o'")
        if len(model) > 256 or not model.isprintable():
            raise ConfigurationError(
                what="Selecting a model", why=f"the model id {model[:60]!r} is longer than 256 "
                "characters or holds a line break or control character",
                fix="pass an id such as 'openai/gpt-4o' (or your deployment's name)",
                setting="model")
        info = self.catalog.get(model)
        if info is None and self.live_catalog is not None:
            # the background fetch may not have landed yet: ask the live catalog now
            self.live_catalog.current()
            info = self.catalog.get(model)
        if info is None and settings.endpoint_kind in ("github", "legacy"):
            raise model_not_found(model, replace(self._error_context(model),
                                                 known_models=tuple(self.catalog.ids())))
        if info is None and model.lower() not in _warned_models:
            _warned_models.add(model.lower())
            logger.warning("model %r is not in the catalog; sending it as given (context limit "
                           "assumed %d tokens)", model, DEFAULT_CONTEXT_LIMIT)
        self._info = info
        self._requested = model
        self._model = info.id if info is not None else model
        kind = settings.endpoint_kind
        # GitHub hosts get the catalog's spelling, the legacy host bare names; everything else
        # (Foundry deployments, gateways) gets the id exactly as the caller wrote it.
        self._wire_id = (self._model if kind == "github"
                         else self._model.split("/", 1)[-1] if kind == "legacy" else model)

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
        return runner.fetch_catalog(url, replace(self._error_context(),
                                                 operation="Catalog request"))

    def set_catalog(self, catalog: Catalog) -> None:
        """Use ``catalog`` (e.g. a live one) for lookups, limits and capabilities from now on."""
        self._catalog = catalog
        if self._model is not None:
            self._info = catalog.get(self._model) or self._info

    def list_models(self, prefix: str | None = None) -> list[str]:
        """Model ids from the catalog, optionally filtered by a case-insensitive prefix."""
        return self.catalog.ids(prefix)

    def _wire_model(self) -> str:
        return self._wire_id

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

    # ---------------------------------------------------------------- the turn

    def check_image_input(self) -> None:
        """Refuse images for a model whose catalog entry has no image input.

        Raises:
            ConfigurationError: Not connected.
            InvalidRequestError: The model takes no image input.
        """
        self._require_connected()
        if self._info is not None and not self._info.supports_images:
            raise InvalidRequestError(
                what=f"Sending an image to {self._info.id}",
                why="the model accepts no image input (catalog: "
                    f"{', '.join(self._info.input_modalities)})",
                fix="choose a model with image input, e.g. openai/gpt-4o", param="parts")

    def _require_runner(self) -> CallRunner:
        """The sync call runner.

        Raises:
            ConfigurationError: ``initialize`` was not called.
        """
        if self._runner is None:
            raise ConfigurationError(
                what="Sending a request", why="the provider is not initialized",
                fix="call initialize(config) first")
        return self._runner

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
            check_json_value(schema, "response_schema", "response_schema")
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

    def _limits_key(self) -> str | None:
        """The pacer/limits row of the selected model (its own row for custom models)."""
        return limits_key(self._model, self._info.tier) if self._info else None

    def _input_cap(self) -> tuple[int | None, str]:
        """The tightest input cap for the model and where it comes from."""
        window = self._info.max_input_tokens if self._info else None
        cap = (self._runner_limits(self._limits_key()).max_input_tokens
               if self.settings.enforce_tier_limits and self._info is not None else None)
        if cap and (window is None or cap < window):
            return cap, "tier"
        return window, "model"

    def _tier_output_cap(self) -> int | None:
        """The free tier's reply cap for the model, where tier limits are enforced."""
        if self._runner is None or self._info is None or not self.settings.enforce_tier_limits:
            return None
        cap: int | None = self._runner_limits(self._limits_key()).max_output_tokens
        return cap

    def _fit(self, session: ChatSession, history: list[Message], new: list[Message]
             ) -> list[dict[str, Any]]:
        """Wire messages that fit the input cap, trimming the oldest exchanges when allowed.

        An exchange starts at a user text message, so a tool call is never sent without its
        results. What is sent shrinks; the stored history keeps everything.

        Raises:
            ContextLimitError: Too large (even after trimming, when trimming is on).
        """
        supports_system = self._info.supports_system if self._info else True
        limit, source = self._input_cap()
        converted = [session.converted(m) for m in history]
        fresh = [(wire, estimate_message_tokens(wire)) for wire in map(message_to_wire, new)]
        system = session.system_instruction
        fixed = (REPLY_PRIMING + session.tools_tokens + sum(t for _, t in fresh)
                 + (estimate_tokens(system) + MESSAGE_OVERHEAD if system else 0))
        start, estimate = oldest_to_keep(history, [t for _, t in converted], fixed, limit,
                                         trim=self.settings.trim_history)
        if limit and estimate > limit:
            raise too_large(
                estimate, limit, source, start, model=self._model or "",
                tier=self._limits_key(),
                window=self._info.max_input_tokens if self._info else None)
        if start:
            logger.info("dropped the %d oldest messages to fit %d tokens", start, limit)
        return assemble_messages([w for w, _ in converted[start:]] + [w for w, _ in fresh],
                                 session.system_instruction, supports_system=supports_system)

    def _runner_limits(self, tier: str | None) -> Any:
        return self._require_connected().pacer.limits_for(tier)

    def _prepare(self, session: ChatSession, new: list[Message],
                 schema: dict[str, Any] | None, options: Mapping[str, Any], *,
                 stream: bool, record: bool = True) -> PreparedTurn:
        """Validate and build one request; nothing is sent and nothing is recorded.

        Raises:
            ConfigurationError, InvalidRequestError, ContextLimitError: before any request.
        """
        self._require_connected()
        opts = self._request_options(schema, options)
        with session.lock:
            history = list(session.history)
        try:
            wire_messages = self._fit(session, history, new)
        except (TypeError, ValueError, RecursionError) as exc:  # a history edited in place
            raise InvalidRequestError(
                what="Converting the conversation history", why=f"it holds a value that cannot "
                f"be sent ({type(exc).__name__}: {exc})", fix="start a new session, or restore "
                "the history from serialize_history output", param="history") from exc
        body: dict[str, Any] = {"model": self._wire_model(), "messages": wire_messages}
        if session.wire_tools:
            body["tools"] = session.wire_tools
        body.update(opts)
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        check_sendable(body)  # the last net: nothing that cannot be encoded is ever sent
        return PreparedTurn(session, new, schema, body, self._model or "",
                            self._limits_key(), record)

    def _finish_complete(self, turn: PreparedTurn, data: Mapping[str, Any]) -> ProviderResponse:
        """Turn a completion body into the response and record the turn.

        Raises:
            StructuredOutputError: Tool-call arguments or a schema reply that are not JSON.
        """
        try:
            response = response_from_wire(data)
        except WireShapeError as exc:
            raise ServiceUnavailableError(
                what="Reading the chat completion response",
                why=f"the endpoint answered 200 with JSON of the wrong shape: {exc}",
                fix="check that the endpoint speaks the chat-completions protocol (a gateway "
                    "or proxy may be rewriting the body)",
                status=200, body=json.dumps(data, default=str)[:2000],
                context=self._error_context()) from exc
        except ValueError as exc:
            raise StructuredOutputError(
                what="Reading the model's tool calls", why=str(exc),
                fix="retry the request; if it persists, report the model's behaviour",
                raw_text=json.dumps(data)[:2000], context=self._error_context()) from exc
        return self._finish(turn, response)

    def _stream_sink(self, on_chunk: Callable[[str], None],
                     on_usage: Callable[[TokenUsage], None] | None
                     ) -> tuple[StreamAccumulator, Callable[[dict[str, Any]], str]]:
        # an echo of the token, even split over chunks, never reaches on_chunk whole
        cache = self._settings.token_cache if self._settings is not None else None
        if cache is not None and not cache.is_async:
            cache.token()  # the Entra token the request will carry (cached), so it is masked too
        acc = MaskedAccumulator(SecretMasker(self._secrets()), on_chunk)

        def on_event(event: dict[str, Any]) -> str:
            try:
                text = acc.feed(event)
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                raise StreamProtocolError(
                    f"the stream sent a chunk of an unexpected shape ({exc})") from exc
            shown = acc.masker.feed(text) if text else ""
            if shown:
                on_chunk(shown)
            if event.get("usage") and on_usage is not None and acc.usage is not None:
                on_usage(acc.usage)
            return shown

        return acc, on_event

    @contextlib.contextmanager
    def scrubbed_errors(self) -> Iterator[None]:
        """Errors leaving this block carry no credential in their chained causes either."""
        try:
            yield
        except Exception as exc:
            scrub_causes(exc, SecretMasker(self._secrets()))
            raise

    def _secrets(self) -> tuple[str, ...]:
        """The credentials an echo of which is masked: the key, and the Entra tokens issued."""
        return self._settings.secrets() if self._settings is not None else ()

    def _mask_response(self, reply: Reply) -> Reply:
        """The reply with any echo of a credential masked (text, calls, raw)."""
        secrets = self._secrets()
        if self._masker_for != secrets:  # one masker per set of credentials (scrub is stateless)
            self._masker, self._masker_for = SecretMasker(secrets), secrets
        masked: Reply = mask_response(reply, self._masker)
        return masked

    def _finish_stream(self, turn: PreparedTurn, acc: StreamAccumulator, *,
                       cancelled: bool = False) -> ProviderResponse:
        """Turn accumulated stream chunks into the response and record the turn.

        Raises:
            StructuredOutputError: Tool-call arguments or a schema reply that are not JSON.
        """
        if isinstance(acc, MaskedAccumulator) and not cancelled:
            acc.release()  # the held-back end of the text was not a secret after all
        if cancelled:
            # text arrived, so the request was answered and billed: the stream's usage if it
            # came, else an estimate (marked); before any text nothing is recorded (see _finish)
            usage, raw = acc.usage or TokenUsage(), None
            if acc.usage is None and acc.text:
                sent = estimate_request_tokens(turn.body.get("messages") or (),
                                               turn.body.get("tools"))
                out = estimate_tokens(acc.text)
                usage = make_usage(sent, out, sent + out, reported=False)
                raw = {"usage_estimated": True}
            return self._finish(turn, Reply(text=acc.text or None, function_calls=[],
                                            usage=usage, finish_reason=FinishReason.CANCELLED,
                                            raw=raw))
        try:
            calls = acc.function_calls()
        except ValueError as exc:
            raise StructuredOutputError(
                what="Reading the model's streamed tool calls",
                why=f"the arguments are not valid JSON: {exc}",
                fix="retry the request; if it persists, report the model's behaviour",
                raw_text=acc.text, context=self._error_context()) from exc
        return self._finish(turn, Reply(
            text=acc.text or None, function_calls=calls, usage=acc.usage or TokenUsage(),
            finish_reason=acc.finish_reason, raw={"model": acc.model, "chunks": acc.chunks}))

    def _finish(self, turn: PreparedTurn, reply: Reply) -> ProviderResponse:
        reply = self._mask_response(reply)
        if reply.cancelled and not reply.text:
            return reply.to_host()  # cancelled before any text: nothing happened, nothing recorded
        if turn.schema is not None and not reply.cancelled:
            try:
                reply.structured_output = self._parse_structured(reply.text)
            except StructuredOutputError:
                self._count_usage(turn.session, reply, turn.record)  # billed all the same
                raise
        self._record(turn.session, turn.new, reply, turn.record)
        return reply.to_host()

    def _parse_structured(self, text: str | None) -> Any:
        try:
            return loads_json(text or "")
        except ValueError as exc:
            detail = (f"{exc.msg} at position {exc.pos}" if isinstance(exc, json.JSONDecodeError)
                      else str(exc))
            raise StructuredOutputError(
                what="Parsing the model's reply against response_schema",
                why=f"the reply is not valid JSON ({detail})",
                fix="retry, simplify the schema, or choose a model with structured output "
                    "support (openai/gpt-4o, openai/gpt-4.1)",
                raw_text=text or "", context=self._error_context()) from exc

    def _count_usage(self, session: ChatSession, response: Reply, record: bool) -> None:
        self._last_usage = response.usage
        model = self._model or ""
        pricing = self._info.pricing if self._info else None
        self._usage.add(model, response.usage, pricing)
        if record:
            session.usage.add(model, response.usage, pricing)

    def _record(self, session: ChatSession, new: list[Message], response: Reply,
                record: bool) -> None:
        self._count_usage(session, response, record)
        if not record:
            return
        parts: list[Part] = []
        if response.text:
            parts.append(Part(text=response.text))
        if not response.cancelled:
            parts.extend(Part(function_call=c) for c in response.function_calls)
        session.commit([*new, Message(role=Role.MODEL, parts=parts)] if parts else new)
