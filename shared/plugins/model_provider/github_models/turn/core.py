"""The provider's state: settings, the call runners, the selected model and the default session.

``ProviderCore`` initializes and shuts down (building the sync ``CallRunner`` and one async
runner per event loop), selects the model against the catalog, and hands a turn what it reads
(:meth:`ProviderCore.turn_state`). It sends nothing itself: a turn (prepare, send, record) is
``turn.py``; the read-only getters are ``accounting.py``; ``provider.py`` adds the jaato-facing
methods. Only what constructing a provider needs is imported here; the request path loads at
``initialize``/``connect``/the first call (cold start).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Self

from .._host import Message, ProviderConfig, TokenUsage, ToolSchema
from .accounting import DEFAULT_CONTEXT_LIMIT, Accounting, AccountingState, input_cap

if TYPE_CHECKING:
    from ..calls.calls import CallRunner
    from ..calls.calls_async import AsyncCallRunner
    from ..common.clock import Clock
    from ..common.masking import ScrubbedErrors
    from ..config.settings import Settings
    from ..errors import ErrorContext
    from ..models.catalog import Catalog, ModelInfo
    from ..models.pricing import ModelPricing
    from ..pacing.pacing import Pacer
    from ..wire.session import ChatSession
    from ..wire.usage import UsageTracker
    from .async_runners import AsyncRunners
    from .turn_request import TurnState

__all__ = ["DEFAULT_CONTEXT_LIMIT", "ProviderCore"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not

# The name jaato knows this provider by, which it records in a session's history: the folder's
# own name when the folder is copied into jaato's tree (``github_models`` over jaato's own,
# ``github_models_ext`` beside it: jaato's directory scan registers a provider under its
# ``name``), else ``github_models``. The ``github_models_ext`` entry point sets its own.
_FOLDER = __name__.rsplit(".", 2)[0].rpartition(".")[2]  # <folder>.turn.core
DEFAULT_NAME = _FOLDER if _FOLDER.startswith("github_models") else "github_models"


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
        self._arunners: AsyncRunners | None = None  # one per event loop, at the first async call
        self._model: str | None = None
        self._requested: str | None = None
        self._wire_id = ""
        self._info: ModelInfo | None = None
        self._defaults: dict[str, Any] = {}  # replaced, never changed in place (turn_state)
        self._turn_state: tuple[tuple[Any, ...], TurnState] | None = None
        self._session_now: ChatSession | None = None  # built at first use (cold start)
        self._last_usage = TokenUsage()
        self.registered_name = DEFAULT_NAME
        self._usage_now: UsageTracker | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def name(self) -> str:
        """The name jaato loaded the provider by: ``"github_models"``, or
        ``"github_models_ext"`` (its entry point, or the folder copied beside jaato's own)."""
        return self.registered_name

    def __repr__(self) -> str:
        from ..common.url_secrets import strip_url_secrets

        endpoint = strip_url_secrets(self._settings.endpoint) if self._settings else None
        return f"GitHubModelsProvider(endpoint={endpoint!r}, model={self._model!r})"

    def initialize(self, config: ProviderConfig | None = None) -> None:
        """Resolve settings (config > environment > ``.env`` > defaults) and build the client.

        Raises:
            TokenNotFoundError: No token anywhere (lists each place checked).
            ConfigurationError: A malformed setting (endpoint, organization, timeout ...).
            InvalidRequestError: A default request option out of its documented range.
        """
        from ..common.clock import MonotonicClock
        from ..wire.session import ChatSession
        from ..wire.usage import UsageTracker
        from . import wiring  # the request machinery loads when it is first needed

        config = wiring.key_from_extra(config)
        settings = wiring.resolve(config, self._environ)
        defaults = wiring.request_defaults(config, settings)
        self.shutdown()
        wiring.warn_about_endpoint(settings)
        if self._clock is None:
            self._clock = MonotonicClock()
        self._settings = settings
        self._defaults = defaults
        self._runner = wiring.build_runner(settings, self._clock, self.error_context)
        self._usage = UsageTracker(settings.organization)
        self._session = ChatSession(attributed_to=settings.organization)
        previous, self._model, self._info, self._wire_id = self._requested, None, None, ""
        self.live_catalog = None
        if settings.catalog_mode == "live":
            from ..models.live_catalog import enable_live_catalog

            self.live_catalog = enable_live_catalog(self, ttl=settings.catalog_ttl,
                                                    background=True)
        if previous:  # re-initialized: re-check the model against the new endpoint
            self.connect(previous)

    def shutdown(self) -> None:
        """Close the clients and their connections (idempotent).

        Async clients belong to their event loop: in async code prefer ``await ashutdown()``;
        here they are closed when their loop is idle, else dropped.
        """
        if self._arunners is not None:
            self._arunners.close_idle()
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
        if self._arunners is not None:
            await self._arunners.close_running_loop()
        self.shutdown()

    async def async_runner(self, *, connected: bool = True) -> AsyncCallRunner:
        """The async runner of the running event loop (one aio client per loop, reused);
        ``connected=False`` needs ``initialize`` only (embeddings name their model).

        Its client is closed when the loop shuts down (``asyncio.run`` closes async generators
        on exit, and a parked one holds the cleanup), so a loop that ends without
        ``ashutdown()`` leaves no unclosed session behind.
        """
        runner = self.require_connected() if connected else self._require_runner()
        if self._arunners is None:
            from .async_runners import AsyncRunners

            self._arunners = AsyncRunners()
        return await self._arunners.for_running_loop(runner, self.settings)

    @property
    def settings(self) -> Settings:
        """The resolved settings (token masked in ``repr``).

        Raises:
            ConfigurationError: ``initialize`` was not called.
        """
        if self._settings is None:
            raise _not_ready("initialize() has not been called", "call provider.initialize("
                             "config) or load_provider('github_models', config)",
                             "Using the provider")
        return self._settings

    def error_context(self, model: str | None = None) -> ErrorContext:
        """What an error of this provider's requests says about where it happened (secrets
        masked)."""
        from ..errors import ErrorContext

        s = self.settings
        return ErrorContext(
            endpoint=s.endpoint, model=model or self._wire_id or self._model,
            organization=s.organization,
            enterprise=s.enterprise, token_type=s.token_type, token_source=s.token_source,
            profile=s.profile,
            endpoint_config_hint="JAATO_GITHUB_ENDPOINT or extra['endpoint']",
            operation="Chat completion", secrets=self.secrets())

    # ---------------------------------------------------------------- models

    @property
    def catalog(self) -> Catalog:
        """The model catalog in use."""
        if self._catalog is None:
            from ..models.catalog import static_catalog

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
        from ..config.model_choice import choose_model

        settings = self.settings
        info, model, self._wire_id = choose_model(settings, lambda: self.catalog,
                                                  self.live_catalog, model, self.error_context)
        self._info = info
        self._requested = model
        self._model = info.id if info is not None else model

    @property
    def pacer(self) -> Pacer | None:
        """The pacer of this provider's requests (a ``SharedPacer`` with a rate store), or None
        before ``initialize``."""
        return self._runner.pacer if self._runner is not None else None

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
        from ..calls.endpoint_checks import fetch_catalog

        settings, runner = self.settings, self._runner
        return fetch_catalog(runner.transport if runner is not None else None, settings,
                             replace(self.error_context(), operation="Catalog request"))

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
        self._session = self._chat_session(system_instruction, tools, history)

    def _chat_session(self, system_instruction: str | None = None,
                      tools: list[ToolSchema] | None = None,
                      history: list[Message] | None = None) -> ChatSession:
        """A new session, its usage attributed to the organization. Raises InvalidRequestError."""
        from ..wire.session import ChatSession

        org = self._settings.organization if self._settings else None
        return ChatSession(system_instruction, tools, history, attributed_to=org)

    def get_history(self) -> list[Message]:
        """A copy of the conversation so far."""
        with self._session.lock:
            return list(self._session.history)

    def set_options(self, **options: Any) -> None:
        """Set default generation options (temperature, top_p, max_tokens, stop, seed ...).

        Raises:
            InvalidRequestError: An unknown option or a value out of range.
        """
        from ..config.options import validate_options

        self._defaults = {**self._defaults, **validate_options(options, self.settings.profile)}

    @property
    def _session(self) -> ChatSession:
        """The default session (the framework's ``create_session``), built at first use."""
        if self._session_now is None:
            from ..wire.session import ChatSession

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
            from ..wire.usage import UsageTracker

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
        from .turn_request import refuse_images

        self.require_connected()
        refuse_images(self._info)

    def _require_runner(self) -> CallRunner:
        """The sync call runner.

        Raises:
            ConfigurationError: ``initialize`` was not called.
        """
        if self._runner is None:
            raise _not_ready("the provider is not initialized", "call initialize(config) first")
        return self._runner

    def require_connected(self) -> CallRunner:
        """The sync call runner of an initialized provider with a model selected.

        Raises:
            ConfigurationError: Not initialized, or no model selected.
        """
        runner = self._runner
        if runner is None or self._model is None:
            raise _not_ready("the provider is not initialized" if runner is None else
                             "no model selected",
                             "call initialize(config) and connect('openai/gpt-4o') first")
        return runner

    def turn_state(self) -> TurnState:
        """What a turn reads: settings, option defaults, the model and its input cap.

        Raises:
            ConfigurationError: Not initialized, or no model selected.
        """
        runner = self.require_connected()
        effort = getattr(self, "thinking_effort", None)  # jaato's ThinkingConfig
        inputs = (runner, self._model, self._info, self._wire_id, self._settings,
                  self._defaults, effort)
        if self._turn_state is not None and self._turn_state[0] == inputs:
            return self._turn_state[1]  # nothing it reads changed (the pacer's rows are fixed)
        from .budget import reply_cap
        from .turn_request import TurnState

        key = self.limits_key()
        row = self._tier_row(runner, key)
        defaults = self._defaults
        if (effort and "reasoning_effort" not in defaults and self._info is not None
                and self._info.reasoning_effort):
            defaults = {**defaults, "reasoning_effort": effort}
        state = TurnState(self.settings, defaults, self._model or "", self._wire_id, self._info,
                          key, input_cap(self._info, row), reply_cap(self._info, row, None))
        self._turn_state = (inputs, state)
        return state

    def limits_key(self) -> str | None:
        """The pacer/limits row of the selected model (its own row for custom models)."""
        if self._info is None:
            return None
        from ..common.limits import limits_key

        return limits_key(self._model, self._info.tier)

    def _tier_row(self, runner: CallRunner | None, key: str | None) -> Any:
        """The tier's per-request caps where they are enforced (else None)."""
        if runner is None or self._info is None or not self.settings.enforce_tier_limits:
            return None
        return runner.pacer.limits_for(key)

    def _accounting(self) -> AccountingState:
        runner = self._runner if self._model is not None else None
        row = self._tier_row(runner, self.limits_key()) if runner is not None else None
        return AccountingState(info=self._info, runner=self._runner, tier_row=row,
                               last_usage=self._last_usage, session=self._session,
                               usage=self._usage, find_model=lambda m: self.catalog.get(m),
                               chosen_cap=self._defaults.get("max_tokens"))

    def count_usage(self, model: str, usage: TokenUsage, pricing: ModelPricing | None,
                    units: float | None = None) -> None:
        """Add one reply's usage (and token units) to the totals; make it the last usage."""
        self._last_usage = usage
        self._usage.add(model, usage, pricing, units)

    def scrubbed_errors(self) -> ScrubbedErrors:
        """Errors leaving this block carry no credential in their chained causes either."""
        from ..common.masking import ScrubbedErrors

        return ScrubbedErrors(self.secrets)

    def secrets(self) -> tuple[str, ...]:
        """The credentials an echo of which is masked: the key, and the Entra tokens issued."""
        return self._settings.secrets() if self._settings is not None else ()


def _not_ready(why: str, fix: str, what: str = "Sending a request") -> Exception:
    """The ``ConfigurationError`` of a call made before ``initialize``/``connect``."""
    from ..errors import ConfigurationError
    return ConfigurationError(what=what, why=why, fix=fix)

