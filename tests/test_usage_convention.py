"""Usage in jaato-sdk 0.29's convention, over real HTTP against the emulator.

``prompt_tokens`` is the uncached input (``cache_read_tokens`` moved out of it),
``output_tokens`` includes ``reasoning_tokens``, ``total_tokens`` is as the service reported it,
``cost_usd`` is set where the pricing table knows the model.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared import Message, Part, Role, TokenUsage
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

LONG_SYSTEM = "You are a careful assistant. " * 200  # ~1400 tokens: the service caches it


def test_a_repeated_long_prefix_is_cache_read_not_prompt(make_provider: Any,
                                                         emulator: Emulator) -> None:
    provider = make_provider("openai/gpt-4o", enforce_tier_limits=False)
    provider.create_session(LONG_SYSTEM)
    first = provider.send_message("hello")
    assert first.usage.cache_read_tokens is None  # nothing reported: None, not 0
    second = provider.send_message("and again")
    wire = emulator.requests[-1]
    assert wire.path.endswith("/chat/completions")
    usage = second.usage
    assert usage.cache_read_tokens and usage.cache_read_tokens % 128 == 0
    # prompt_tokens + cache_read_tokens is what the wire called prompt_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.cache_read_tokens \
        + usage.output_tokens
    # gpt-4o: input 0.25, cached 0.125, output 1.0 token units; a unit is $0.00001
    expected = (usage.prompt_tokens * 0.25 + usage.cache_read_tokens * 0.125
                + usage.output_tokens * 1.0) * 0.00001
    assert usage.cost_usd == pytest.approx(expected)
    totals = provider.get_session_usage()
    assert totals.cache_read_tokens == usage.cache_read_tokens
    assert totals.cost_usd == pytest.approx(first.usage.cost_usd + usage.cost_usd)


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_tokens_are_part_of_the_output(make_provider: Any, emulator: Emulator,
                                                 stream: bool) -> None:
    provider = make_provider("openai/o3-mini")
    reply = (provider.send_message_streaming("think", lambda _t: None) if stream
             else provider.send_message("think"))
    usage = reply.usage
    assert usage.reasoning_tokens == 64  # the emulator's hidden reasoning of o-series models
    assert usage.output_tokens > usage.reasoning_tokens  # the answer + the reasoning
    assert usage.cost_usd is None  # o3-mini has no published multipliers: no guess
    assert provider.get_session_usage().reasoning_tokens == 64


def test_stateless_complete_and_scripted_counts(make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider("openai/gpt-4o")
    emulator.script(Reply.text("ok", usage=(2000, 30), cached_tokens=1536, reasoning_tokens=0))
    result = provider.complete([Message(role=Role.USER, parts=[Part(text="hi")])])
    usage = result.response.usage
    assert (usage.prompt_tokens, usage.cache_read_tokens, usage.output_tokens,
            usage.total_tokens) == (464, 1536, 30, 2030)
    assert usage.reasoning_tokens is None  # not reported


def test_token_usage_round_trips_the_new_fields() -> None:
    usage = TokenUsage(prompt_tokens=5, output_tokens=7, total_tokens=20, cache_read_tokens=8,
                       reasoning_tokens=3, cost_usd=0.5)
    assert TokenUsage.from_dict(usage.to_dict()) == usage
    assert TokenUsage().to_dict() == {"prompt_tokens": 0, "output_tokens": 0, "total_tokens": 0}
