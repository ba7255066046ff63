"""The framework side of model providers: the protocol, the shared types and the registry.

Importing this package is cheap: no provider SDK is imported until a client is built.
"""

from .base import ModelProviderPlugin, ProviderConfig, StatelessModelProvider
from .registry import (
    ProviderLoadError,
    ProviderNotFoundError,
    discover_providers,
    discovery_errors,
    load_provider,
)

__all__ = [
    "ModelProviderPlugin",
    "ProviderConfig",
    "ProviderLoadError",
    "ProviderNotFoundError",
    "StatelessModelProvider",
    "discover_providers",
    "discovery_errors",
    "load_provider",
]
