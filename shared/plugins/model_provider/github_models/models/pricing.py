"""GitHub Models paid-usage pricing: per-model multipliers and the token-unit price.

GitHub bills "token units": input tokens x the model's input multiplier, plus cached input tokens x
its cached-input multiplier (when the model has one), plus output tokens x its output multiplier.
One token unit costs ``TOKEN_UNIT_PRICE_USD`` (USD 0.00001). Worked example from GitHub's billing
docs: GPT-4o (input 0.25, output 1.0), 1,000,000 tokens in and 1,000,000 out -> 1,250,000 units ->
USD 12.50.

The per-model multipliers live in the static catalog (``x_pricing``); this module is pure
arithmetic, without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TOKEN_UNIT_PRICE_USD",
    "ModelPricing",
    "UsageCost",
    "cost_usd",
    "token_units",
]

TOKEN_UNIT_PRICE_USD = 0.00001
"""Price of one token unit in USD (GitHub billing docs)."""

# Dividing by the exact integer keeps documented examples exact (1_250_000 units -> 12.5, not
# 12.500000000000002 as multiplying by the inexact float 0.00001 would give).
_TOKEN_UNITS_PER_USD = 100_000


@dataclass(frozen=True, slots=True)
class ModelPricing:
    """Multipliers of one model: token units charged per token.

    ``cached_input`` is ``None`` when the model has no cached-input price; cached tokens are then
    billed at the ``input`` multiplier.
    """

    input: float
    cached_input: float | None
    output: float

    def __post_init__(self) -> None:
        for label, value in (
            ("input", self.input),
            ("cached_input", self.cached_input),
            ("output", self.output),
        ):
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"pricing multiplier {label} must be a number >= 0, got {value!r}")

    def to_dict(self) -> dict[str, float | None]:
        """The catalog form: ``{"input", "cached_input", "output"}``."""
        return {"input": self.input, "cached_input": self.cached_input, "output": self.output}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelPricing:
        """Parse the catalog form.

        Raises:
            ValueError: a multiplier is missing, not a number, or negative.
        """
        try:
            cached = data.get("cached_input")
            return cls(
                input=float(data["input"]),
                cached_input=None if cached is None else float(cached),
                output=float(data["output"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"invalid pricing entry {dict(data)!r}") from exc


def token_units(
    pricing: ModelPricing, prompt_tokens: int, output_tokens: int, cached_tokens: int = 0
) -> float:
    """Token units billed for one request.

    Args:
        pricing: the model's multipliers.
        prompt_tokens: all input tokens, cached ones included (as ``usage.prompt_tokens``).
        output_tokens: completion tokens (reasoning tokens included).
        cached_tokens: the part of ``prompt_tokens`` served from the prompt cache.

    Raises:
        ValueError: a count is negative, or ``cached_tokens`` exceeds ``prompt_tokens``.
    """
    if prompt_tokens < 0 or output_tokens < 0 or cached_tokens < 0:
        raise ValueError("token counts must be >= 0")
    if cached_tokens > prompt_tokens:
        raise ValueError(
            f"cached_tokens ({cached_tokens}) cannot exceed prompt_tokens ({prompt_tokens})"
        )
    cached_rate = pricing.input if pricing.cached_input is None else pricing.cached_input
    return (
        (prompt_tokens - cached_tokens) * pricing.input
        + cached_tokens * cached_rate
        + output_tokens * pricing.output
    )


def cost_usd(
    pricing: ModelPricing, prompt_tokens: int, output_tokens: int, cached_tokens: int = 0
) -> float:
    """USD cost of one request (token units x ``TOKEN_UNIT_PRICE_USD``).

    Raises:
        ValueError: as ``token_units``.
    """
    return token_units(pricing, prompt_tokens, output_tokens, cached_tokens) / _TOKEN_UNITS_PER_USD


@dataclass(frozen=True, slots=True)
class UsageCost:
    """What one request (or a running total) cost."""

    prompt_tokens: int
    cached_tokens: int
    output_tokens: int
    token_units: float
    usd: float

    @classmethod
    def compute(
        cls, pricing: ModelPricing, prompt_tokens: int, output_tokens: int, cached_tokens: int = 0
    ) -> UsageCost:
        """Price one request.

        Raises:
            ValueError: as ``token_units``.
        """
        units = token_units(pricing, prompt_tokens, output_tokens, cached_tokens)
        return cls(prompt_tokens, cached_tokens, output_tokens, units, units / _TOKEN_UNITS_PER_USD)

    def __add__(self, other: UsageCost) -> UsageCost:
        """The sum of two costs (for running totals)."""
        if not isinstance(other, UsageCost):
            return NotImplemented
        units = self.token_units + other.token_units
        return UsageCost(
            self.prompt_tokens + other.prompt_tokens,
            self.cached_tokens + other.cached_tokens,
            self.output_tokens + other.output_tokens,
            units,
            units / _TOKEN_UNITS_PER_USD,
        )
