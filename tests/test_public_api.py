"""The public surface is deliberate: these names are what agent code imports."""

from __future__ import annotations

import subprocess
import sys

import shared
import shared.plugins.model_provider as mp
from shared.plugins.model_provider import types


def test_spec_imports_work() -> None:
    code = """
from shared import load_provider, discover_providers, ProviderConfig
from shared.plugins.model_provider import ModelProviderPlugin, ProviderConfig, load_provider
from shared.plugins.model_provider.types import (
    Message, Part, Role, ToolSchema, ToolResult, FunctionCall, Attachment,
    ProviderResponse, TokenUsage, FinishReason, CancelToken, CancelledException)
from shared.plugins.model_provider.github_models import GitHubModelsProvider, create_provider
from shared.plugins.model_provider.github_models.errors import (
    TokenNotFoundError, TokenInvalidError, TokenPermissionError, ModelsDisabledError,
    ModelNotFoundError, RateLimitError)
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shared_exports_are_pinned() -> None:
    assert sorted(shared.__all__) == sorted([
        "Attachment", "CancelToken", "CancelledException", "FinishReason", "FunctionCall",
        "Message", "ModelProviderPlugin", "Part", "ProviderConfig", "ProviderLoadError",
        "ProviderNotFoundError", "ProviderResponse", "Role", "TokenUsage", "ToolResult",
        "ToolSchema", "TurnOutcome", "TurnResult", "__version__", "discover_providers",
        "load_provider",
    ])
    assert sorted(mp.__all__) == sorted([
        "ModelProviderPlugin", "ProviderConfig", "ProviderLoadError", "ProviderNotFoundError",
        "StatelessModelProvider", "discover_providers", "discovery_errors", "load_provider",
    ])
    assert sorted(types.__all__) == sorted([
        "Attachment", "CancelToken", "CancelledException", "FinishReason", "FunctionCall",
        "Message", "Part", "ProviderResponse", "Role", "TokenUsage", "ToolResult", "ToolSchema",
        "TurnOutcome", "TurnResult",
    ])
    for name in shared.__all__:
        assert hasattr(shared, name), name


def _imported_modules(code: str) -> str:
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                            capture_output=True, text=True, check=True)
    return result.stderr


def test_importing_shared_and_loading_the_provider_imports_no_azure() -> None:
    trace = _imported_modules(
        "from shared import load_provider; p = load_provider('github_models'); print(p.name)")
    assert "azure" not in trace
    assert "shared.plugins.model_provider.github_models" in trace


def test_errors_module_imports_cheaply() -> None:
    trace = _imported_modules(
        "from shared.plugins.model_provider.github_models.errors import RateLimitError")
    for heavy in ("azure", "requests", "aiohttp", "dotenv"):
        assert heavy not in trace, heavy


def test_provider_config_repr_hides_the_key() -> None:
    config = shared.ProviderConfig(api_key="ghp_abcdefSECRET123", extra={"client_secret": "s3"})
    text = repr(config) + str(config)
    assert "SECRET" not in text and "s3" not in text
    assert "ghp_…" in text
