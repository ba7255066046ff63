"""The provider's state: settings, the call runners, the selected model and the default session.

``ProviderCore`` initializes and shuts down (building the sync ``CallRunner`` and one async
runner per event loop), selects the model against the catalog, and hands a turn what it reads
(:meth:`ProviderCore.turn_state`). It sends nothing itself: a turn (prepare, send, record) is
``turn.py``; the read-only getters are ``accounting.py``; ``provider.py`` adds the jaato-facing
methods. Only what constructing a provider needs is imported here; the request path loads at
``initialize``/``connect``/the first call (cold start).
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Self

from ._host import Message, ProviderConfig, TokenUsage, ToolSchema
from .accounting import DEFAULT_CONTEXT_LIMIT, Accounting, AccountingState, input_cap

if TYPE_CHECKING:
    import asyncio

    from .calls import AsyncCallRunner, CallRunner
    from .catalog import Catalog, ModelInfo
    from .clock import Clock
    from .env import Settings
    from .errors import ErrorContext
    from .pricing import ModelPricing
    from .session import ChatSession
    from .usage import UsageTracker

__all__ = ["DEFAULT_CONTEXT_LIMIT", "ProviderCore", "TurnState"]

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


class TurnState:
    """What one turn reads from the provider, taken once when it starts (a plain class, not a
    dataclass: building a dataclass costs milliseconds at import, and this module loads with
    the provider)."""

    __slots__ = ("defaults", "info", "input_cap", "limits_key", "model", "settings", "wire_id")

    def __init__(self, settings: Settings, defaults: dict[str, Any], model: str, wire_id: str,
                 info: ModelInfo | None, limits_key: str | None,
                 input_cap: tuple[int | None, str]) -> None:
        self.settings = settings
        self.defaults = defaults
        self.model = model
        self.wire_id = wire_id
        self.info = info
        self.limits_key = limits_key
        self.input_cap = input_cap


class ProviderCore(Accounting):
    """Settings, call runners, the selected model and the default session.

    Args:
        clock: Time source for pacing and retry waits (tests pass a scaled clock).
        environ: Environment mapping read by ``initialize`` (default ``os.environ``).
        catalog: Model catalog (default: the static catalog shipped with the package).
    """

    def __init__(self, *, clock: Clock | None = None, environ: Mapping[str, str] | None = None,
                 catalog: Catalog | None = None) -> None:
        self._clock: Clock | None = clock  # MonotonicClock() at initialize unless given
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
        self._session_now: ChatSession | None = None  # built at first use (cold start)
        self._last_usage = TokenUsage()
        self._usage_now: UsageTracker | None = None

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
        from .env import SETTING_KEYS, resolve_settings
        from .masking import SecretMasker, scrub_causes
        from .options import OPTION_NAMES, validate_options
        from .service_facts import RETIREMENT_DATE
        from .session import ChatSession
        from .usage import UsageTracker

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
        from .clock import MonotonicClock
        from .pacing import Pacer, limits_with_overrides
        from .retry import RetryPolicy

        if self._clock is None:
            self._clock = MonotonicClock()

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
        self._runner = CallRunner(transport, pacer, policy, self._clock, self.error_context)
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

    async def async_runner(self) -> AsyncCallRunner:
        """The async runner of the running event loop (one aio client per loop, reused).

        Its client is closed when the loop shuts down (``asyncio.run`` closes async generators
        on exit, and a parked one holds the cleanup), so a loop that ends without
        ``ashutdown()`` leaves no unclosed session behind.
        """
        runner = self.require_connected()
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
            from .errors import ConfigurationError

            raise ConfigurationError(
                what="Using the provider", why="initialize() has not been called",
                fix="call provider.initialize(config) or load_provider('github_models', config)")
        return self._settings

    def error_context(self, model: str | None = None) -> ErrorContext:
        """What an error of this provider's requests says about where it happened (secrets
        masked)."""
        from .errors import ErrorContext

        s = self.settings
        return ErrorContext(
            endpoint=s.endpoint, model=model or self._wire_id or self._model,
            organization=s.organization,
            enterprise=s.enterprise, token_type=s.token_type, token_source=s.token_source,
            is_github_host=s.is_github_host,
            endpoint_config_hint="JAATO_GITHUB_ENDPOINT or extra['endpoint']",
            operation="Chat completion", secrets=self.secrets())

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
        from .errors import ConfigurationError, model_not_found

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
            raise model_not_found(model, replace(self.error_context(model),
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
            from .errors import ConfigurationError

            raise ConfigurationError(
                what="Fetching the model catalog",
                why=f"the endpoint {settings.endpoint} is not GitHub-shaped (no /catalog/models)",
                fix="use the static catalog (the default) for this endpoint")
        return runner.fetch_catalog(url, replace(self.error_context(),
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
        from .session import ChatSession

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
        from .options import validate_options

        self._defaults.update(validate_options(options))

    @property
    def _session(self) -> ChatSession:
        """The default session (the framework's ``create_session``), built at first use."""
        if self._session_now is None:
            from .session import ChatSession

            org = self._settings.organization if self._settings else None
            self._session_now = ChatSession(attributed_to=org)
        return self._session_now

    @_session.setter
    def _session(self, session: ChatSession) -> None:
        self._session_now = session

    @property
    def _usage(self) -> UsageTracker:
        """Provider-wide usage totals, built at first use."""
        if self._usage_now is None:
            from .usage import UsageTracker

            self._usage_now = UsageTracker()
        return self._usage_now

    @_usage.setter
    def _usage(self, usage: UsageTracker) -> None:
        self._usage_now = usage

    # ---------------------------------------------------------------- what a turn reads

    def check_image_input(self) -> None:
        """Refuse images for a model whose catalog entry has no image input.

        Raises:
            ConfigurationError: Not connected.
            InvalidRequestError: The model takes no image input.
        """
        self.require_connected()
        if self._info is not None and not self._info.supports_images:
            from .errors import InvalidRequestError

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
            from .errors import ConfigurationError

            raise ConfigurationError(
                what="Sending a request", why="the provider is not initialized",
                fix="call initialize(config) first")
        return self._runner

    def require_connected(self) -> CallRunner:
        """The sync call runner of an initialized provider with a model selected.

        Raises:
            ConfigurationError: Not initialized, or no model selected.
        """
        runner = self._runner
        if runner is None or self._model is None:
            from .errors import ConfigurationError

            raise ConfigurationError(
                what="Sending a request",
                why="the provider is not initialized" if runner is None else "no model selected",
                fix="call initialize(config) and connect('openai/gpt-4o') first")
        return runner

    def turn_state(self) -> TurnState:
        """What a turn reads: settings, option defaults, the model and its input cap.

        Raises:
            ConfigurationError: Not initialized, or no model selected.
        """
        runner = self.require_connected()
        model = self._model or ""
        key = self._limits_key()
        return TurnState(self.settings, self._defaults, model, self._wire_id, self._info, key,
                         input_cap(self._info, self._tier_row(runner, key)))

    def _limits_key(self) -> str | None:
        """The pacer/limits row of the selected model (its own row for custom models)."""
        if self._info is None:
            return None
        from .limits import limits_key

        return limits_key(self._model, self._info.tier)

    def _tier_row(self, runner: CallRunner | None, key: str | None) -> Any:
        """The tier's per-request caps where they are enforced (else None)."""
        if runner is None or self._info is None or not self.settings.enforce_tier_limits:
            return None
        return runner.pacer.limits_for(key)

    def _accounting(self) -> AccountingState:
        runner = self._runner if self._model is not None else None
        row = self._tier_row(runner, self._limits_key()) if runner is not None else None
        return AccountingState(info=self._info, runner=self._runner, tier_row=row,
                               last_usage=self._last_usage, session=self._session,
                               usage=self._usage, find_model=lambda m: self.catalog.get(m))

    def count_usage(self, model: str, usage: TokenUsage, pricing: ModelPricing | None) -> None:
        """Add one reply's usage to the provider-wide totals (and make it the last usage)."""
        self._last_usage = usage
        self._usage.add(model, usage, pricing)

    def refresh_sync_token(self) -> None:
        """Fetch (cached) the Entra token a sync request will carry, so its echo is masked."""
        cache = self._settings.token_cache if self._settings is not None else None
        if cache is not None and not cache.is_async:
            cache.token()

    @contextlib.contextmanager
    def scrubbed_errors(self) -> Iterator[None]:
        """Errors leaving this block carry no credential in their chained causes either."""
        try:
            yield
        except Exception as exc:
            from .masking import SecretMasker, scrub_causes

            scrub_causes(exc, SecretMasker(self.secrets()))
            raise

    def secrets(self) -> tuple[str, ...]:
        """The credentials an echo of which is masked: the key, and the Entra tokens issued."""
        return self._settings.secrets() if self._settings is not None else ()
