"""``jaato-github-models embed`` as a user runs it: a subprocess against a real emulator."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.emulator.embeddings import count_tokens, vector

from .test_cli import MODULE, assert_no_secret, cli_env, run_cli

SMALL = "openai/text-embedding-3-small"

# (name, URL under the emulator's root, extra flags, the model as the user names it)
ENDPOINTS: list[tuple[str, str, list[str], str]] = [
    ("github", "/inference", [], SMALL),
    ("gateway", "/openai/v1", ["--endpoint-kind", "gateway"], "text-embedding-3-small"),
    ("foundry-v1", "/openai/v1", [], "text-embedding-3-small"),
]


def requests_to(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/embeddings")]


def close(a: list[float], b: list[float], tolerance: float = 1e-6) -> bool:
    return len(a) == len(b) and all(abs(x - y) < tolerance for x, y in zip(a, b, strict=True))


def floats(packed: bytes) -> list[float]:
    values = array("f")
    values.frombytes(packed)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


@pytest.mark.parametrize("row", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_embed_prints_one_json_vector_per_line(row: Any, tmp_path: Path, emulator: Any) -> None:
    _, path, flags, model = row
    result = run_cli(tmp_path, "embed", "-m", model, "-c", "hello world", "-c", "second text",
                     *flags, endpoint=emulator.url + path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, ["hello world", "second text"], strict=True):
        assert close(json.loads(line), vector(SMALL, text, 1536))
    tokens = count_tokens("hello world") + count_tokens("second text")
    assert f"2 texts, 1536 dimensions, {tokens} tokens, 1 request" in result.stderr
    assert [r.body["input"] for r in requests_to(emulator)] == [["hello world", "second text"]]


def test_stdin_is_one_text_and_lines_splits_it(tmp_path: Path, emulator: Any) -> None:
    one = run_cli(tmp_path, "embed", "--dimensions", "8", stdin="  a whole\nparagraph\n",
                  endpoint=emulator.inference_url)
    assert one.returncode == 0, one.stderr
    assert close(json.loads(one.stdout), vector(SMALL, "a whole\nparagraph", 8))
    source = tmp_path / "texts.txt"
    source.write_text("first line\n\n  \nsecond line\n", encoding="utf-8")
    many = run_cli(tmp_path, "embed", "-i", str(source), "--lines", "--dimensions", "8",
                   endpoint=emulator.inference_url)
    assert many.returncode == 0, many.stderr
    assert len(many.stdout.splitlines()) == 2
    assert requests_to(emulator)[-1].body["input"] == ["first line", "second line"]


def test_base64_hex_and_blob_formats(tmp_path: Path, emulator: Any) -> None:
    want = vector(SMALL, "pack me", 8)
    b64 = run_cli(tmp_path, "embed", "-c", "pack me", "--dimensions", "8", "-f", "base64",
                  endpoint=emulator.inference_url)
    assert b64.returncode == 0, b64.stderr
    assert close(floats(base64.b64decode(b64.stdout.strip())), want)
    hexed = run_cli(tmp_path, "embed", "-c", "pack me", "--dimensions", "8", "-f", "hex",
                    endpoint=emulator.inference_url)
    assert close(floats(bytes.fromhex(hexed.stdout.strip())), want)
    blob = subprocess.run([sys.executable, "-m", MODULE, "embed", "-c", "pack me",
                           "--dimensions", "8", "-f", "blob"], capture_output=True,
                          env=cli_env(tmp_path, emulator.inference_url), timeout=30, check=False)
    assert blob.returncode == 0, blob.stderr
    assert len(blob.stdout) == 32 and close(floats(blob.stdout), want)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["-c", "a", "-c", "b", "-f", "blob"], 2, "raw bytes of one vector"),
    (["-c", "x", "--lines"], 2, "--lines splits a file"),
    (["-i", "missing.txt"], 2, "cannot be read"),
    (["-c", "   "], 1, "empty or only whitespace"),
    (["-c", "x", "-m", "openai/gpt-4o"], 1, "chat model"),
    (["-c", "x", "-m", "cohere/Cohere-embed-v3-english", "--dimensions", "8"], 1,
     "fixed length"),
    (["-c", "x", "-m", "openai/no-such-embedder"], 1, "no-such-embedder"),
])
def test_bad_input_fails_before_any_request(args: list[str], code: int, message: str,
                                            tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "embed", *args, endpoint=emulator.inference_url)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert result.stdout == ""
    assert requests_to(emulator) == []


def test_refused_key_is_one_error_line_without_the_key(tmp_path: Path, emulator: Any) -> None:
    emulator.add_token("github_pat_someone_else")  # strict: the CLI's token is unknown
    result = run_cli(tmp_path, "embed", "-c", "x", endpoint=emulator.inference_url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "401" in result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert len(requests_to(emulator)) == 1


def test_help_lists_embed(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "embed", "--help", token=None)
    assert result.returncode == 0
    assert "--dimensions" in result.stdout and "--lines" in result.stdout
