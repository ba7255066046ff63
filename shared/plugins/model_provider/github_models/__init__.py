"""The GitHub Models provider (and every endpoint that speaks its protocol).

``create_provider`` is the entry-point target. Importing this package imports no azure module:
the SDK loads when a client is first built.

The same folder runs in this project's checkout (``shared.plugins.model_provider.github_models``),
pip-installed as ``jaato_github_models``, and copied into a jaato-server tree; ``_host`` finds the
framework types of whichever it is.

``PROVIDER_CAPABILITIES``, ``PROVIDER_KNOBS``, ``PROVIDER_AUTH_RESOLUTION`` and
``PROVIDER_QUIRKS`` are jaato-server's module-level contracts, written as plain constructor calls
because jaato's scaffold tool reads them by evaluating this file's assignments. They use jaato's
classes when the folder sits in jaato's tree, else ``_contracts``'s. A test
(tests/test_stateless_complete.py) keeps them true: every setting the provider reads is declared.
"""

from __future__ import annotations

import sys as _sys

if _sys.argv and _sys.argv[0].replace("\\", "/").rpartition("/")[2].removesuffix(".exe") == (
        "jaato-github-models"):  # the console script: a Ctrl-C while this package loads is quiet
    import _signal  # type: ignore[import-not-found]  # built in: no load time to interrupt

    def _quiet_interrupt(signum: int, frame: object) -> None:
        if _sys.stderr is not None:
            try:  # noqa: SIM105 - contextlib is not loaded yet
                _sys.stderr.write("interrupted\n")
            except (OSError, ValueError):
                pass
        raise SystemExit(130)

    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        try:  # noqa: SIM105 - contextlib is not loaded yet
            _signal.signal(_signal.SIGINT, _quiet_interrupt)  # _entry.main restores the default
        except ValueError:  # imported off the main thread: signals are not ours to set
            pass

from typing import TYPE_CHECKING, Any

from ._public import LazyNames

if TYPE_CHECKING:
    from ._contracts import AuthSource, KnobLayer, KnobSpec, ProviderCapabilities, ProviderKnobs
    from ._host import ProviderConfig
    from .calls.embeddings import EmbeddingResult, EmbeddingUsage
    from .common.clock import ManualClock
    from .config.env import resolve_settings
    from .config.settings import Settings
    from .models.catalog import Catalog, ModelInfo, UnknownModelError, static_catalog
    from .models.live_catalog import LiveCatalog, enable_live_catalog
    from .models.pricing import UsageCost
    from .pacing.rate_store import RateStoreError
    from .provider import GitHubModelsProvider
else:
    try:  # jaato-server's own classes, when this folder sits in its model_provider/ tree
        from ..base import AuthSource, KnobLayer, KnobSpec, ProviderCapabilities, ProviderKnobs
    except ImportError:  # this project's framework, or the package installed on its own
        from ._contracts import (
            AuthSource,
            KnobLayer,
            KnobSpec,
            ProviderCapabilities,
            ProviderKnobs,
        )

__all__ = ["PROVIDER_AUTH_RESOLUTION", "PROVIDER_CAPABILITIES", "PROVIDER_KNOBS",
           "PROVIDER_QUIRKS", "Catalog", "EmbeddingResult", "EmbeddingUsage",
           "GitHubModelsProvider", "LiveCatalog", "ManualClock",
           "ModelInfo", "RateStoreError", "Settings", "UnknownModelError", "UsageCost",
           "__version__", "create_ext_provider", "create_provider", "enable_live_catalog",
           "resolve_settings", "static_catalog"]

from .common.version import __version__  # the one version string (a leaf: transport reads it too)

# The stable home of the documented names (docs/public-api.md): imported on first use, so
# `load_provider` loads none of them. A documented name that moves inside the package is
# listed in `moved=` for one minor version (it then warns with its new place).
_NAMES = LazyNames(__name__, lazy={
    "GitHubModelsProvider": ".provider:GitHubModelsProvider",
    "Catalog": ".models.catalog:Catalog",
    "ModelInfo": ".models.catalog:ModelInfo",
    "UnknownModelError": ".models.catalog:UnknownModelError",
    "static_catalog": ".models.catalog:static_catalog",
    "LiveCatalog": ".models.live_catalog:LiveCatalog",
    "enable_live_catalog": ".models.live_catalog:enable_live_catalog",
    "resolve_settings": ".config.env:resolve_settings",
    "Settings": ".config.settings:Settings",
    "UsageCost": ".models.pricing:UsageCost",
    "ManualClock": ".common.clock:ManualClock",
    "EmbeddingResult": ".calls.embeddings:EmbeddingResult",
    "EmbeddingUsage": ".calls.embeddings:EmbeddingUsage",
    "RateStoreError": ".pacing.rate_store:RateStoreError",
})

PROVIDER_CAPABILITIES = ProviderCapabilities(
    user_message_images=True,
    tool_result_images=True,
    pdf_input=False,
    audio_input=False,
    tool_choice_forwarding=True,
    thinking=True,  # reasoning text of the models that return it (thinking.py)
    prompt_caching=False,
    streaming=True,
    cancellation=True,
    output_media=False,
    reasoning_replay=False,
)

PROVIDER_KNOBS = ProviderKnobs(layers=(
    KnobLayer("top_level", (
        KnobSpec("api_key", "str", None, "the token; else GITHUB_TOKEN, then .env"),
        KnobSpec("endpoint", "str", None, "JAATO_GITHUB_ENDPOINT; default the retired host"),
        KnobSpec("endpoint_kind", "str", "auto",
                 "github, legacy, openai_v1, foundry, gateway or auto"),
        KnobSpec("organization", "str", None, "bill an organization (JAATO_GITHUB_ORGANIZATION)"),
        KnobSpec("enterprise", "str", None, "enterprise for policy advice"),
        KnobSpec("timeout", "float", 60, "read timeout, seconds"),
        KnobSpec("connect_timeout", "float", 10, "connect timeout, seconds"),
        KnobSpec("max_retries", "int", 3, "retries of 429/5xx/early connection failures"),
        KnobSpec("max_retry_wait", "float", 60, "longest server-requested wait honoured"),
        KnobSpec("pacing", "bool", None, "client-side free-tier pacing (models.github.ai)"),
        KnobSpec("rate_limits", "dict", None, "override tier limits"),
        KnobSpec("enforce_tier_limits", "bool", None, "free-tier per-request token caps"),
        KnobSpec("env_file", "str", None, "the .env file to read"),
        KnobSpec("api_version", "str", None, "X-GitHub-Api-Version header"),
        KnobSpec("pool_size", "int", None, "HTTP connection pool size"),
        KnobSpec("user_agent", "str", None, "User-Agent header"),
        KnobSpec("use_env_proxies", "bool", True, "honour HTTP(S)_PROXY"),
        KnobSpec("trim_history", "bool", False, "drop the oldest exchanges to fit"),
        KnobSpec("catalog", "str", "static", "static, or live (fetched and cached)"),
        KnobSpec("catalog_ttl", "float", None, "live catalog freshness, seconds"),
        KnobSpec("auth", "str", "key", "key, or entra (DefaultAzureCredential)"),
        KnobSpec("auth_scope", "str", None, "Entra token scope (Cognitive Services default)"),
        KnobSpec("tracing", "str", None, "otel: OpenTelemetry GenAI spans and metrics"),
        KnobSpec("rate_store", "str", None, "redis://… shared rate limits across processes"),
        KnobSpec("rate_store_strict", "bool", False, "fail instead of pacing alone"),
        KnobSpec("transport", "str", "azure-core", "azure-core, or azure-ai-inference (extra)"),
        # the request options, also a layer of their own below: jaato's scaffold evaluates this
        # assignment alone, so the list is named inside it (:=) rather than in a constant
        *(request_knobs := (
            KnobSpec("temperature", "float"),
            KnobSpec("top_p", "float"),
            KnobSpec("max_tokens", "int"),
            KnobSpec("max_completion_tokens", "int"),
            KnobSpec("frequency_penalty", "float"),
            KnobSpec("presence_penalty", "float"),
            KnobSpec("seed", "int"),
            KnobSpec("stop", "list"),
            KnobSpec("response_format", "dict"),
            KnobSpec("tool_choice", "str"),
        )),
        KnobSpec("reasoning_effort", "str", None, "low, medium or high (reasoning models)"),
    ), description="connection, billing, pacing and request defaults"),
    KnobLayer("api_params", (
        *request_knobs,
        KnobSpec("modalities", "list"),
        KnobSpec("reasoning_effort", "str"),
    ), description="request defaults, as jaato profiles nest them"),
))

# ``credential`` (an azure-identity TokenCredential object) is a setting of ProviderConfig.extra
# for code, not a knob: jaato's knob types are bool, dict, float, int, list and str only.

del request_knobs

PROVIDER_QUIRKS = frozenset()  # type: ignore[var-annotated]  # scaffold evaluates plain assignments

PROVIDER_AUTH_RESOLUTION = (
    AuthSource("api_key_param", "api_key", "ProviderConfig.api_key / plugin_configs"),
    AuthSource("env", "GITHUB_TOKEN", "environment, then the .env file"),
)


def create_provider(config: ProviderConfig | None = None) -> GitHubModelsProvider:
    """Create a GitHub Models provider, initialized when ``config`` is given.

    Raises:
        GitHubModelsError: (subclasses) when ``config`` is given and initialization fails.
    """
    from .provider import GitHubModelsProvider

    provider = GitHubModelsProvider()
    if config is not None:
        provider.initialize(config)
    return provider


def create_ext_provider(config: ProviderConfig | None = None) -> GitHubModelsProvider:
    """``create_provider`` for the ``github_models_ext`` entry point: the provider reports (and
    jaato records in its history) the name it was configured by.

    Raises:
        GitHubModelsError: (subclasses) when ``config`` is given and initialization fails.
    """
    from .provider import GitHubModelsProvider

    provider = GitHubModelsProvider()
    provider.registered_name = "github_models_ext"
    if config is not None:
        provider.initialize(config)
    return provider


def __getattr__(name: str) -> Any:
    """A documented name imported on first use (see ``_NAMES``).

    Raises:
        AttributeError: no such public name.
    """
    return _NAMES.resolve(name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES.names()})
