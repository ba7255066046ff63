"""Running token usage and its estimated cost.

Each response's usage is added to the session's and the provider's totals. Cost is an estimate
from the published GitHub Models multipliers (token units x $0.00001); models without a published
multiplier report ``None`` rather than a guess. Thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .._host import TokenUsage, input_tokens
from ..models.pricing import ModelPricing, token_units

__all__ = ["UsageTotals", "UsageTracker"]


@dataclass
class UsageTotals:
    """Totals over some requests."""

    requests: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    token_units: float = 0.0
    priced_requests: int = 0
    by_model: dict[str, dict[str, float]] = field(default_factory=dict)
    cache_read_tokens: int = 0  # input served from the prompt cache (not in prompt_tokens)
    reasoning_tokens: int = 0  # the part of output_tokens spent reasoning

    @property
    def cost_usd(self) -> float:
        """Estimated USD for the priced requests (token units x $0.00001)."""
        from ..models.pricing import TOKEN_UNIT_PRICE_USD

        return self.token_units * TOKEN_UNIT_PRICE_USD

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "requests": self.requests, "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens, "total_tokens": self.total_tokens,
            "token_units": round(self.token_units, 6), "cost_usd": round(self.cost_usd, 8),
            "priced_requests": self.priced_requests,
            "unpriced_requests": self.requests - self.priced_requests,
            "by_model": self.by_model,
            "cache_read_tokens": self.cache_read_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


class UsageTracker:
    """Adds up usage per model; one per session and one per provider."""

    def __init__(self, attributed_to: str | None = None) -> None:
        self.attributed_to = attributed_to
        self._totals = UsageTotals()
        self._lock = threading.Lock()

    def add(self, model: str, usage: TokenUsage, pricing: ModelPricing | None,
            units: float | None = None) -> None:
        """Record one response's usage (``units``: its token units, when already known).

        Raises:
            ValueError: As ``pricing.token_units`` (counts it cannot price).
        """
        all_in, cached = input_tokens(usage)
        if units is None and pricing is not None:
            units = token_units(pricing, all_in, usage.output_tokens, cached)
        with self._lock:
            t = self._totals
            t.requests += 1
            t.prompt_tokens += usage.prompt_tokens
            t.output_tokens += usage.output_tokens
            t.total_tokens += usage.total_tokens
            t.cache_read_tokens += cached
            t.reasoning_tokens += getattr(usage, "reasoning_tokens", None) or 0
            row = t.by_model.setdefault(model, {"requests": 0, "prompt_tokens": 0,
                                                "output_tokens": 0, "token_units": 0.0})
            row["requests"] += 1
            row["prompt_tokens"] += usage.prompt_tokens
            row["output_tokens"] += usage.output_tokens
            if units is not None:
                t.token_units += units
                t.priced_requests += 1
                row["token_units"] += units

    def totals(self) -> UsageTotals:
        """A snapshot copy of the totals."""
        with self._lock:
            t = self._totals
            return UsageTotals(t.requests, t.prompt_tokens, t.output_tokens, t.total_tokens,
                               t.token_units, t.priced_requests,
                               {k: dict(v) for k, v in t.by_model.items()},
                               t.cache_read_tokens, t.reasoning_tokens)
