"""Foundry's OpenAI v1 route against an independent minimal server written here (http.server on
127.0.0.1, recording each request's path, query, headers and body): what an OpenAI-style server
sees from the provider, and how its failures are mapped and advised."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator

from .entra_credentials import PREFIX, ExpiringTestCredential
from .test_foundry_v1 import KEY, make

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


@pytest.mark.parametrize(("extra", "expected"), [
    ({}, {}),  # OpenAI's protocol has no api-version: a gateway gets none by default
    ({"api_version": "2024-10-21"}, {"api-version": ["2024-10-21"]}),  # asked for: sent
])
def test_a_gateway_gets_an_api_version_only_when_one_is_set(
        server: Recorder, extra: dict[str, str], expected: dict[str, list[str]]) -> None:
    provider = make(server.url + "/v1", "my-model", **extra)
    try:
        assert provider.send_message("hi").text == "Hello"
    finally:
        provider.shutdown()
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["query"] == expected
    assert "x-github-api-version" not in request["headers"]


def test_v1_never_sends_an_api_version_even_when_one_is_set(
        server: Recorder, v1: Callable[..., GitHubModelsProvider]) -> None:
    provider = v1(api_version="2024-10-21")
    assert provider.send_message("hi").text == "Hello"
    (request,) = server.requests
    assert request["query"] == {}


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
