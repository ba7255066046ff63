"""The sync transport's lean requests session (issue 23) sends what requests' own path sends:
the same headers and body framing, a cookie the server set, the proxy from the environment."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider

from .adversarial.hostile import Act, HostileServer, completion_body, response_head
from .conftest import TEST_TOKEN


def _reply(*extra: tuple[str, str]) -> Act:
    data = json.dumps(completion_body("ok")).encode()

    def act(conn: Any) -> None:
        conn.sendall(response_head(200, extra=extra, length=len(data)) + data)
    return act


def _provider(endpoint: str, **extra: Any) -> GitHubModelsProvider:
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": endpoint, "pacing": False, "timeout": 10, "max_retries": 0, **extra}))
    provider.connect("openai/gpt-4o")
    return provider


def _parse(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *lines = head.decode().split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return first, headers, body


def test_the_lean_path_sends_what_requests_own_path_sends_and_keeps_cookies() -> None:
    # The first reply sets a cookie: the second request carries it, which sends it through
    # requests' own Session.request (the lean path steps aside when the session holds cookies).
    with HostileServer() as srv:
        srv.script(_reply(("Set-Cookie", "affinity=abc; Path=/")), _reply())
        provider = _provider(srv.url)
        try:
            assert provider.send_message("one").text == "ok"
            assert provider.send_message("two").text == "ok"
        finally:
            provider.shutdown()
        (line1, lean, body1), (line2, full, _) = (_parse(r) for r in srv.requests)
    assert line1 == line2 and line1.startswith("POST /inference/chat/completions")
    assert "cookie" not in lean and full.pop("cookie") == "affinity=abc"
    assert lean.pop("content-length") == str(len(body1)) and full.pop("content-length")
    assert lean == full  # same names and values: host, user agent, auth, accept, encodings
    assert lean["user-agent"].startswith("jaato-github-models/")
    assert lean["authorization"] == f"Bearer {TEST_TOKEN}"
    assert lean["content-type"] == "application/json"
    assert lean["accept-encoding"] and lean["connection"] == "keep-alive"
    assert json.loads(body1)["messages"][-1]["content"] == "one"


def test_the_proxy_from_the_environment_goes_through_the_lean_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer() as proxy:
        proxy.script(_reply())
        monkeypatch.setenv("HTTP_PROXY", proxy.url.rsplit("/", 1)[0])
        monkeypatch.setenv("NO_PROXY", "")
        provider = _provider("http://models.example.test/inference")
        try:
            assert provider.send_message("via proxy").text == "ok"
        finally:
            provider.shutdown()
        line, headers, _ = _parse(proxy.requests[0])
    assert line.startswith("POST http://models.example.test/inference/chat/completions")
    assert headers["host"] == "models.example.test"


def test_the_http_log_is_written_only_while_its_logger_is_on(
        emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    from shared.plugins.model_provider import github_models

    name = github_models.__name__ + ".http"
    provider = _provider(emulator.inference_url)
    try:
        with caplog.at_level(logging.WARNING, logger=name):
            provider.send_message("quiet")
        assert [r for r in caplog.records if r.name == name] == []
        with caplog.at_level(logging.INFO, logger=name):
            provider.send_message("logged")
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name == name)
    finally:
        provider.shutdown()
    assert "/chat/completions" in logged and "'POST'" in logged
    assert "Response status: 200" in logged
    assert TEST_TOKEN not in logged and "REDACTED" in logged  # the key header, redacted
