"""Advice in CLI terms, the first-run message, and the papercuts of issue 14, each as a user
meets it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared import CancelToken, ProviderConfig, load_provider
from shared.plugins.model_provider.github_models.cli.advice import cli_terms
from shared.plugins.model_provider.github_models.config.options import (
    adapt_for_model,
    validate_options,
)
from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.errors import (
    ErrorContext,
    GitHubModelsError,
    error_from_connection,
    model_not_found,
    token_not_found,
)
from shared.plugins.model_provider.github_models.wire.fitting import too_large

from .test_cli import TOKEN, chat_requests, cli_env, run_cli

PYTHON_TERMS = re.compile(r"extra\[|list_models\(\)|ProviderConfig|connect\(\)|create_session|"
                          r"response_schema|config\.api_key|max_tokens <=|e\.g\. stop=\[|"
                          r"e\.g\. modalities=\[|leave \w+ unset")


def _messages() -> list[str]:
    """Real messages of the provider that carry Python-API advice."""
    ctx = ErrorContext(endpoint="http://127.0.0.1:1/inference", model="openai/gpt-4o",
                       known_models=("openai/gpt-4o",))
    found: list[str] = [str(token_not_found([("ProviderConfig.api_key", "not set"),
                                             ("environment variable GITHUB_TOKEN", "not set")])),
                        str(model_not_found("nope/x", ctx)),
                        str(too_large(9000, 8000, "tier", 0, model="openai/gpt-4o",
                                      tier="high", window=131072)),
                        str(too_large(9000, 8000, "model", 0, model="openai/gpt-4o",
                                      tier="high", window=8000))]
    for kind in ("read_timeout", "connect_timeout"):
        found.append(str(error_from_connection(kind, "slow", ctx)))
    for options in ({"stop": []}, {"modalities": ["x"]}, {"response_format": "xml"},
                    {"response_format": {"type": "json_schema"}}):
        with pytest.raises(GitHubModelsError) as info:
            validate_options(options)
        found.append(str(info.value))
    for call in ({"temperature": 0.5}, {"max_tokens": 99999}):
        with pytest.raises(GitHubModelsError) as info:
            adapt_for_model({}, call, model="openai/o3-mini", token_param="max_tokens",
                            supports_temperature=False, max_output_tokens=100)
        found.append(str(info.value))
    found.append("set JAATO_GITHUB_ENDPOINT or extra['endpoint'] to a working endpoint; "
                 "JAATO_GITHUB_ORGANIZATION (extra['organization']); choose another model or "
                 "deployment on this endpoint (connect() with its id); as config.api_key or "
                 "GITHUB_TOKEN; pass the key as ProviderConfig.api_key or GITHUB_TOKEN instead")
    return found


def test_every_python_term_becomes_a_flag_command_or_variable() -> None:
    messages = _messages()
    assert all(PYTHON_TERMS.search(m) for m in messages)  # the provider speaks Python ...
    for message in messages:  # ... the CLI does not
        assert not PYTHON_TERMS.search(cli_terms(message)), cli_terms(message)
    joined = " ".join(cli_terms(m) for m in messages)
    for term in ("`jaato-github-models models`", "--endpoint URL", "--org", "--model ID",
                 "--no-tier-limits", "JAATO_GITHUB_TIMEOUT", "--schema", "--max-tokens 100",
                 "-o stop", "GITHUB_TOKEN"):
        assert term in joined, term


def test_first_run_leads_with_the_retirement_the_endpoint_flag_and_the_emulator(
        tmp_path: Path) -> None:
    result = run_cli(tmp_path, "chat", "hello", token=None)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: Nothing is configured yet, and GitHub Models "
                                    "itself was retired on 2026-07-30")
    assert "--endpoint URL" in result.stderr and "jaato-github-models emulator" in result.stderr
    assert "ProviderConfig" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_configured_endpoint_without_a_token_asks_for_the_token_in_cli_terms(
        tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "hello", token=None, endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: Looking for a GitHub token failed")
    assert "GITHUB_TOKEN" in result.stderr and not PYTHON_TERMS.search(result.stderr)


def test_errors_of_a_run_name_commands_not_methods(tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "-m", "nope/unknown", "hi",
                     endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert "`jaato-github-models models`" in result.stderr
    assert not PYTHON_TERMS.search(result.stderr)


def test_on_a_custom_endpoint_advice_names_deployments_not_the_catalog(tmp_path: Path,
                                                                       emulator: Any) -> None:
    custom = emulator.url  # no /inference: a Foundry- or gateway-shaped endpoint
    chat = run_cli(tmp_path, "chat", "-m", "acme/my-deployment", "hi", endpoint=custom)
    assert chat.returncode == 1
    assert "deployment or model name this endpoint serves" in chat.stderr
    assert "list valid ids with" not in chat.stderr
    code = run_cli(tmp_path, "doctor", "--json", "-m", "acme/my-deployment", endpoint=custom)
    model = {c["id"]: c for c in json.loads(code.stdout)["checks"]}["model"]
    assert model["status"] == "FAIL"
    assert "Deployments page" in model["next"] and "list valid ids" not in model["next"]


# ---------------------------------------------------------------- papercuts


def test_usage_after_reset_shows_a_zero_cost_not_a_missing_price(tmp_path: Path,
                                                                 emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", stdin="hello\n/reset\n/usage\n",
                     endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    (session,) = [ln for ln in result.stdout.splitlines() if ln.startswith("session:")]
    assert session == "session:  0 requests, 0 prompt + 0 output = 0 tokens, est. $0.00"
    assert "openai/gpt-4o: 1 request" in result.stdout  # the provider row below it


def test_a_cancelled_reply_reports_estimated_usage(emulator: Any) -> None:
    emulator.script(Reply.fault("slow_stream", interval=0.05,
                                text=" ".join(f"w{i}" for i in range(40))))
    provider = load_provider("github_models", ProviderConfig(
        api_key=TOKEN, extra={"endpoint": emulator.inference_url}))
    try:
        provider.connect("openai/gpt-4o")
        token = CancelToken()
        seen: list[str] = []

        def on_chunk(text: str) -> None:
            seen.append(text)
            if len(seen) == 3:
                token.cancel()

        response = provider.send_message_streaming("go on", on_chunk, token)
        assert response.finish_reason.value == "cancelled"
        assert response.raw == {"usage_estimated": True}
        assert response.usage.prompt_tokens > 0 and response.usage.output_tokens > 0
        assert provider.get_session_usage().total_tokens == response.usage.total_tokens
    finally:
        provider.shutdown()


def test_an_empty_prompt_is_refused_not_taken_for_interactive(tmp_path: Path,
                                                             emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "", stdin="hello\n", endpoint=emulator.inference_url)
    assert result.returncode == 2 and "the prompt is empty" in result.stderr
    assert result.stdout == "" and chat_requests(emulator) == []
    spaces = run_cli(tmp_path, "chat", "  ", " ", endpoint=emulator.inference_url)
    assert spaces.returncode == 2


def test_models_refresh_needs_live(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "models", "--refresh", token=None)
    assert result.returncode == 2 and "needs --live" in result.stderr
    assert "models --live --refresh" in result.stderr and result.stdout == ""


def test_an_embedding_model_is_refused_before_a_chat_request(tmp_path: Path,
                                                             emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "-m", "openai/text-embedding-3-small", "hi",
                     endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert "is an embeddings model" in result.stderr and "--model" in result.stderr
    assert chat_requests(emulator) == []


def test_the_cli_prints_the_estimate_note_for_a_cancelled_reply(tmp_path: Path,
                                                                emulator: Any) -> None:
    import os
    import select
    import signal
    import subprocess
    import sys
    import time

    from .test_cli import MODULE

    emulator.script(Reply.fault("slow_stream", interval=0.2,
                                text=" ".join(f"w{i}" for i in range(40))))
    proc = subprocess.Popen([sys.executable, "-m", MODULE, "chat", "go"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env(tmp_path, emulator.inference_url))
    assert proc.stdout is not None
    try:
        seen, deadline = b"", time.monotonic() + 15
        while b"w1" not in seen and time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 0.5)[0]:
                seen += os.read(proc.stdout.fileno(), 4096)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = err.decode()
    assert proc.returncode == 130, stderr
    assert "[reply cancelled]" in stderr and "[0 in + 0 out" not in stderr
    assert "usage estimated: the reply was cancelled before the endpoint reported it" in stderr
