"""The transport: azure-core's own pipeline clients by default (the retired azure-ai-inference
SDK never imported), the SDK's client as a setting, or a client the application hands in."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.config.env import resolve_settings

from .conftest import REPO_ROOT, TEST_TOKEN

_SCRIPT = """
import asyncio, json, sys
from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
p = GitHubModelsProvider()
p.initialize(ProviderConfig(api_key=sys.argv[2], extra={"endpoint": sys.argv[1], "timeout": 10}))
p.connect("openai/gpt-4o")
texts = [p.send_message("sync").text]
chunks = []
texts.append(p.send_message_streaming("stream", chunks.append).text)
async def run():
    texts.append((await p.asend_message("async")).text)
    texts.append((await p.asend_message_streaming("astream", lambda _t: None)).text)
    await p.ashutdown()
asyncio.run(run())
p.shutdown()
print(json.dumps({"texts": texts, "chunks": len(chunks),
                  "sdk": sorted(m for m in sys.modules if m.startswith("azure.ai")),
                  "core": "azure.core" in sys.modules}))
"""


def test_default_requests_never_import_the_retired_sdk(emulator: Any) -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, emulator.inference_url, TEST_TOKEN],
                         capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, check=False)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["texts"] == ["Echo: sync", "Echo: stream", "Echo: async", "Echo: astream"]
    assert seen["chunks"] >= 1 and seen["core"]
    assert seen["sdk"] == []  # neither azure.ai.inference nor its aio client was loaded
    assert len(emulator.requests) == 4


def test_the_wheel_does_not_require_the_retired_sdk() -> None:
    project = tomllib.loads((Path(REPO_ROOT) / "pyproject.toml").read_text())["project"]
    assert not any(d.lower().startswith("azure-ai-inference") for d in project["dependencies"])
    assert any(d.startswith("azure-core") for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("azure-ai-inference") for d in extras["inference"])
    assert any(d.startswith("azure-ai-inference") for d in extras["dev"])  # so it is tested


def _provider(emulator: Any, **extra: Any) -> GitHubModelsProvider:
    provider = GitHubModelsProvider()
    extra.setdefault("endpoint", emulator.inference_url)
    provider.initialize(ProviderConfig(api_key=extra.pop("api_key", TEST_TOKEN),
                                       extra={"timeout": 10, **extra}))
    provider.connect("openai/gpt-4o")
    return provider


def test_the_sdk_transport_as_a_setting_sends_the_same_requests(emulator: Any) -> None:
    provider = _provider(emulator, transport="azure-ai-inference")
    try:
        assert provider.settings.transport == "azure-ai-inference"
        assert provider.send_message("hi").text == "Echo: hi"
        assert provider.send_message_streaming("s", lambda _t: None).text == "Echo: s"

        async def run() -> str | None:
            text = (await provider.asend_message("a")).text
            await provider.ashutdown()
            return text

        assert asyncio.run(run()) == "Echo: a"
    finally:
        provider.shutdown()
    assert "azure.ai.inference" in sys.modules
    sent = emulator.requests
    assert len(sent) == 3
    for request in sent:
        assert request.headers["authorization"] == "Bearer github_pat_…"  # redacted by the log
        assert "api-key" not in request.headers  # GitHub-shaped: the key once
        assert request.query.get("api-version") == "2024-05-01-preview"


def test_the_sdk_transport_from_the_environment_and_bad_values(emulator: Any,
                                                               monkeypatch: Any) -> None:
    monkeypatch.setenv("JAATO_GITHUB_TRANSPORT", "azure-ai-inference")
    s = resolve_settings(ProviderConfig(api_key=TEST_TOKEN, extra={}))
    assert s.transport == "azure-ai-inference"
    assert s.sources["JAATO_GITHUB_TRANSPORT"] == "environment JAATO_GITHUB_TRANSPORT"
    with pytest.raises(E.ConfigurationError) as caught:
        resolve_settings(ProviderConfig(api_key=TEST_TOKEN, extra={"transport": "httpx"}))
    assert caught.value.setting == "transport" and "azure-core" in caught.value.fix
    assert emulator.requests == []


def test_sdk_transport_without_the_package_says_which_extra_to_install(
        monkeypatch: Any) -> None:
    from shared.plugins.model_provider.github_models.config import transport_setting

    monkeypatch.setattr(transport_setting, "_sdk_installed", lambda: False)
    with pytest.raises(E.ConfigurationError) as caught:
        resolve_settings(ProviderConfig(api_key=TEST_TOKEN,
                                        extra={"transport": "azure-ai-inference"}))
    assert "jaato-github-models[inference]" in caught.value.fix


def test_a_handed_in_client_carries_every_request(emulator: Any) -> None:
    from azure.ai.inference import ChatCompletionsClient
    from azure.ai.inference.aio import ChatCompletionsClient as AioClient
    from azure.core.credentials import AzureKeyCredential

    key = "app-own-key-0123456789"
    sync_client = ChatCompletionsClient(emulator.inference_url, AzureKeyCredential(key),
                                        retry_total=0)
    aio_client = AioClient(emulator.inference_url, AzureKeyCredential(key), retry_total=0)
    provider = GitHubModelsProvider()
    # no api_key: the clients bring their own credential
    provider.initialize(ProviderConfig(extra={"endpoint": emulator.inference_url,
                                              "client": sync_client,
                                              "async_client": aio_client, "timeout": 10}))
    provider.connect("openai/gpt-4o")
    assert provider.send_message("mine").text == "Echo: mine"

    async def run() -> str | None:
        text = (await provider.asend_message("amine")).text
        await provider.ashutdown()
        await aio_client.close()  # the application's: the provider never closes it
        return text

    assert asyncio.run(run()) == "Echo: amine"
    provider.shutdown()
    assert sync_client.send_request is not None  # still usable: not closed by the provider
    sent = emulator.requests
    assert len(sent) == 2
    for request in sent:
        # the SDK's own pipeline sent them: its credential, its user agent
        assert request.headers.get("api-key") or request.headers.get("authorization")
        assert "azsdk-python-ai-inference" in request.headers["user-agent"]
    sync_client.close()
    assert key not in repr(provider.settings)


def test_a_handed_in_client_that_is_not_one_is_refused_before_any_request(
        emulator: Any) -> None:
    with pytest.raises(E.ConfigurationError) as caught:
        resolve_settings(ProviderConfig(api_key=TEST_TOKEN, extra={"client": object()}))
    assert caught.value.setting == "client" and "send_request" in str(caught.value)
    from azure.ai.inference.aio import ChatCompletionsClient as AioClient
    from azure.core.credentials import AzureKeyCredential

    aio_client = AioClient(emulator.inference_url, AzureKeyCredential("k" * 12))
    with pytest.raises(E.ConfigurationError) as caught:
        resolve_settings(ProviderConfig(api_key=TEST_TOKEN, extra={"client": aio_client}))
    assert "async_client" in caught.value.fix
    asyncio.run(aio_client.close())
    assert emulator.requests == []
