"""jaato shared: model-provider plugins and their provider-agnostic types.

``from shared import load_provider, ProviderConfig`` is all agent code needs to start. Nothing
heavy is imported here: provider SDKs load when a client is first built.
"""

from .plugins.model_provider.base import ModelProviderPlugin, ProviderConfig

try:  # this checkout: the framework and the provider folder share one version
    from .plugins.model_provider.github_models import __version__
except ModuleNotFoundError as exc:  # the framework beside the installed wheel, without the folder
    if exc.name != f"{__name__}.plugins.model_provider.github_models":
        raise
    import importlib

    __version__ = importlib.import_module("jaato_github_models").__version__

from .plugins.model_provider.registry import (
    ProviderLoadError,
    ProviderNotFoundError,
    discover_providers,
    load_provider,
)
from .plugins.model_provider.types import (
    Attachment,
    CancelledException,
    CancelToken,
    FinishReason,
    FunctionCall,
    Message,
    Part,
    ProviderResponse,
    Role,
    TokenUsage,
    ToolResult,
    ToolSchema,
    TurnOutcome,
    TurnResult,
)

__all__ = [
    "Attachment",
    "CancelToken",
    "CancelledException",
    "FinishReason",
    "FunctionCall",
    "Message",
    "ModelProviderPlugin",
    "Part",
    "ProviderConfig",
    "ProviderLoadError",
    "ProviderNotFoundError",
    "ProviderResponse",
    "Role",
    "TokenUsage",
    "ToolResult",
    "ToolSchema",
    "TurnOutcome",
    "TurnResult",
    "__version__",
    "discover_providers",
    "load_provider",
]
