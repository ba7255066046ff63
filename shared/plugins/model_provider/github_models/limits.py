"""The documented GitHub Models free-tier rate limits, per rate-limit tier.

Source: GitHub Docs, "Prototyping with AI models" (rate limits table, Copilot Free / Pro column),
transcribed into data. The catalog gives each model its tier (``low``, ``high``, ``embeddings``,
``custom``); ``custom`` models share the strictest documented row (o1, o3, gpt-5, DeepSeek-R1 ...:
1 request per minute, 8 per day, 4000 tokens in and out, 1 concurrent). These limits are advisory
for paid usage and custom endpoints: callers may override them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["FREE_TIER_LIMITS", "TierLimits", "limits_for_tier"]


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Limits of one rate-limit tier. ``None`` means unlimited."""

    tier: str
    requests_per_minute: int | None
    requests_per_day: int | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    concurrent_requests: int | None

    def with_overrides(self, **changes: Any) -> TierLimits:
        """A copy with some limits replaced. Raises TypeError on an unknown field."""
        return replace(self, **changes)


FREE_TIER_LIMITS: dict[str, TierLimits] = {
    "low": TierLimits("low", 15, 150, 8000, 4000, 5),
    "high": TierLimits("high", 10, 50, 8000, 4000, 2),
    "embeddings": TierLimits("embeddings", 15, 150, 64000, None, 5),
    "custom": TierLimits("custom", 1, 8, 4000, 4000, 1),
}

_UNLIMITED = TierLimits("unlimited", None, None, None, None, None)


def limits_for_tier(tier: str | None) -> TierLimits:
    """The free-tier limits of ``tier``; unknown tiers get no limits (never guess a cap)."""
    if tier is None:
        return _UNLIMITED
    return FREE_TIER_LIMITS.get(tier.lower(), replace(_UNLIMITED, tier=tier))
