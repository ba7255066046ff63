"""The GitHub Models provider (and every endpoint that speaks its protocol).

``create_provider`` is the entry-point target. Importing this package imports no azure module:
the SDK loads when a client is first built.

The same folder runs in this project's checkout (``shared.plugins.model_provider.github_models``),
pip-installed as ``jaato_github_models``, and copied into a jaato-server tree; ``_host`` finds the
framework types of whichever it is. ``PROVIDER_CAPABILITIES``, ``PROVIDER_KNOBS``,
``PROVIDER_AUTH_RESOLUTION`` and ``PROVIDER_QUIRKS`` are jaato's module-level contracts
(``contract.py``), built on first access from the host's own classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._host import ProviderConfig
    from .provider import GitHubModelsProvider

__all__ = ["GitHubModelsProvider", "__version__", "create_provider"]

__version__ = "0.2.0"

_CONTRACTS = ("PROVIDER_CAPABILITIES", "PROVIDER_KNOBS", "PROVIDER_AUTH_RESOLUTION",
              "PROVIDER_QUIRKS")


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


def __getattr__(name: str) -> Any:
    if name == "GitHubModelsProvider":
        from .provider import GitHubModelsProvider

        return GitHubModelsProvider
    if name in _CONTRACTS:
        from . import contract

        return getattr(contract, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
