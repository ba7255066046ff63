"""The emulator's command line serves scripted replies from a file and writes its request log to
a file, as people testing their own agents run it (a real process, the provider over HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import ProviderConfig, ToolSchema
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.emulator.script_file import (
    ScriptError,
    load_script,
)
from shared.plugins.model_provider.github_models.errors import RateLimitError
from tests.conftest import TEST_TOKEN

WEATHER = ToolSchema("get_weather", "Weather for a city", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
REPO = Path(__file__).resolve().parents[2]
MODULE = "shared.plugins.model_provider.github_models.emulator"

SCRIPT = """\
# replies, in order
{"text": "First, as scripted.", "usage": [11, 4]}
{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}

{"error": {"status": 429, "body": {"error": {"code": "RateLimitReached"}}, "headers": {}}}
{"text": "only for mini", "model": "openai/gpt-4o-mini"}
"""


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", MODULE, "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    script = tmp_path / "replies.jsonl"
    script.write_text(SCRIPT, encoding="utf-8")
    log = tmp_path / "requests.jsonl"
    proc = _start("--script", str(script), "--request-log", str(log))
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_replies_come_from_the_file_in_order_then_the_usual_answers(
        scripted: tuple[str, Path]) -> None:
    url, log = scripted
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": url + "/inference", "pacing": False, "max_retries": 0}))
    provider.connect("openai/gpt-4o")
    try:
        first = provider.generate("hi")
        assert first.text == "First, as scripted."
        assert (first.usage.prompt_tokens, first.usage.output_tokens) == (11, 4)
        provider.create_session("Use tools.", tools=[WEATHER])
        reply = provider.send_message("weather?")
        calls = reply.function_calls
        assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Paris"})]
        with pytest.raises(RateLimitError):
            provider.generate("again")
        assert provider.generate("plain").text == "Echo: plain"  # the script is used up
    finally:
        provider.shutdown()
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["path"] for line in lines] == ["/inference/chat/completions"] * 4
    assert lines[0]["body"]["messages"][-1]["content"] == "hi"
    text = log.read_text(encoding="utf-8")
    assert TEST_TOKEN not in text  # credentials redacted, as in the in-memory log


@pytest.mark.parametrize(("line", "complaint"), [
    ('{"txt": "hi"}', "exactly one of"),
    ('{"text": "a", "json": {}}', "found text, json"),
    ('{"tool_calls": []}', "non-empty list"),
    ('{"error": {"body": "x"}}', '"status"'),
    ('{"fault": "no_such_fault"}', "unknown fault kind"),
    ('{"text": "a", "usage": [1]}', "usage must be"),
    ("[1, 2]", "JSON object"),
    ("{not json", "line 1"),
])
def test_a_bad_script_line_is_refused_with_its_line_and_the_fix(
        tmp_path: Path, line: str, complaint: str) -> None:
    script = tmp_path / "bad.jsonl"
    script.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"bad\.jsonl, line 1") as info:
        load_script(script)
    assert complaint in str(info.value)
    assert "docs/emulator.md" in str(info.value)


def test_the_process_refuses_a_bad_script_before_serving(tmp_path: Path) -> None:
    script = tmp_path / "bad.jsonl"
    script.write_text('{"text": 5}\n', encoding="utf-8")
    proc = _start("--script", str(script))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert out == ""
    assert "bad.jsonl, line 1: text must be text" in err
    missing = _start("--script", str(tmp_path / "nope.jsonl"))
    _, err = missing.communicate(timeout=30)
    assert missing.returncode == 2 and "nope.jsonl" in err
