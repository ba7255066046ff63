"""A service that echoes the key in an embeddings answer: the echo never reaches the result,
its repr or the CLI (the chat path masks ``raw`` the same way)."""

from __future__ import annotations

from typing import Any

from shared.plugins.model_provider.github_models.emulator import Reply

from .conftest import TEST_TOKEN

SMALL = "openai/text-embedding-3-small"


def echoing_answer(model: str) -> Reply:
    return Reply.error(200, {"object": "list", "model": model,
                             "data": [{"object": "embedding", "index": 0,
                                       "embedding": [0.25, 0.5]}],
                             "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def test_an_echoed_key_in_the_answers_model_is_masked(emulator: Any, make_provider: Any
                                                      ) -> None:
    emulator.script(echoing_answer(f"deployment-of-{TEST_TOKEN}"))
    provider = make_provider(None)
    result = provider.embed(["hello"], model=SMALL)
    assert result.vectors == [[0.25, 0.5]]
    body = TEST_TOKEN[len("github_pat_"):]
    assert body not in result.model and body not in repr(result)
    assert result.model.startswith("deployment-of-")


def test_the_cli_prints_no_echoed_key(emulator: Any, tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    from .conftest import REPO_ROOT

    emulator.script(echoing_answer(TEST_TOKEN))
    env = {**os.environ, "GITHUB_TOKEN": TEST_TOKEN, "JAATO_GITHUB_ENDPOINT":
           emulator.inference_url, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "shared.plugins.model_provider.github_models.cli", "embed",
         "-m", SMALL, "-c", "hello"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 0, done.stderr
    assert "[0.25, 0.5]" in done.stdout
    body = TEST_TOKEN[len("github_pat_"):]
    assert body not in done.stdout and body not in done.stderr
