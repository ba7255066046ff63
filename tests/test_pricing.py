"""Token units and USD cost (GitHub billing docs' worked example)."""

from __future__ import annotations

import pytest

from shared.plugins.model_provider.github_models.models.catalog import static_catalog
from shared.plugins.model_provider.github_models.models.pricing import (
    TOKEN_UNIT_PRICE_USD,
    ModelPricing,
    UsageCost,
    cost_usd,
    token_units,
)

GPT_4O = ModelPricing(input=0.25, cached_input=0.125, output=1.0)


def test_worked_example_from_the_docs() -> None:
    assert token_units(GPT_4O, 1_000_000, 1_000_000) == 1_250_000
    assert cost_usd(GPT_4O, 1_000_000, 1_000_000) == 12.50
    assert TOKEN_UNIT_PRICE_USD == 0.00001


def test_worked_example_with_catalog_multipliers() -> None:
    pricing = static_catalog().require("openai/gpt-4o").pricing
    assert pricing == GPT_4O
    assert cost_usd(pricing, 1_000_000, 1_000_000) == 12.50


def test_cached_tokens_are_part_of_the_prompt_and_cheaper() -> None:
    # 1M prompt of which 400k cached: 600k x 0.25 + 400k x 0.125 = 200k units.
    assert token_units(GPT_4O, 1_000_000, 0, cached_tokens=400_000) == 200_000


def test_no_cached_price_bills_cached_tokens_as_input() -> None:
    phi4 = ModelPricing(input=0.0125, cached_input=None, output=0.05)
    assert token_units(phi4, 1000, 0, cached_tokens=1000) == token_units(phi4, 1000, 0)


@pytest.mark.parametrize(
    ("prompt", "output", "cached"), [(-1, 0, 0), (0, -1, 0), (10, 0, 11), (0, 0, -1)]
)
def test_bad_counts_raise(prompt: int, output: int, cached: int) -> None:
    with pytest.raises(ValueError):
        token_units(GPT_4O, prompt, output, cached)


def test_negative_multiplier_raises() -> None:
    with pytest.raises(ValueError, match="input"):
        ModelPricing(input=-1, cached_input=None, output=1)


def test_dict_round_trip_and_bad_dict() -> None:
    assert ModelPricing.from_dict(GPT_4O.to_dict()) == GPT_4O
    with pytest.raises(ValueError):
        ModelPricing.from_dict({"input": 1})


def test_usage_cost_adds_up() -> None:
    one = UsageCost.compute(GPT_4O, 500_000, 500_000)
    total = one + one
    assert total == UsageCost.compute(GPT_4O, 1_000_000, 1_000_000)
    assert total.usd == 12.50
    assert total.token_units == 1_250_000
