"""Issue 12, security: hostile input never makes the token (or a key in a URL) visible.

Each test drives the public API over real HTTP: the emulator, or the raw-socket hostile server
for wire shapes the emulator cannot make (a token split across SSE chunks).
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig, load_provider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.url_secrets import strip_url_secrets
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from tests.adversarial.hostile import HostileServer, send_sse, sse_text_chunks

BODY = "11HOSTILEsecret_Zq7wXk2mPv9LrT4sNb6YcH8dJf3GuA5eQo1iWx0tKz"
TOKEN = "github_pat_" + BODY
MODULE = "shared.plugins.model_provider.github_models.cli"


def leaks(data: str | bytes) -> bool:
    """Whether ``data`` holds the token's body or any 12 consecutive characters of it."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return any(BODY[i:i + 12] in text for i in range(len(BODY) - 11))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, endpoint: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("JAATO_") and k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env.update(GITHUB_TOKEN=TOKEN, JAATO_GITHUB_ENDPOINT=endpoint, NO_PROXY="127.0.0.1,localhost",
               XDG_CACHE_HOME=str(cwd / "cache"))
    return subprocess.run([sys.executable, "-m", MODULE, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60, check=False)


# ---- CLI: masking sees across chunk boundaries -------------------------------------------------


@pytest.mark.parametrize("cut", [1, 3, 7, 11, 12, 20, len(TOKEN) - 1])
def test_cli_masks_a_token_echoed_across_stream_chunks(tmp_path: Path, cut: int) -> None:
    with HostileServer() as server:
        # the token in two chunks, then its body alone in single characters
        pieces = ["Your token: ", TOKEN[:cut], TOKEN[cut:], " and again ", *BODY, " done"]
        server.script(send_sse(sse_text_chunks(pieces)))
        result = run_cli("chat", "--model", "openai/gpt-4o", "echo it", endpoint=server.url,
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not leaks(result.stdout + result.stderr)
    assert "Your token: github_pat_… and again … done" in result.stdout


# ---- a configuration error about an invalid endpoint never quotes its secrets ------------------


@pytest.mark.parametrize("url", [
    "ftp://user:hunter2pw@host.example/x?key=SECRETKEY",
    "http://user:hunter2pw@host.example:99999/x?key=SECRETKEY",
    "http://user:hunter2pw@/x?key=SECRETKEY",
    "http://user:hunter2pw@[::1:bad/x?key=SECRETKEY",
    "user:hunter2pw@host.example/x?key=SECRETKEY",
    "https://user:hunter2pw@host.example:port/x?api-key=SECRETKEY#SECRETKEY",
])
def test_invalid_endpoint_errors_do_not_quote_user_info_or_query(url: str, tmp_path: Path) -> None:
    with pytest.raises(E.ConfigurationError) as info:
        load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={"endpoint": url}))
    shown = str(info.value) + repr(info.value.__dict__)
    assert "hunter2pw" not in shown and "SECRETKEY" not in shown
    assert "endpoint" in shown
    cli = run_cli("models", "--live", endpoint=url, cwd=tmp_path)  # the CLI prints the error
    assert cli.returncode != 0 and "endpoint" in cli.stderr
    assert "hunter2pw" not in cli.stdout + cli.stderr
    assert "SECRETKEY" not in cli.stdout + cli.stderr


@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:pw@[::1]:8765/inference?key=k#f", "http://[::1]:8765/inference"),
    ("https://KEY@Host.Example/v1", "https://host.example/v1"),
    ("http://[::1:bad/x?key=S", "http://[::1:bad/x"),
    ("user:pw@host/x?k=1", "host/x"),
    ("http://a@b@host/p?x", "http://host/p"),
    ("", ""),
])
def test_one_url_sanitiser(url: str, shown: str) -> None:
    assert strip_url_secrets(url) == shown


def test_errors_keep_ipv6_brackets() -> None:
    port = closed_port()
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": f"http://[::1]:{port}/inference", "max_retries": 0, "timeout": 2}))
    try:
        provider.connect("openai/gpt-4o")
        with pytest.raises(E.ProviderConnectionError) as info:
            provider.send_message("hi")
    finally:
        provider.shutdown()
    assert f"http://[::1]:{port}/inference" in str(info.value)


# ---- no object the library hands out holds the token ---------------------------------------------


def _errors_through_the_api(emulator: Emulator) -> list[BaseException]:
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": False, "max_retries": 0, "timeout": 5}))
    provider.connect("openai/gpt-4o")
    caught: list[BaseException] = []
    echo = f"bad credentials Bearer {TOKEN} (body {BODY})"
    plans: list[tuple[Reply, bool]] = [
        (Reply.error(401, echo), False),
        (Reply.error(401, {"error": {"code": "unauthorized", "message": echo}}), True),
        (Reply.error(403, echo), False),
        (Reply.error(429, {"error": {"code": "RateLimitReached", "message": echo}}), False),
        (Reply.error(400, {"error": {"code": "bad", "message": echo, "param": echo}}), False),
        (Reply.error(404, echo), False),
        (Reply.error(413, echo), False),
        (Reply.error(503, echo), False),
        (Reply.fault("in_stream_error", after=1, text=f"a {TOKEN} b"), True),
        (Reply.fault("drop_mid_stream", after=2, text=f"a {TOKEN} b c d"), True),
    ]
    for reply, stream in plans:
        emulator.script(reply)
        try:
            if stream:
                provider.send_message_streaming("go", lambda _t: None)
            else:
                provider.send_message("go")
        except E.GitHubModelsError as exc:
            caught.append(exc)
        emulator.clear_script()
    emulator.script(Reply.text(f"not json {TOKEN}"))
    try:
        provider.send_message("go", response_schema={"type": "object"})
    except E.GitHubModelsError as exc:
        caught.append(exc)
    provider.shutdown()
    offline: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": f"http://127.0.0.1:{closed_port()}/inference", "max_retries": 0}))
    offline.connect("openai/gpt-4o")
    try:
        offline.send_message("anyone?")
    except E.GitHubModelsError as exc:
        caught.append(exc)
    offline.shutdown()
    return caught


def test_pickled_errors_never_carry_the_token(emulator: Emulator) -> None:
    caught = _errors_through_the_api(emulator)
    assert len(caught) >= 10
    for exc in caught:
        data = pickle.dumps(exc)
        assert not leaks(data), type(exc).__name__
        again = pickle.loads(data)
        assert type(again) is type(exc) and str(again) == str(exc)


def test_pickled_responses_history_and_reprs_never_carry_the_token(emulator: Emulator) -> None:
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": False}))
    provider.connect("openai/gpt-4o")
    provider.create_session(system_instruction="Be brief.")
    handed_out: list[Any] = [provider.send_message("hello"),
                             provider.send_message_streaming("stream", lambda _t: None)]
    handed_out += [provider.get_history(), provider.get_token_usage(),
                   provider.get_session_usage(), provider.get_usage_summary()]
    try:
        for obj in handed_out:
            assert not leaks(pickle.dumps(obj)), type(obj).__name__
            assert not leaks(repr(obj))
        assert not leaks(repr(provider)) and not leaks(str(provider))
        assert not leaks(provider.serialize_history(provider.get_history()))
    finally:
        provider.shutdown()


# ---- the emulator's request log ------------------------------------------------------------------


def test_emulator_request_log_redacts_every_credential(emulator: Emulator) -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}", "api-key": TOKEN, "x-api-key": TOKEN,
        "Cookie": f"session={TOKEN}", "Proxy-Authorization": f"Basic {TOKEN}",
        "x-ms-foo-key": TOKEN, "Ocp-Apim-Subscription-Key": TOKEN, "X-Auth-Token": TOKEN,
        "x-client-secret": TOKEN, "Content-Type": "application/json",
    }
    query = f"api-version=1&key={TOKEN}&access_token={TOKEN}&sig={TOKEN}&code={TOKEN}"
    request = urllib.request.Request(
        f"{emulator.inference_url}/chat/completions?{query}", method="POST", headers=headers,
        data=b'{"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}')
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    recorded = emulator.requests[-1]
    assert not leaks(repr(recorded))
    assert recorded.headers["authorization"] == "Bearer github_pat_…"
    assert recorded.headers["proxy-authorization"] == "Basic github_pat_…"
    assert recorded.query["api-version"] == "1"  # ordinary values stay readable
    assert recorded.headers["content-type"] == "application/json"


# ---- organization and enterprise: refused, never rewritten ---------------------------------


@pytest.mark.parametrize(("setting", "value", "expected"), [
    ("organization", "my-org", "my-org"),
    ("organization", " https://github.com/my-org/ ", "my-org"),
    ("organization", "github.com/my-org", "my-org"),
    ("organization", "https://github.com/orgs/my-org", "my-org"),
    ("organization", "https://github.com/organizations/my-org", "my-org"),
    ("enterprise", "x", "x"),
    ("enterprise", "https://github.com/enterprises/x", "x"),
    ("enterprise", "github.com/enterprises/my-ent/", "my-ent"),
])
def test_documented_org_and_enterprise_forms_are_accepted(setting: str, value: str,
                                                          expected: str) -> None:
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": "http://127.0.0.1:9/inference", setting: value}))
    assert getattr(provider.settings, setting) == expected
    provider.shutdown()


@pytest.mark.parametrize(("setting", "value"), [
    ("organization", "a/b"), ("organization", "../x"), ("organization", "my-org/../other"),
    ("organization", "https://evil.example/my-org"), ("organization", "https://github.com/a/b"),
    ("organization", "https://github.com/enterprises/x"), ("organization", "github.com/orgs/a/b"),
    ("organization", "https://user:pw@github.com/my-org"), ("organization", "http://github.com:8080/x"),
    ("organization", "https://github.com/my-org?x=1"), ("organization", "my_org"),
    ("organization", "https://github.com/.."), ("organization", "a\\b"),
    ("enterprise", "https://github.com/x"), ("enterprise", "a/b"), ("enterprise", ".."),
    ("enterprise", "https://gitlab.com/enterprises/x"), ("enterprise", "https://github.com/orgs/x"),
])
def test_other_org_and_enterprise_forms_are_refused_naming_the_setting(setting: str,
                                                                        value: str) -> None:
    with pytest.raises(E.ConfigurationError) as info:
        load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
            "endpoint": "http://127.0.0.1:9/inference", setting: value}))
    assert info.value.setting == setting
    assert f"{setting} setting" in str(info.value)
    assert "user:pw" not in str(info.value)  # user info is not quoted


# ---- an echo of the token by a model or gateway never comes back out of the library ------------


@pytest.mark.parametrize("cut", [3, 11, 15, 30, len(TOKEN) - 1])
def test_an_echoed_token_is_masked_in_everything_the_library_hands_out(cut: int) -> None:
    from tests.adversarial.hostile import completion_body, send_json

    with HostileServer() as server:
        provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
            "endpoint": server.url, "pacing": False, "max_retries": 0, "timeout": 5}))
        provider.connect("openai/gpt-4o")
        server.script(send_json(completion_body(f"your token is {TOKEN}, body {BODY}")))
        plain = provider.send_message("echo")
        pieces = ["big ", TOKEN[:cut], TOKEN[cut:], " and ", BODY[:5], BODY[5:], " gith"]
        server.script(send_sse(sse_text_chunks(pieces)))
        chunks: list[str] = []
        streamed = provider.send_message_streaming("echo again", chunks.append)
        history = provider.get_history()
        try:
            for obj in (plain, plain.raw, streamed, streamed.raw, history, chunks):
                assert not leaks(pickle.dumps(obj)), obj
            assert not leaks(provider.serialize_history(history))
            assert plain.text == "your token is github_pat_…, body …"
            # every piece reached on_chunk, in order, with the token masked (" gith" is held
            # back until the end shows it is not a token)
            assert "".join(chunks) == streamed.text == "big github_pat_… and … gith"
        finally:
            provider.shutdown()


def test_an_endpoint_with_a_key_in_its_path_params_is_shown_without_it(
        hostile: HostileServer) -> None:
    # ";sig=..." (path parameters) can hold a key like a query: sent as configured, never shown
    from tests.adversarial.hostile import send_json

    endpoint = hostile.custom_url + ";sig=S3CRETSIGNATURE123"
    provider = load_provider("github_models", ProviderConfig(
        api_key="8f3a9c27d41b4e6f9a0c5d2e7b18f4a3",
        extra={"endpoint": endpoint, "max_retries": 0, "pacing": False, "env_file": False}))
    try:
        provider.connect("gpt-4o")
        hostile.script(send_json({"error": {"code": "bad_request", "message": "no messages"}},
                                 400))
        said: list[str] = []
        assert provider.verify_auth(on_message=said.append)
        runner = provider._require_runner()
        with pytest.raises(E.ConfigurationError) as no_catalog:  # a gateway has no catalog
            provider.fetch_catalog_entries()
        shown = "\n".join([*said, repr(runner.transport), repr(provider), str(no_catalog.value)])
        assert said and "S3CRET" not in shown, shown
    finally:
        provider.shutdown()
