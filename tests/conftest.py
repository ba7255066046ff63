"""Test harness: no network beyond 127.0.0.1, an isolated environment, emulator fixtures."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

REPO_ROOT = str(__import__("pathlib").Path(__file__).resolve().parent.parent)
TEST_TOKEN = "github_pat_11TESTTOKEN0000000000_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and the like never leave the machine
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"test network guard: refused a connection to {address!r};"
                                     " tests may only talk to 127.0.0.1")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"test network guard: refused a connection to {address!r}")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]

_ENV_PREFIXES = ("JAATO_",)
_ENV_NAMES = ("GITHUB_TOKEN", "GH_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
              "https_proxy", "all_proxy", "NO_COLOR", "FORCE_COLOR")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No real token, proxy or .env reaches a test; each test runs in its own directory."""
    import os

    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # the checkout's stand-in framework (`shared`) is not installed: subprocesses find it here
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (REPO_ROOT, os.environ.get("PYTHONPATH", "")) if p))
    # the CLI logs chats under the user's data directory: keep that inside the test too
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def emulator() -> Iterator[Any]:
    """A running emulator on an ephemeral port."""
    from shared.plugins.model_provider.github_models.emulator import Emulator

    emu = Emulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def make_provider(emulator: Any) -> Iterator[Callable[..., Any]]:
    """Build initialized, connected providers against the emulator; all are shut down after."""
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    made: list[Any] = []

    def make(model: str | None = "openai/gpt-4o", *, token: str = TEST_TOKEN,
             endpoint: str | None = None, clock: Any = None, **extra: Any) -> Any:
        extra.setdefault("endpoint", endpoint or emulator.inference_url)
        extra.setdefault("pacing", False)
        extra.setdefault("timeout", 10)
        provider = GitHubModelsProvider(clock=clock)
        provider.initialize(ProviderConfig(api_key=token, extra=extra))
        if model is not None:
            provider.connect(model)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.shutdown()
