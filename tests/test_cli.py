"""``jaato-github-models`` run as a user runs it: a subprocess against a real emulator."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from shared import __version__
from shared.plugins.model_provider.github_models.cli.chat_runner import cancel_on_sigint
from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.models.catalog import static_catalog
from shared.plugins.model_provider.types import CancelToken

MODULE = "shared.plugins.model_provider.github_models.cli"
# Distinctive, so that any leak is unmistakable; only "github_pat_…" may ever be shown.
SECRET_BODY = "11CLISECRETdoNotPrint_Zq7Xw9Yv3Ut5Ss1Rr"
TOKEN = "github_pat_" + SECRET_BODY
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cli_env(tmp_path: Path, endpoint: str | None, token: str | None = TOKEN,
            **extra: str) -> dict[str, str]:
    """The subprocess environment: the test's (already scrubbed of JAATO_*/tokens) plus ours."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    if token is not None:
        env["GITHUB_TOKEN"] = token
    if endpoint is not None:
        env["JAATO_GITHUB_ENDPOINT"] = endpoint
    env.update(extra)
    return env


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET_BODY not in text
        assert TOKEN not in text


def run_cli(tmp_path: Path, *args: str, endpoint: str | None = None, token: str | None = TOKEN,
            stdin: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", MODULE, *args], input=stdin, capture_output=True, text=True,
        env=env or cli_env(tmp_path, endpoint, token), timeout=timeout, check=False)
    assert_no_secret(result.stdout, result.stderr)
    return result


def chat_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/chat/completions")]


# ---------------------------------------------------------------- conventions


def test_help_version_and_usage_errors(tmp_path: Path) -> None:
    top = run_cli(tmp_path, "--help", token=None)
    assert top.returncode == 0
    for command in ("chat", "models", "doctor", "emulator"):
        assert command in top.stdout
    version = run_cli(tmp_path, "--version", token=None)
    assert (version.returncode, version.stdout.strip()) == (0, f"jaato-github-models {__version__}")
    for command in ("chat", "models", "doctor", "emulator"):
        sub = run_cli(tmp_path, command, "--help", token=None)
        assert sub.returncode == 0, sub.stderr
        assert sub.stdout.startswith(f"usage: jaato-github-models {command}")
    assert "--endpoint" in run_cli(tmp_path, "chat", "--help", token=None).stdout
    assert "--rate-limits" in run_cli(tmp_path, "emulator", "--help", token=None).stdout
    assert run_cli(tmp_path, token=None).returncode == 2  # no command: help, usage exit code
    bad = run_cli(tmp_path, "models", "--no-such-flag", token=None)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr


def test_errors_are_one_paragraph_without_traceback_unless_debug(tmp_path: Path) -> None:
    plain = run_cli(tmp_path, "chat", "hello", token=None,
                    endpoint="http://127.0.0.1:9/inference")
    assert plain.returncode == 1 and plain.stdout == ""
    assert plain.stderr.startswith("error: Looking for a GitHub token failed: no token was found")
    assert "Fix: create a fine-grained personal access token" in plain.stderr
    assert "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1
    debug = run_cli(tmp_path, "chat", "--debug", "hello", token=None,
                    endpoint="http://127.0.0.1:9/inference")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "TokenNotFoundError" in debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1].startswith("error: Looking for a GitHub token")
    global_debug = run_cli(tmp_path, "--debug", "chat", "hello", token=None)
    assert "Traceback" in global_debug.stderr


def test_bad_option_value_is_reported_before_any_request(tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "--temperature", "5", "hi", endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert "error: Checking the request option temperature=5.0 failed" in result.stderr
    assert chat_requests(emulator) == []


def test_option_range_is_the_endpoints_own(tmp_path: Path, emulator: Any) -> None:
    # 1.5 is inside a gateway's [0, 2], so the CLI's own check lets it through; the provider then
    # refuses it for a GitHub-shaped endpoint, naming that endpoint's range, before any request
    result = run_cli(tmp_path, "chat", "--temperature", "1.5", "hi",
                     endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert "[0, 1] for a GitHub Models endpoint" in result.stderr, result.stderr
    assert chat_requests(emulator) == []


def test_endpoint_kind_flag_picks_the_profile_and_its_range(tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "--endpoint-kind", "foundry", "-m", "openai/gpt-4o",
                     "--temperature", "1.5", "hi", endpoint=emulator.url + "/models")
    assert result.returncode == 0, result.stderr
    (sent,) = chat_requests(emulator)
    assert sent.body["temperature"] == 1.5 and "api-key" in sent.headers
    bad = run_cli(tmp_path, "chat", "--endpoint-kind", "azure", "hi", endpoint=emulator.url)
    assert bad.returncode == 2 and "--endpoint-kind" in bad.stderr


def test_every_endpoint_kind_is_accepted_by_the_flag_and_named_in_its_help(
        tmp_path: Path, emulator: Any) -> None:
    # the CLI once kept its own list of kinds and refused openai_v1; now it asks kinds.profiles
    from shared.plugins.model_provider.github_models.cli.arguments import KINDS_SHOWN
    from shared.plugins.model_provider.github_models.kinds.profiles import ENDPOINT_KINDS

    shown = {k.strip() for k in KINDS_SHOWN.replace(" or ", ", ").split(",")}
    assert shown == {"auto", *ENDPOINT_KINDS}
    # a Foundry v1 deployment name on a proxy whose URL does not say v1: the flag says it
    result = run_cli(tmp_path, "chat", "--endpoint-kind", "openai_v1", "-m", "gpt-4o", "hi",
                     endpoint=emulator.url + "/openai/v1")
    assert result.returncode == 0, result.stderr
    (sent,) = chat_requests(emulator)
    assert "api-key" in sent.headers and "api-version" not in sent.path
    help_text = run_cli(tmp_path, "chat", "--help", token=None).stdout
    assert "openai_v1" in " ".join(help_text.split())


def test_doctor_does_not_print_a_key_set_in_another_setting(tmp_path: Path) -> None:
    # JAATO_GITHUB_CATALOG set to the key by mistake: doctor checks the settings before it
    # opens the provider (a Foundry key has no token shape)
    key = "8f3a9c27d41b4e6f9a0c5d2e7b18f4a3"
    result = run_cli(tmp_path, "doctor", env=cli_env(tmp_path, "http://127.0.0.1:9/models",
                                                     token=key, JAATO_GITHUB_CATALOG=key))
    assert "not static or live" in result.stdout + result.stderr
    assert key[:8] not in result.stdout + result.stderr


def test_a_key_passed_as_the_endpoint_kind_is_not_echoed(tmp_path: Path) -> None:
    # the value of a mistyped command line (`--endpoint-kind $AZURE_KEY`); a Foundry key has no
    # token shape, so only not echoing it keeps it off the terminal
    key = "8f3a9c27d41b4e6f9a0c5d2e7b18f4a3"
    bad = run_cli(tmp_path, "doctor", "--endpoint-kind", key, token=key,
                  endpoint="http://127.0.0.1:9/models")
    assert bad.returncode == 2 and "--endpoint-kind" in bad.stderr
    assert key[:8] not in bad.stdout + bad.stderr, bad.stderr


# ---------------------------------------------------------------- chat


def test_one_shot_chat_streams_text_then_usage_and_cost(tmp_path: Path, emulator: Any) -> None:
    emulator.script(Reply.text("Bonjour tout le monde", usage=(10, 4)))
    result = run_cli(tmp_path, "chat", "--system", "Be brief.", "Say", "hello",
                     endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Bonjour tout le monde\n"
    # openai/gpt-4o: 10 x 0.25 + 4 x 1.0 = 6.5 token units = $0.000065
    assert "[10 in + 4 out = 14 tokens, $0.000065 · session: 14 tokens, 1 request · " \
           "est. $0.000065 (6.5 token units)]" in result.stderr
    (request,) = chat_requests(emulator)
    assert request.body["stream"] is True and request.body["model"] == "openai/gpt-4o"
    assert request.body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert request.body["messages"][-1]["content"] == "Say hello"
    assert request.headers["authorization"] == "Bearer github_pat_…"


def test_usage_line_shows_cached_and_reasoning_tokens_and_cost(tmp_path: Path,
                                                              emulator: Any) -> None:
    # 100 prompt tokens on the wire, 40 of them cached; 10 out, 6 of them reasoning (jaato's
    # convention: "in" is the uncached input; reasoning is part of "out")
    emulator.script(Reply.text("ok", usage=(100, 4), cached_tokens=40, reasoning_tokens=6))
    result = run_cli(tmp_path, "chat", "hi", endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    # gpt-4o: 60 x 0.25 + 40 x 0.125 + 10 x 1.0 = 30 token units = $0.0003
    assert "[60 in + 40 cached + 10 out (6 reasoning) = 110 tokens, $0.0003 · " in result.stderr
    emulator.script(Reply.text("ok", usage=(100, 4), cached_tokens=40, reasoning_tokens=6))
    data = json.loads(run_cli(tmp_path, "chat", "--json", "hi",
                              endpoint=emulator.inference_url).stdout)
    assert data["usage"] == {"prompt_tokens": 60, "output_tokens": 10, "total_tokens": 110,
                             "cache_read_tokens": 40, "reasoning_tokens": 6,
                             "cost_usd": pytest.approx(0.0003)}
    assert data["session"]["cache_read_tokens"] == 40


def test_model_precedence_flag_over_env_over_default(tmp_path: Path, emulator: Any) -> None:
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_MODEL="openai/gpt-4.1-mini")
    assert run_cli(tmp_path, "chat", "hi", env=env).returncode == 0
    assert run_cli(tmp_path, "chat", "-m", "openai/gpt-4o-mini", "hi", env=env).returncode == 0
    (tmp_path / ".env").write_text("JAATO_GITHUB_MODEL=openai/gpt-4.1-nano\n")
    assert run_cli(tmp_path, "chat", "hi", endpoint=emulator.inference_url).returncode == 0
    models = [r.body["model"] for r in chat_requests(emulator)]
    assert models == ["openai/gpt-4.1-mini", "openai/gpt-4o-mini", "openai/gpt-4.1-nano"]


def test_chat_json_has_text_usage_cost_and_attribution(tmp_path: Path, emulator: Any) -> None:
    emulator.script(Reply.text("ok", usage=(100, 10)))
    result = run_cli(tmp_path, "chat", "--json", "--org", "acme", "hi",
                     endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"] == "ok" and data["finish_reason"] == "stop"
    assert data["usage"] == {"prompt_tokens": 100, "output_tokens": 10, "total_tokens": 110,
                             "cost_usd": pytest.approx(0.00035)}
    assert data["session"]["token_units"] == 35.0  # 100 x 0.25 + 10 x 1.0
    assert data["session"]["cost_usd"] == pytest.approx(0.00035)
    assert data["provider"]["attributed_to"] == "acme"
    assert chat_requests(emulator)[0].path == "/orgs/acme/inference/chat/completions"


def test_interactive_chat_keeps_history_and_runs_commands(tmp_path: Path, emulator: Any) -> None:
    script = ("hello\n/usage\n/model openai/gpt-4o-mini\nsecond\n/model nope/unknown\n"
              "/reset\n/usage\n/help\n/quit\nnever sent\n")
    result = run_cli(tmp_path, "chat", stdin=script, endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Echo: hello"
    assert "Echo: second" in lines
    usage_lines = [line for line in lines if line.startswith("session:")]
    assert usage_lines[0].startswith("session:  1 request, ")
    assert usage_lines[1].startswith("session:  0 requests, ")  # /reset starts a new session
    assert "billed to: the token's user" in result.stdout
    assert "model: openai/gpt-4o-mini" in result.stderr
    assert "error: Selecting model nope/unknown" in result.stderr  # the session survived it
    assert "conversation reset" in result.stderr and "/model NAME" in result.stderr
    _first, second = chat_requests(emulator)
    assert second.body["model"] == "openai/gpt-4o-mini"
    assert [m["content"] for m in second.body["messages"]] == [
        "hello", "Echo: hello", "second"]  # history kept across /model


def test_failed_turn_does_not_end_an_interactive_session(tmp_path: Path, emulator: Any) -> None:
    emulator.script(Reply.error(400, {"error": {"code": "invalid_request",
                                                "message": "bad thing"}}))
    result = run_cli(tmp_path, "chat", stdin="one\ntwo\n", endpoint=emulator.inference_url)
    assert result.returncode == 0
    assert "error: " in result.stderr and "bad thing" in result.stderr
    assert result.stdout.strip().endswith("Echo: two")


def test_token_never_printed_even_when_the_model_echoes_it(tmp_path: Path,
                                                           emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", f"my token is {TOKEN}", endpoint=emulator.inference_url)
    assert result.returncode == 0
    assert "Echo: my token is github_pat_…" in result.stdout  # run_cli asserted no leak
    emulator.add_token("github_pat_good_" + "x" * 30)  # strict auth: ours is now rejected
    rejected = run_cli(tmp_path, "--debug", "chat", "hi", endpoint=emulator.inference_url)
    assert rejected.returncode == 1 and "Bad credentials" in rejected.stderr


def test_retired_service_error_says_what_to_set(tmp_path: Path, emulator: Any) -> None:
    emulator.set_mode("retired")
    result = run_cli(tmp_path, "chat", "hi", endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert "GitHub Models was retired on 2026-07-30" in result.stderr
    assert "JAATO_GITHUB_ENDPOINT" in result.stderr and "Traceback" not in result.stderr


def test_sigint_cancels_the_reply_not_the_session(tmp_path: Path, emulator: Any) -> None:
    words = " ".join(f"w{i}" for i in range(40))
    emulator.script(Reply.fault("slow_stream", interval=0.2, text=words))
    proc = subprocess.Popen(
        [sys.executable, "-m", MODULE, "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=cli_env(tmp_path, emulator.inference_url))
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        seen = b""
        deadline = time.monotonic() + 15
        while b"w1" not in seen and time.monotonic() < deadline:  # the stream has started
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                seen += os.read(proc.stdout.fileno(), 4096)
        assert b"w1" in seen, "the slow stream never started"
        proc.send_signal(signal.SIGINT)
        proc.stdin.write(b"/usage\n/quit\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    stdout, stderr = (seen + out).decode(), err.decode()
    assert_no_secret(stdout, stderr)
    assert proc.returncode == 0, stderr  # the session went on to /usage and /quit
    assert "[reply cancelled]" in stderr
    assert "w39" not in stdout  # cancelled well before the end (40 chunks x 0.2 s)
    assert "session:  1 request" in stdout


def test_cancel_on_sigint_cancels_the_token_then_interrupts() -> None:
    token = CancelToken()
    with cancel_on_sigint(token):
        signal.raise_signal(signal.SIGINT)
        assert token.is_cancelled
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_emulator_command_serves_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", MODULE, "emulator", "--mode", "retired"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(tmp_path, None, None))
    assert proc.stdout is not None
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        result = run_cli(tmp_path, "chat", "hi", endpoint=url + "/inference")
        assert result.returncode == 1 and "retired on 2026-07-30" in result.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# ---------------------------------------------------------------- models


def test_models_table_needs_no_token_or_network(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "models", "--prefix", "openai/gpt-4o", token=None)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "PUBLISHER", "TIER", "CONTEXT", "MAX", "OUT", "MODALITIES",
                              "CAPABILITIES"]
    assert [r.split()[0] for r in rows] == ["openai/gpt-4o", "openai/gpt-4o-mini"]
    assert rows[0].split()[1:6] == ["OpenAI", "high", "131,072", "16,384", "text+image+audio"]
    assert "streaming, tool-calling" in rows[0]
    assert "2 models (static model catalog)" in result.stderr
    assert not ANSI.search(result.stdout)  # not a TTY: no colour
    phi3 = run_cli(tmp_path, "models", "--prefix", "microsoft/Phi-3-mini-4k", token=None)
    assert phi3.stdout.splitlines()[1].split()[3:5] == ["4,096", "unknown"]  # not invented
    none = run_cli(tmp_path, "models", "--prefix", "nobody/", token=None)
    assert none.returncode == 1 and "no model id starts with" in none.stderr


def test_models_json_is_the_later_catalog_format(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "models", "--json", token=None)
    assert result.returncode == 0
    entries = json.loads(result.stdout)
    assert entries == static_catalog().to_api_entries()
    assert all({"limits", "capabilities", "registry", "version"} <= set(e) for e in entries)
    assert not any(k.startswith("x_") for e in entries for k in e)
    only = json.loads(run_cli(tmp_path, "models", "--json", "--prefix", "mistral-ai/",
                              token=None).stdout)
    assert only and all(e["id"].startswith("mistral-ai/") for e in only)


def test_models_live_uses_the_endpoint_then_the_disk_cache(tmp_path: Path,
                                                          emulator: Any) -> None:
    first = run_cli(tmp_path, "models", "--live", "--json", endpoint=emulator.inference_url)
    assert first.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)) == len(static_catalog())
    second = run_cli(tmp_path, "models", "--live", endpoint=emulator.inference_url)
    assert "(cached model catalog" in second.stderr
    assert [r.path for r in emulator.requests] == ["/catalog/models"]  # one fetch, then cache
    (cache_file,) = (tmp_path / "cache" / "jaato-github-models").glob("catalog-*.json")
    assert SECRET_BODY not in cache_file.read_text() and SECRET_BODY not in cache_file.name
    emulator.set_mode("retired")
    forced = run_cli(tmp_path, "models", "--live", "--refresh", endpoint=emulator.inference_url)
    assert forced.returncode == 0
    # reported once: what failed and what is listed instead
    assert forced.stderr.count("could not fetch the live model catalog") == 1
    assert "using the last fetched catalog" in forced.stderr
    assert "live catalog could not be fetched" not in forced.stderr


# ---------------------------------------------------------------- colour


def run_in_pty(tmp_path: Path, *args: str, **env: str) -> str:
    """stdout of the CLI when it is a terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", MODULE, *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.DEVNULL,
                            env=cli_env(tmp_path, None, None, **env))
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 20)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        proc.wait(timeout=20)
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    coloured = run_in_pty(tmp_path, "models", "--prefix", "openai/gpt-4o")
    assert ANSI.search(coloured) and "openai/gpt-4o" in coloured
    assert not ANSI.search(run_in_pty(tmp_path, "models", "--prefix", "openai/gpt-4o",
                                      NO_COLOR=""))
    assert not ANSI.search(run_in_pty(tmp_path, "models", "--prefix", "openai/gpt-4o",
                                      NO_COLOR="1"))


def test_tier_caps_and_pacing_can_be_turned_off_from_the_command_line(
        tmp_path: Path, emulator: Any) -> None:
    prompt = "word " * 4500  # over the 4000-token cap of gpt-5's free-tier row
    env = {**cli_env(tmp_path, emulator.inference_url, TOKEN),
           "JAATO_GITHUB_ENFORCE_TIER_LIMITS": "true"}  # on by default only for the retired host
    refused = run_cli(tmp_path, "chat", "-m", "openai/gpt-5", "-", stdin=prompt, env=env)
    assert refused.returncode == 1 and "tier accepts 4000 tokens" in refused.stderr
    assert "JAATO_GITHUB_ENFORCE_TIER_LIMITS=false" in refused.stderr  # a fix CLI users can do
    allowed = run_cli(tmp_path, "chat", "-m", "openai/gpt-5", "--no-tier-limits",
                      "--no-pacing", "-", stdin=prompt, env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert chat_requests(emulator)[-1].body["model"] == "openai/gpt-5"


def test_explicit_flags_a_model_refuses_are_errors_and_empty_stdin_is_refused(
        tmp_path: Path, emulator: Any) -> None:
    refused = run_cli(tmp_path, "chat", "-m", "openai/o3-mini", "--temperature", "0.5", "hi",
                      endpoint=emulator.inference_url)
    assert refused.returncode == 1
    assert "does not accept temperature" in refused.stderr and "Traceback" not in refused.stderr
    assert chat_requests(emulator) == []
    empty = run_cli(tmp_path, "chat", "-", stdin="", endpoint=emulator.inference_url)
    assert empty.returncode == 2 and "is empty" in empty.stderr


def test_models_live_refresh_fetches_once(tmp_path: Path, emulator: Any) -> None:
    env = cli_env(tmp_path, emulator.inference_url, TOKEN)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = run_cli(tmp_path, "models", "--live", "--refresh", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert [r.path for r in emulator.requests].count("/catalog/models") == 1
