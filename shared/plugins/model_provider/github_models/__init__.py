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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._contracts import AuthSource, KnobLayer, KnobSpec, ProviderCapabilities, ProviderKnobs
    from ._host import ProviderConfig
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
           "PROVIDER_QUIRKS", "GitHubModelsProvider", "__version__", "create_ext_provider",
           "create_provider"]

__version__ = "0.2.0"

PROVIDER_CAPABILITIES = ProviderCapabilities(
    user_message_images=True,
    tool_result_images=True,
    pdf_input=False,
    audio_input=False,
    tool_choice_forwarding=True,
    thinking=False,
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
        KnobSpec("endpoint_kind", "str", "auto", "github, legacy, foundry, gateway or auto"),
        KnobSpec("organization", "str", None, "bill an organization (JAATO_GITHUB_ORGANIZATION)"),
        KnobSpec("enterprise", "str", None, "enterprise for policy advice"),
        KnobSpec("timeout", "float", 60, "read timeout, seconds"),
        KnobSpec("connect_timeout", "float", 10, "connect timeout, seconds"),
        KnobSpec("max_retries", "int", 3, "retries of 429/5xx/early connection failures"),
        KnobSpec("max_retry_wait", "float", 60, "longest server-requested wait honoured"),
        KnobSpec("pacing", "bool", None, "client-side free-tier pacing"),
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
    ), description="connection, billing, pacing and request defaults"),
    KnobLayer("api_params", (
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
        KnobSpec("modalities", "list"),
    ), description="request defaults, as jaato profiles nest them"),
))

# ``credential`` (an azure-identity TokenCredential object) is a setting of ProviderConfig.extra
# for code, not a knob: jaato's knob types are bool, dict, float, int, list and str only.

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
    if name == "GitHubModelsProvider":
        from .provider import GitHubModelsProvider

        return GitHubModelsProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
