"""count_tokens: an estimate that stays near the real tokenizer and never runs far low."""
# ruff: noqa: E501 - reference texts are kept verbatim, one per line

from __future__ import annotations

import pytest

from shared.plugins.model_provider.github_models.wire.tokens import (
    estimate_request_tokens,
    estimate_tokens,
)

# Real o200k_base counts, measured once with tools/measure_token_estimate.py's reference
# (npm gpt-tokenizer); the estimate must stay near them and lean high.
REFERENCE = [
    ("The quick brown fox jumps over the lazy dog.", 10),
    ("GitHub retired GitHub Models on 2026-07-30: every models.github.ai endpoint now answers 410 Gone. Point JAATO_GITHUB_ENDPOINT at a working endpoint, such as Microsoft Foundry.", 43),
    ("def resolve_endpoint(base: str, organization: str | None) -> tuple[str, str, bool]:\n    url = base.strip().rstrip(\"/\")\n    if url.endswith(\"/chat/completions\"):\n        url = url[: -len(\"/chat/completions\")]\n    return url, \"github\", False\n", 61),
    ("| setting | config | environment |\n|---|---|---|\n| token | `api_key` | `GITHUB_TOKEN` |\n| endpoint | `extra[\"endpoint\"]` | `JAATO_GITHUB_ENDPOINT` |\n", 46),
]


@pytest.mark.parametrize(("text", "real"), REFERENCE, ids=["prose", "notice", "code", "table"])
def test_estimate_is_within_the_documented_error(text: str, real: int) -> None:
    estimate = estimate_tokens(text)
    assert 0.9 * real <= estimate <= 1.25 * real, (estimate, real)


def test_empty_and_whitespace() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens(" ") == 0
    assert estimate_tokens("\n\n") == 1


def test_cjk_counts_per_character() -> None:
    assert estimate_tokens("明日の東京は曇り") == 8


def test_request_estimate_adds_message_overhead_images_and_tools() -> None:
    text_only = estimate_request_tokens([{"role": "user", "content": "hello"}])
    with_image = estimate_request_tokens([{"role": "user", "content": [
        {"type": "text", "text": "hello"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    with_tool = estimate_request_tokens([{"role": "user", "content": "hello"}],
                                        [{"type": "function", "function": {"name": "f"}}])
    assert text_only == 3 + 3 + 1
    assert with_image == text_only + 255
    assert with_tool > text_only
