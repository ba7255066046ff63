"""Foundry's OpenAI v1 route over real HTTP: against the emulator's /openai/v1 route and against an
independent minimal server written here (http.server on 127.0.0.1, recording every request)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared import ProviderConfig, ToolSchema
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator
from shared.plugins.model_provider.github_models.emulator.replies import Reply
from shared.plugins.model_provider.github_models.env import resolve_settings

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


# ---------------------------------------------------------------- an independent server

class Recorder:
    """A minimal v1-like server: records every request; answers from a queue of replies."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[tuple[int, dict[str, str], bytes]] = []
        self.times: list[float] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                del args

            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorder.requests.append({
                    "method": self.command, "path": parts.path,
                    "query": parse_qs(parts.query),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(raw) if raw else None})
                recorder.times.append(time.monotonic())
                status, headers, body = (recorder.replies.pop(0) if recorder.replies
                                         else recorder.ok(recorder.requests[-1]["body"]))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def ok(body: Any) -> tuple[int, dict[str, str], bytes]:
        model = body.get("model") if isinstance(body, dict) else None
        if isinstance(body, dict) and body.get("stream"):
            chunks = [{"id": "c1", "object": "chat.completion.chunk", "created": 1,
                       "model": model, "choices": [{"index": 0, "delta": {"content": part},
                                                    "finish_reason": None}]}
                      for part in ("He", "llo")]
            chunks.append({"id": "c1", "object": "chat.completion.chunk", "created": 1,
                           "model": model, "choices": [{"index": 0, "delta": {},
                                                        "finish_reason": "stop"}]})
            data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            return 200, {"content-type": "text/event-stream"}, data.encode()
        reply = {"id": "c1", "object": "chat.completion", "created": 1, "model": model,
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": "Hello"}}],
                 "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
        return 200, {"content-type": "application/json"}, json.dumps(reply).encode()

    def error(self, status: int, code: str, message: str, **headers: str) -> None:
        body = {"error": {"code": code, "message": message, "type": "invalid_request_error",
                          "param": None}}
        self.replies.append((status, {"content-type": "application/json", **headers},
                             json.dumps(body).encode()))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    try:
        yield recorder
    finally:
        recorder.close()


@pytest.fixture
def v1(server: Recorder) -> Iterator[Callable[..., GitHubModelsProvider]]:
    made: list[GitHubModelsProvider] = []

    def build(model: str = "my-gpt-4o", **extra: Any) -> GitHubModelsProvider:
        provider = make(server.url + "/openai/v1", model, max_retries=2, **extra)
        made.append(provider)
        return provider

    yield build
    for provider in made:
        provider.shutdown()


def test_independent_server_sees_v1_requests_as_openai_clients_send_them(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    provider = v1()
    assert provider.send_message("hi").text == "Hello"
    assert provider.send_message_streaming("again", lambda _t: None).text == "Hello"
    assert len(server.requests) == 2
    for request in server.requests:
        assert request["method"] == "POST" and request["path"] == "/openai/v1/chat/completions"
        assert request["query"] == {}  # no api-version, nothing else
        assert request["headers"]["api-key"] == KEY  # the key once ...
        assert "authorization" not in request["headers"]  # ... not also as a bearer
        assert "x-github-api-version" not in request["headers"]
        assert request["body"]["model"] == "my-gpt-4o"  # the deployment name as written
    assert server.requests[1]["body"]["stream"] is True


def test_independent_server_with_entra_id_gets_only_the_bearer(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    credential = ExpiringTestCredential()
    provider = v1(credential=credential)
    assert provider.send_message("hi").text == "Hello"
    (request,) = server.requests
    assert request["headers"]["authorization"].startswith(f"Bearer {PREFIX}")
    assert "api-key" not in request["headers"] and request["query"] == {}


def test_independent_server_429_retry_after_ms_is_honoured(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    server.error(429, "429", "Requests have exceeded the token rate limit.",
                 **{"retry-after": "20", "retry-after-ms": "300",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-remaining-tokens": "0"})
    provider = v1()
    assert provider.send_message("hi").text == "Hello"
    assert len(server.requests) == 2
    gap = server.times[1] - server.times[0]
    assert 0.28 <= gap < 5  # retry-after-ms, not retry-after's 20 s
    server.error(429, "429", "Rate limit.", **{"retry-after-ms": "60000"})  # over max_retry_wait
    server.error(429, "429", "Rate limit.", **{"retry-after-ms": "60000"})
    server.error(429, "429", "Rate limit.", **{"retry-after-ms": "60000"})
    limited = v1(max_retry_wait=0.1)
    with pytest.raises(E.RateLimitError) as caught:
        limited.send_message("hi")
    assert caught.value.retry_after == 60
    assert "tokens-per-minute quota" in caught.value.fix


def test_independent_server_404_deployment_not_found_is_mapped_and_advised(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    server.error(404, "DeploymentNotFound", "The API deployment for this resource does not "
                 "exist.")
    provider = v1("typo-deployment")
    with pytest.raises(E.ModelNotFoundError) as caught:
        provider.send_message("hi")
    assert "'typo-deployment'" in caught.value.fix and "GET <endpoint>/models" in caught.value.fix
    assert len(server.requests) == 1  # a 404 is not retried


def test_independent_server_content_filter_is_mapped_and_advised(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    server.error(400, "content_filter", "The response was filtered due to the prompt "
                 "triggering Azure OpenAI's content management policy.")
    provider = v1()
    with pytest.raises(E.ContentFilterError) as caught:
        provider.send_message("something")
    assert "rephrase" in caught.value.fix and provider.get_history() == []


def test_independent_server_bad_key_and_missing_role_are_advised_in_foundry_terms(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    server.error(401, "401", "Access denied due to invalid subscription key or wrong API "
                 "endpoint.")
    with pytest.raises(E.TokenInvalidError) as bad:
        v1().send_message("hi")
    assert "Keys and Endpoint" in bad.value.fix and KEY not in str(bad.value)
    server.error(403, "PermissionDenied", "The principal lacks the required data action.")
    with pytest.raises(E.GitHubModelsError) as refused:
        v1(credential=ExpiringTestCredential()).send_message("hi")
    assert "Cognitive Services OpenAI User" in refused.value.fix


def test_a_retired_models_route_names_the_v1_url_that_replaces_it(server: Recorder) -> None:
    server.error(410, "ApiRetired", "The Azure AI model inference API was retired on "
                 "2026-08-26.")
    provider = make(server.url + "/models", "gpt-4o", endpoint_kind="foundry")
    try:
        with pytest.raises(E.ServiceRetiredError) as caught:
            provider.send_message("hi")
    finally:
        provider.shutdown()
    assert f"{server.url}/openai/v1/" in caught.value.fix
    assert "services.ai.azure.com/openai/v1/" in caught.value.fix
    (request,) = server.requests  # the /models route still got its api-version while it lived
    assert request["query"]["api-version"] == ["2024-05-01-preview"]


def test_a_models_route_that_still_answers_keeps_working(server: Recorder) -> None:
    provider = make(server.url + "/models", "gpt-4o", endpoint_kind="foundry")
    try:
        assert provider.send_message("hi").text == "Hello"
    finally:
        provider.shutdown()


# ---------------------------------------------------------------- free-tier caps

def test_context_limit_is_the_models_window_on_the_emulator_and_a_gateway(
        emulator: Emulator, server: Recorder) -> None:
    on_emulator = make(emulator.inference_url, "openai/gpt-4o")
    gateway = make(server.url + "/v1", "gpt-4o")
    asked = make(emulator.inference_url, "openai/gpt-4o", enforce_tier_limits=True)
    try:
        assert on_emulator.get_context_limit() == 131072
        assert gateway.get_context_limit() == 131072
        assert asked.get_context_limit() == 12000  # the free tier's 8000 in + 4000 out
    finally:
        for provider in (on_emulator, gateway, asked):
            provider.shutdown()


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
