"""Foundry's OpenAI v1 route over real HTTP against the emulator's /openai/v1 route (the
independent server's side is test_foundry_v1_server.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from shared import ProviderConfig, ToolSchema
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.config.env import resolve_settings
from shared.plugins.model_provider.github_models.emulator import Emulator
from shared.plugins.model_provider.github_models.emulator.replies import Reply

from .entra_credentials import PREFIX, AsyncExpiringTestCredential, ExpiringTestCredential

KEY = "foundry-resource-key-0123456789abcdef"


def make(endpoint: str, model: str | None = "gpt-4o", **extra: Any) -> GitHubModelsProvider:
    provider = GitHubModelsProvider()
    api_key = None if "credential" in extra else KEY
    provider.initialize(ProviderConfig(api_key=api_key,
                                       extra={"endpoint": endpoint, "timeout": 10, **extra}))
    if model is not None:
        provider.connect(model)
    return provider


def chats(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


# ---------------------------------------------------------------- the emulator's v1 route

def test_v1_sends_no_api_version_the_key_once_and_the_deployment_name(emulator: Emulator
                                                                     ) -> None:
    emulator.add_deployment("team-a-gpt-4o", "openai/gpt-4o")
    provider = make(emulator.v1_url + "/", "team-a-gpt-4o")
    try:
        assert provider.settings.profile.kind == "openai_v1"
        # paid defaults: no free-tier pacing or caps; the window of the model the name ends in
        assert not provider.settings.pacing and not provider.settings.enforce_tier_limits
        assert provider.get_context_limit() == 131072
        assert provider.send_message("hi").text == "Echo: hi"
        seen: list[str] = []
        assert provider.send_message_streaming("s", seen.append).text == "Echo: s"
        assert "".join(seen) == "Echo: s"
    finally:
        provider.shutdown()
    sent = chats(emulator)
    assert len(sent) == 2
    for request in sent:
        assert request.path == "/openai/v1/chat/completions"
        assert request.query == {} or "api-version" not in request.query
        assert request.headers["api-key"] == "…" and "authorization" not in request.headers
        assert "x-github-api-version" not in request.headers
        assert request.body["model"] == "team-a-gpt-4o"


def test_v1_async_and_tools_work_too(emulator: Emulator) -> None:
    provider = make(emulator.v1_url, "gpt-4o-mini")

    async def run() -> tuple[str | None, list[Any]]:
        text = (await provider.asend_message("async hi")).text
        emulator.script(Reply.tool_calls([("get_weather", {"city": "Rome"})]))
        calls = (await provider.asend_message("weather in Rome?")).function_calls
        await provider.ashutdown()
        return text, calls

    provider.create_session(tools=[ToolSchema(
        name="get_weather", description="weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}})])
    text, calls = asyncio.run(run())
    provider.shutdown()
    assert text == "Echo: async hi"
    assert calls and calls[0].name == "get_weather" and calls[0].args == {"city": "Rome"}
    sent = chats(emulator)
    assert sent[-1].body["tools"][0]["function"]["name"] == "get_weather"
    assert all("api-version" not in r.query for r in sent)


def test_the_emulator_answers_a_dated_api_version_with_400(emulator: Emulator) -> None:
    url = emulator.v1_url + "/models?api-version=2024-10-21"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(url, headers={"api-key": KEY}), timeout=5)
    assert caught.value.code == 400
    error = json.loads(caught.value.read())["error"]
    assert error["code"] == "BadRequest" and error["param"] == "api-version"
    listed = json.loads(urllib.request.urlopen(urllib.request.Request(
        emulator.v1_url + "/models", headers={"api-key": KEY}), timeout=5).read())
    assert listed["object"] == "list" and {"id": "gpt-4o", "object": "model", "created": 0,
                                           "owned_by": "system"} in listed["data"]
    with pytest.raises(urllib.error.HTTPError) as caught:  # no key: 401 in OpenAI shape
        urllib.request.urlopen(emulator.v1_url + "/models", timeout=5)
    assert caught.value.code == 401 and "error" in json.loads(caught.value.read())


def test_a_pasted_api_version_is_stripped_with_a_warning_and_never_sent(
        emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        provider = make(emulator.v1_url + "/?api-version=2024-10-21")
    try:
        assert "takes no api-version" in caplog.text
        assert provider.send_message("hi").text == "Echo: hi"  # the emulator 400s a version
    finally:
        provider.shutdown()
    (sent,) = chats(emulator)
    assert "api-version" not in sent.query


def test_unknown_deployment_is_mapped_and_advised(emulator: Emulator) -> None:
    provider = make(emulator.v1_url, "not-deployed")
    try:
        with pytest.raises(E.ModelNotFoundError) as caught:
            provider.send_message("hi")
        assert provider.get_history() == []  # a failed call leaves history as it was
    finally:
        provider.shutdown()
    error = caught.value
    assert error.status == 404 and error.code == "DeploymentNotFound"
    assert "'not-deployed'" in error.fix and "/models" in error.fix
    assert "az cognitiveservices account deployment list" in error.fix
    assert KEY not in str(error)


def test_v1_with_entra_id_sends_a_bearer_with_the_documented_scope(emulator: Emulator) -> None:
    emulator.require_entra_tokens(PREFIX)
    credential = ExpiringTestCredential()
    provider = make(emulator.v1_url, "gpt-4o", credential=credential)
    try:
        assert provider.send_message("hi").text == "Echo: hi"
    finally:
        provider.shutdown()
    assert credential.scopes[0] == ("https://cognitiveservices.azure.com/.default",)
    (sent,) = chats(emulator)
    assert sent.headers["authorization"].startswith("Bearer ") and "api-key" not in sent.headers
    assert emulator.entra_tokens_seen == ["t1"]
    acred = AsyncExpiringTestCredential()
    aprovider = make(emulator.v1_url, "gpt-4o", credential=acred)

    async def run() -> str | None:
        text = (await aprovider.asend_message("async")).text
        await aprovider.ashutdown()
        return text

    assert asyncio.run(run()) == "Echo: async"
    aprovider.shutdown()


def test_v1_scripted_429_with_retry_after_ms_is_retried_after_that_wait(emulator: Emulator
                                                                       ) -> None:
    body = {"error": {"code": "429", "message": "Rate limit exceeded.", "type": None,
                      "param": None}}
    emulator.script(Reply.error(429, body, headers={"retry-after": "30",
                                                    "retry-after-ms": "400"}))
    provider = make(emulator.v1_url)
    try:
        started = time.monotonic()
        assert provider.send_message("hi").text == "Echo: hi"
        waited = time.monotonic() - started
    finally:
        provider.shutdown()
    assert 0.35 <= waited < 10  # the 400 ms, not the 30 s of retry-after
    assert len(chats(emulator)) == 2


# ---------------------------------------------------------------- bad input

def test_an_azure_openai_deployment_url_is_refused_with_the_v1_url_and_model() -> None:
    url = ("https://res.openai.azure.com/openai/deployments/prod-gpt-4o/chat/completions"
           "?api-version=2024-10-21")
    with pytest.raises(E.ConfigurationError) as caught:
        resolve_settings(ProviderConfig(api_key=KEY, extra={"endpoint": url}), environ={})
    error = caught.value
    assert error.setting == "endpoint"
    assert "https://res.openai.azure.com/openai/v1/" in error.fix
    assert "'prod-gpt-4o'" in error.fix


# ---------------------------------------------------------------- free-tier caps

def test_the_emulator_flag_enforce_tier_limits_makes_the_server_enforce_them(
        emulator: Emulator) -> None:
    import subprocess
    import sys

    from .conftest import REPO_ROOT

    prompt = "word " * 9000  # over the free tier's 8000-token input cap
    relaxed = make(emulator.inference_url, "openai/gpt-4o")  # no caps here, on either side
    try:
        assert relaxed.send_message(prompt).text
    finally:
        relaxed.shutdown()
    server = subprocess.Popen(
        [sys.executable, "-m", "shared.plugins.model_provider.github_models.emulator",
         "--port", "0", "--enforce-tier-limits"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        strict = make(url + "/inference", "openai/gpt-4o", max_retries=0)
        try:
            assert strict.get_context_limit() == 131072  # the client caps nothing ...
            with pytest.raises(E.ContextLimitError) as caught:
                strict.send_message(prompt)
            assert caught.value.status == 413  # ... the emulator refused it
            assert strict.get_history() == []
        finally:
            strict.shutdown()
    finally:
        server.terminate()
        server.communicate(timeout=10)


@pytest.mark.parametrize("url", [
    "https://res.openai.azure.com/x;sig=LEAKED0123456789abcdef/openai/deployments/prod"
    "/chat/completions",
    "https://res.openai.azure.com/openai/deployments/prod;LEAKED0123456789abcdef"
    "/chat/completions",
    # percent-encoded ';' and '?' decode to the same after the name is unquoted
    "https://res.openai.azure.com/openai/deployments/prod%3Bsig%3DLEAKED0123456789"
    "/chat/completions",
    "https://res.openai.azure.com/openai/deployments/prod%3Fsig%3DLEAKED0123456789",
])
def test_the_deployment_url_refusal_quotes_no_path_parameters(url: str) -> None:
    # ';params' can carry a key: the refusal's v1 URL and model name are built without them
    provider = GitHubModelsProvider()
    with pytest.raises(E.ConfigurationError) as caught:
        provider.initialize(ProviderConfig(api_key=KEY, extra={"endpoint": url}))
    error = caught.value
    assert "LEAKED" not in str(error) and "LEAKED" not in repr(error)
    assert "https://res.openai.azure.com/openai/v1/" in error.fix or "/x/openai/v1/" in error.fix
    assert "'prod'" in error.fix or "your deployment's name" in error.fix


def test_the_key_pasted_as_the_deployment_name_is_in_no_log_line_or_error(
        emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    # a key pasted where the deployment name goes: the warning about a name the catalog does
    # not know, the refusal of a malformed id and the service's 404 all quote the name
    with caplog.at_level(logging.WARNING, logger="shared.plugins.model_provider.github_models"):
        provider = make(emulator.v1_url, f"dep-{KEY}")
        try:
            with pytest.raises(E.ModelNotFoundError) as caught:
                provider.send_message("hi")
            with pytest.raises(E.ConfigurationError) as refused:
                provider.connect(f"{KEY}\x07x")
        finally:
            provider.shutdown()
    assert "is not in the catalog" in caplog.text
    body = KEY[len("foundry-"):]
    for text in (caplog.text, str(caught.value), str(refused.value)):
        assert body not in text


def test_path_parameters_on_the_endpoint_are_dropped_like_a_query(
        emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    # ';api-key=...' on the base URL would ride in every request's URL (and the HTTP log's
    # "Request URL" line) and hide the v1 kind: dropped with a warning, as a query is
    with caplog.at_level(logging.WARNING, logger="shared.plugins.model_provider.github_models"):
        provider = make(emulator.v1_url + ";api-key=LEAKED0123456789abcdef")
    try:
        assert provider.settings.profile.kind == "openai_v1"
        assert provider.send_message("hi").text == "Echo: hi"
    finally:
        provider.shutdown()
    assert "ignoring" in caplog.text and "LEAKED" not in caplog.text
    (sent,) = chats(emulator)
    assert sent.path == "/openai/v1/chat/completions"


def test_path_parameters_before_the_v1_segments_keep_the_path() -> None:
    url = "https://res.openai.azure.com/x;sig=LEAKED0123456789/openai/v1"
    settings = resolve_settings(ProviderConfig(api_key=KEY, extra={"endpoint": url}), environ={})
    assert settings.endpoint == "https://res.openai.azure.com/x/openai/v1"
    assert settings.profile.kind == "openai_v1"
