"""The token never leaks: a whole session (init, chat, tools, streaming, every kind of failure,
history, reprs, the CLI) runs with DEBUG logging on every logger that could see it, and nothing
captured, raised, printed, serialized or recorded holds the token or any long part of it."""

from __future__ import annotations

import logging
import os
import pickle
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig, load_provider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.types import ToolResult, ToolSchema

PREFIX = "github_pat_"
BODY = "11SECRETSECRETSECRET_Zq7wXk2mPv9LrT4sNb6YcH8dJf3GuA5eQo1iWx0tKz"
TOKEN = PREFIX + BODY
LOGGERS = ("", "azure", "azure.core.pipeline.policies.http_logging_policy", "urllib3",
           "aiohttp", "shared.plugins.model_provider.github_models",
           "shared.plugins.model_provider.github_models.http", "shared", "requests")
CLI = (Path(__file__).resolve().parents[1]
       / "shared/plugins/model_provider/github_models/cli/main.py")
WEATHER = ToolSchema(name="get_weather", description="Weather for a city",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]})


def leaks(text: str) -> list[str]:
    """Every piece of the token found in ``text``: the whole token, its body, or any 12
    consecutive characters of the body (a partial leak is a leak)."""
    found = [piece for piece in (TOKEN, BODY) if piece in text]
    found += [BODY[i:i + 12] for i in range(len(BODY) - 11) if BODY[i:i + 12] in text]
    return found


class Capture(logging.Handler):
    """Formats every record it sees (message, args, exception and stack) into ``texts``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(repr(record.args))
        if record.exc_info:
            self.texts.append("".join(traceback.format_exception(*record.exc_info)))


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    """DEBUG on every logger that could see a request, captured; restored afterwards."""
    capture = Capture()
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, level, propagate, disabled in saved:
            logger.removeHandler(capture)
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


def describe(exc: BaseException) -> list[str]:
    """Every way an exception can be shown: str, repr, args, attributes, traceback, causes."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += [repr(v) for v in vars(current).values()] if hasattr(current, "__dict__") else []
        current = current.__cause__ or current.__context__
    if isinstance(exc, E.GitHubModelsError):
        texts.append(repr(pickle.loads(pickle.dumps(exc)).__dict__))
    return texts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scenario(emulator: Emulator, shown: list[str]) -> Any:
    """A whole session through the public API; every exception and repr goes into ``shown``."""
    config = ProviderConfig(api_key=TOKEN, extra={
        "endpoint": emulator.inference_url, "timeout": 5, "pacing": False, "max_retries": 1})
    provider: Any = load_provider("github_models", config)
    provider.connect("openai/gpt-4o")
    shown += [repr(config), str(config), repr(provider), str(provider), repr(provider.settings),
              str(provider.settings), repr(provider._runner), repr(provider._runner.transport)]

    provider.create_session(system_instruction="Be brief.", tools=[WEATHER])
    provider.send_message("Hello there")
    response = provider.send_message("What is the weather in Paris? Use get_weather.")
    calls = response.function_calls
    assert calls and calls[0].name == "get_weather"
    results = [ToolResult(call_id=c.id, name=c.name, result={"temp": 21}) for c in calls]
    provider.send_tool_results(results)
    chunks: list[str] = []
    provider.send_message_streaming("Stream a reply please", chunks.append)
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Rome"})]))
    streamed = provider.send_message_streaming("And Rome?", chunks.append)
    provider.send_tool_results_streaming(
        [ToolResult(call_id=streamed.function_calls[0].id, name="get_weather",
                    result={"temp": 25})], chunks.append)
    shown += chunks

    def expect(cls: type[E.GitHubModelsError], *replies: Reply, stream: bool = False) -> None:
        emulator.script(*replies)
        with pytest.raises(cls) as info:
            if stream:
                provider.send_message_streaming("again", chunks.append)
            else:
                provider.send_message("again")
        emulator.clear_script()
        shown.extend(describe(info.value))

    # a proxy that echoes the credential back in its error body
    echo = f"invalid credentials: Authorization: Bearer {TOKEN} (api-key {TOKEN})"
    expect(E.TokenInvalidError, Reply.error(401, echo))
    expect(E.TokenInvalidError, Reply.error(401, {"error": {"code": "unauthorized",
                                                            "message": echo}}), stream=True)
    expect(E.RateLimitError, Reply.error(429, {"error": {
        "code": "RateLimitReached", "message": "Rate limit of 8 per 86400s exceeded for "
        "UserByModelByDay. Please wait 85841 seconds before retrying."}}))
    expect(E.ServiceUnavailableError, Reply.error(503, echo), Reply.error(503, echo))
    expect(E.StreamInterruptedError, Reply.fault("drop_mid_stream", after=2, text="a b c d"),
           stream=True)
    emulator.set_mode("retired")
    expect(E.ServiceRetiredError)
    expect(E.ServiceRetiredError, stream=True)
    emulator.set_mode("normal")

    port = closed_port()
    offline: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": f"http://127.0.0.1:{port}/inference", "max_retries": 0, "timeout": 2}))
    offline.connect("openai/gpt-4o")
    with pytest.raises(E.ProviderConnectionError) as info:
        offline.send_message("anyone there?")
    shown.extend(describe(info.value))
    shown += [repr(offline), repr(offline.settings)]
    offline.shutdown()

    history = provider.get_history()
    shown += [provider.serialize_history(history), repr(history)]
    shown += [repr(provider.get_usage_summary()), repr(provider.get_session_usage())]
    return provider


def test_a_whole_session_never_shows_the_token(emulator: Emulator, debug_logs: Capture,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    shown: list[str] = []
    provider = scenario(emulator, shown)
    try:
        assert len(provider.get_history()) >= 10
        assert len(debug_logs.texts) > 10  # the DEBUG capture did see the traffic
        assert any("chat/completions" in t for t in debug_logs.texts)
    finally:
        provider.shutdown()
    out, err = capfd.readouterr()
    everything = "\n".join([*shown, *debug_logs.texts, out, err])
    assert leaks(everything) == []
    assert "github_pat_…" in everything  # errors name the token type, masked


def test_the_emulator_request_log_never_holds_the_token(emulator: Emulator,
                                                        make_provider: Callable[..., Any]) -> None:
    provider = make_provider(token=TOKEN, clock=ManualClock())
    provider.send_message("hello")
    provider.send_message_streaming("hello again", lambda _t: None)
    requests = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert len(requests) == 2
    assert all(r.headers["authorization"] == "Bearer github_pat_…" for r in requests)
    assert all("api-key" not in r.headers for r in requests)  # stripped on GitHub-shaped hosts
    assert leaks(repr(emulator.requests)) == []


def url_with_token() -> str:
    return f"http://127.0.0.1:{closed_port()}/inference?api-key={TOKEN}"


def test_a_token_in_the_endpoint_url_is_not_logged_or_raised(
        debug_logs: Capture, capfd: pytest.CaptureFixture[str]) -> None:
    shown: list[str] = []
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": url_with_token(), "max_retries": 0, "timeout": 2}))
    try:
        provider.connect("openai/gpt-4o")
        shown.append(repr(provider))
        with pytest.raises(E.ProviderConnectionError) as info:
            provider.send_message("hi")
        shown.extend(describe(info.value))
    finally:
        provider.shutdown()
    out, err = capfd.readouterr()
    assert any("Request URL" in t for t in debug_logs.texts)
    assert leaks("\n".join([*shown, *debug_logs.texts, out, err])) == []


def test_a_token_in_the_endpoint_url_is_not_in_reprs() -> None:
    config = ProviderConfig(api_key=TOKEN, extra={"endpoint": url_with_token()})
    provider: Any = load_provider("github_models", config)
    try:
        assert leaks(repr(provider.settings)) == []
        assert leaks(repr(config)) == []
    finally:
        provider.shutdown()


# ---- the command line --------------------------------------------------------------------------


def run_cli(args: list[str], emulator: Emulator) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("JAATO_") and k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env.update(GITHUB_TOKEN=TOKEN, JAATO_GITHUB_ENDPOINT=emulator.inference_url,
               NO_PROXY="127.0.0.1,localhost", PYTHONPATH=str(CLI.parents[5]))
    return subprocess.run(
        [sys.executable, "-m", "shared.plugins.model_provider.github_models.cli", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.skipif(not CLI.exists(), reason="the CLI is not written yet")
def test_the_cli_never_shows_the_token(emulator: Emulator) -> None:
    runs = [
        run_cli(["chat", "--debug", "--model", "openai/gpt-4o", "Say hello"], emulator),
        run_cli(["chat", "--json", "--model", "openai/gpt-4o", "Say hello"], emulator),
        run_cli(["doctor", "--debug"], emulator),
        run_cli(["doctor", "--json"], emulator),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert "Echo: Say hello" in runs[0].stdout
    emulator.set_mode("retired")
    runs.append(run_cli(["chat", "--debug", "--model", "openai/gpt-4o", "Say hello"], emulator))
    assert runs[-1].returncode == 1
    assert "2026-07-30" in runs[-1].stderr
    emulator.set_mode("normal")
    emulator.script(Reply.error(401, f"bad token Bearer {TOKEN}"))
    runs.append(run_cli(["chat", "--debug", "--model", "openai/gpt-4o", "Say hello"], emulator))
    assert runs[-1].returncode == 1
    assert "Traceback" in runs[-1].stderr  # --debug shows the chain, and still no token
    for run in runs:
        assert leaks(run.stdout + run.stderr) == [], run.args
