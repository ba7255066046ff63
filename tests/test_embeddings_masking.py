"""``embed`` against a service that misbehaves: an echo of the key in an answer never reaches
the result, its repr or the CLI (the chat path masks ``raw`` the same way), and requests that
answer vectors of different lengths fail the call instead of making one mixed result."""

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


def answer(count: int, length: int) -> Reply:
    return Reply.error(200, {"object": "list", "model": "m",
                             "data": [{"object": "embedding", "index": i,
                                       "embedding": [0.5] * length} for i in range(count)],
                             "usage": {"prompt_tokens": count, "total_tokens": count}})


def test_requests_answering_vectors_of_different_lengths_fail_the_call(
        emulator: Any, make_provider: Any) -> None:
    # each answer is checked on its own; one call's vectors must also agree across requests
    from shared.plugins.model_provider.github_models.errors import ServiceUnavailableError

    emulator.script(answer(96, 1024), answer(1, 512))
    provider = make_provider(None, max_retries=0)
    texts = [f"text {i}" for i in range(97)]
    try:
        provider.embed(texts, model="cohere/Cohere-embed-v3-english")
    except ServiceUnavailableError as exc:
        assert "1024" in str(exc) and "512" in str(exc)
    else:
        raise AssertionError("vectors of 1024 and 512 floats came back as one result")
