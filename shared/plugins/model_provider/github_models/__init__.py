"""The GitHub Models provider (and every endpoint that speaks its protocol).

``create_provider`` is the entry-point target. Importing this package imports no azure module:
the SDK loads when a client is first built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..base import ProviderConfig
    from .provider import GitHubModelsProvider

__all__ = ["GitHubModelsProvider", "create_provider"]


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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
