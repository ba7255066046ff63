"""The aio transport's direct POST (issue 23): with a key and a quiet HTTP log, a request skips
azure-core's ``AsyncPipelineClient`` and goes straight to the ``AioHttpTransport``'s aiohttp
session. It must send what the pipeline sends and fail exactly as the pipeline fails; with the
HTTP log on, the pipeline (and its ``HttpLoggingPolicy``) runs as before."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.plugins.model_provider import github_models
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E

from .adversarial.hostile import Act, HostileServer, chunked, completion_body, response_head
from .conftest import TEST_TOKEN
from .test_transport_lean import _parse, _provider  # the sync lean path's: same provider

HTTP_LOG = github_models.__name__ + ".http"
BODY = json.dumps(completion_body("ok")).encode()


def _agenerate(provider: GitHubModelsProvider, prompt: str, *, logged: bool,
               caplog: pytest.LogCaptureFixture) -> Any:
    """One ``agenerate``; ``logged``: with the HTTP log on (the pipeline's path)."""
    with caplog.at_level(logging.INFO if logged else logging.WARNING, logger=HTTP_LOG):
        return asyncio.run(provider.agenerate(prompt))


def _reply(data: bytes = BODY) -> Act:
    def act(conn: Any) -> None:
        conn.sendall(response_head(200, length=len(data)) + data)
    return act


def test_the_direct_post_sends_what_the_pipeline_sends(caplog: pytest.LogCaptureFixture) -> None:
    with HostileServer() as srv:
        srv.script(_reply(), _reply())
        provider = _provider(srv.url)
        try:
            assert _agenerate(provider, "direct", logged=False, caplog=caplog).text == "ok"
            assert not [r for r in caplog.records if r.name == HTTP_LOG]
            assert _agenerate(provider, "direct", logged=True, caplog=caplog).text == "ok"
            logged = "\n".join(r.getMessage() for r in caplog.records if r.name == HTTP_LOG)
        finally:
            provider.shutdown()
        (line1, direct, body1), (line2, piped, body2) = (_parse(r) for r in srv.requests)
    assert "Response status: 200" in logged and TEST_TOKEN not in logged  # the pipeline's log
    assert line1 == line2 and line1.startswith("POST /inference/chat/completions")
    assert direct == piped  # host, user agent, key, content type and length, encodings
    assert direct["authorization"] == f"Bearer {TEST_TOKEN}"
    assert direct["user-agent"].startswith("jaato-github-models/")
    assert direct["content-type"] == "application/json"
    assert body1 == body2 and json.loads(body1)["messages"] == [
        {"role": "user", "content": "direct"}]


def _closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/inference"


def _silent(conn: Any) -> None:
    del conn  # closed without a reply


def _cut(conn: Any) -> None:
    conn.sendall(response_head(200, length=len(BODY)) + BODY[:10])


def _huge(conn: Any) -> None:
    conn.sendall(response_head(200, length=16 * 1024 * 1024 + 1) + BODY)


def _chunked_ok(conn: Any) -> None:
    conn.sendall(response_head(200, chunked_body=True) + chunked(BODY[:7]) + chunked(BODY[7:])
                 + b"0\r\n\r\n")


def _stalled(conn: Any) -> None:
    conn.sendall(response_head(200, length=len(BODY)))
    time.sleep(1.6)


def _outcome(srv: HostileServer, endpoint: str, act: Act | None, *, logged: bool,
             caplog: pytest.LogCaptureFixture, **extra: Any) -> tuple[str, str]:
    """("ok", text) or (error class, message) of one ``agenerate``."""
    provider = _provider(endpoint, **extra)
    try:
        if act is not None:
            srv.script(act)
        try:
            return "ok", _agenerate(provider, "x", logged=logged, caplog=caplog).text
        except E.GitHubModelsError as exc:
            return type(exc).__name__, str(exc)
    finally:
        provider.shutdown()


@pytest.mark.parametrize(("name", "act", "extra"), [
    ("refused", None, {}),
    ("closed without a reply", _silent, {}),
    ("body cut short", _cut, {}),
    ("body over the cap", _huge, {}),
    ("chunked body", _chunked_ok, {}),
    ("read timeout", _stalled, {"timeout": 1}),
])
def test_the_direct_post_fails_exactly_as_the_pipeline_does(
        name: str, act: Callable[[Any], None] | None, extra: dict[str, Any],
        caplog: pytest.LogCaptureFixture) -> None:
    with HostileServer() as srv:
        endpoint = _closed_port() if act is None else srv.url
        direct = _outcome(srv, endpoint, act, logged=False, caplog=caplog, **extra)
        piped = _outcome(srv, endpoint, act, logged=True, caplog=caplog, **extra)
    assert direct == piped, name
    assert TEST_TOKEN not in direct[1]
    if name == "chunked body":
        assert direct == ("ok", "ok")
    else:
        assert direct[0] != "ok", name


def test_the_proxy_from_the_environment_carries_the_direct_post(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with HostileServer() as proxy:
        proxy.script(_reply(), _reply())
        monkeypatch.setenv("HTTP_PROXY", proxy.url.rsplit("/", 1)[0])
        monkeypatch.setenv("NO_PROXY", "")
        provider = _provider("http://models.example.test/inference")
        try:
            assert _agenerate(provider, "via proxy", logged=False, caplog=caplog).text == "ok"
            assert _agenerate(provider, "via proxy", logged=True, caplog=caplog).text == "ok"
        finally:
            provider.shutdown()
        (line1, direct, body1), (line2, piped, body2) = (_parse(r) for r in proxy.requests)
    assert line1 == line2
    assert line1.startswith("POST http://models.example.test/inference/chat/completions")
    assert direct == piped and direct["host"] == "models.example.test"
    assert body1 == body2
