"""Pluggability: a third-party distribution registers a provider and load_provider finds it."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from shared import ModelProviderPlugin, ProviderConfig, discover_providers, load_provider
from shared.plugins.model_provider import ProviderLoadError, ProviderNotFoundError, registry

DUMMY = textwrap.dedent('''
    from shared.plugins.model_provider.types import ProviderResponse, TokenUsage

    class EchoProvider:
        def __init__(self):
            self.config = None
            self.model = None
            self.history = []
        @property
        def name(self): return "echo_dummy"
        def initialize(self, config=None): self.config = config
        def shutdown(self): pass
        def connect(self, model): self.model = model
        @property
        def is_connected(self): return self.model is not None
        @property
        def model_name(self): return self.model
        def list_models(self, prefix=None): return ["echo/one"]
        def create_session(self, system_instruction=None, tools=None, history=None):
            self.history = list(history or [])
        def get_history(self): return list(self.history)
        def generate(self, prompt): return ProviderResponse(text=prompt)
        def send_message(self, message, response_schema=None): return ProviderResponse(text=message)
        def send_message_with_parts(self, parts, response_schema=None): return ProviderResponse()
        def send_tool_results(self, results, response_schema=None): return ProviderResponse()
        def send_message_streaming(self, message, on_chunk, cancel_token=None,
                                   response_schema=None, on_usage_update=None):
            on_chunk(message); return ProviderResponse(text=message)
        def send_tool_results_streaming(self, results, on_chunk, cancel_token=None,
                                        response_schema=None, on_usage_update=None):
            return ProviderResponse()
        def supports_stop(self): return False
        def count_tokens(self, content): return len(content.split())
        def get_context_limit(self): return 1000
        def get_token_usage(self): return TokenUsage()
        def serialize_history(self, history): return "[]"
        def deserialize_history(self, data): return []
        def supports_structured_output(self): return False
        def supports_streaming(self): return True

    def create_provider():
        return EchoProvider()
''')


def _install_dist(root: Path, dist: str, module: str, source: str, entry: str) -> None:
    (root / module).mkdir()
    (root / module / "__init__.py").write_text(source)
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[jaato.model_providers]\n{entry}\n")


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    _install_dist(root, "jaato_echo_dummy", "jaato_echo_dummy", DUMMY,
                  "echo_dummy = jaato_echo_dummy:create_provider")
    _install_dist(root, "jaato_broken_dummy", "jaato_broken_dummy",
                  "raise ImportError('needs libfoo 9, found 8')\n",
                  "broken_dummy = jaato_broken_dummy:create_provider")
    monkeypatch.syspath_prepend(str(root))
    return root


def test_builtin_provider_is_discovered() -> None:
    providers = discover_providers()
    assert "github_models" in providers
    provider = load_provider("github_models")
    assert provider.name == "github_models"
    assert isinstance(provider, ModelProviderPlugin)


def test_third_party_distribution_is_discovered_and_loaded(third_party: Path) -> None:
    providers = discover_providers()
    assert {"echo_dummy", "github_models"} <= set(providers)
    config = ProviderConfig(api_key="x", extra={"k": 1})
    provider = load_provider("echo_dummy", config)
    assert isinstance(provider, ModelProviderPlugin)
    assert provider.name == "echo_dummy"
    assert provider.config is config  # type: ignore[attr-defined]  # initialized with it
    assert provider.send_message("hi").text == "hi"


def test_provider_name_from_environment(third_party: Path) -> None:
    provider = load_provider(environ={"JAATO_MODEL_PROVIDER": "echo_dummy"})
    assert provider.name == "echo_dummy"


def test_unknown_name_lists_available(third_party: Path) -> None:
    with pytest.raises(ProviderNotFoundError) as info:
        load_provider("no_such_provider")
    message = str(info.value)
    assert "'no_such_provider'" in message
    assert "echo_dummy" in message and "github_models" in message


def test_missing_name_says_how_to_choose() -> None:
    with pytest.raises(ProviderNotFoundError, match="JAATO_MODEL_PROVIDER"):
        load_provider(environ={})


def test_broken_provider_is_reported_not_skipped(third_party: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    registry._reported.discard("broken_dummy")
    with caplog.at_level(logging.WARNING, logger=registry.__name__):
        providers = discover_providers()
    assert "broken_dummy" in providers
    assert "needs libfoo 9" in caplog.text
    assert "needs libfoo 9" in str(registry.discovery_errors()["broken_dummy"])
    with pytest.raises(ProviderLoadError, match="needs libfoo 9") as info:
        load_provider("broken_dummy")
    assert isinstance(info.value.__cause__, ImportError)
