"""The documented GitHub Models free-tier rate limits, per rate-limit tier.

Source: GitHub Docs, "Prototyping with AI models" (rate limits table, Copilot Free / Pro column),
transcribed into data. The catalog gives each model its tier (``low``, ``high``, ``embeddings``,
``custom``); ``custom`` models each have their own documented row (``custom:<model>``:
o1/o3/gpt-5 1 a minute and 8 a day, the mini reasoning models 2 and 12, grok-3-mini 2 and 30
...); a custom model without a row gets the strictest one. These limits are advisory for paid
usage and custom endpoints: callers may override them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["FREE_TIER_LIMITS", "TierLimits", "limits_for_tier", "limits_key"]


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Limits of one rate-limit tier. ``None`` means unlimited."""

    tier: str
    requests_per_minute: int | None
    requests_per_day: int | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    concurrent_requests: int | None
    # Tokens a minute (prompt estimate + completion cap at the start, real usage once known).
    # No free-tier row sets it; Microsoft Foundry deployments do (extra['rate_limits']).
    tokens_per_minute: int | None = None

    def with_overrides(self, **changes: Any) -> TierLimits:
        """A copy with some limits replaced. Raises TypeError on an unknown field."""
        return replace(self, **changes)


FREE_TIER_LIMITS: dict[str, TierLimits] = {
    "low": TierLimits("low", 15, 150, 8000, 4000, 5),
    "high": TierLimits("high", 10, 50, 8000, 4000, 2),
    "embeddings": TierLimits("embeddings", 15, 150, 64000, None, 5),
    "custom": TierLimits("custom", 1, 8, 4000, 4000, 1),
}

# The "custom" tier is a family of per-model rows in the same table (Copilot Free column; the
# Copilot Pro column where Free says "not applicable"). Keys are "custom:<bare model name>".
_CUSTOM_ROWS: dict[tuple[str, ...], tuple[int, int, int, int, int]] = {
    ("o1", "o1-preview", "o3", "gpt-5"): (1, 8, 4000, 4000, 1),
    ("o1-mini", "o3-mini", "o4-mini", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat"):
        (2, 12, 4000, 4000, 1),
    ("deepseek-r1", "deepseek-r1-0528", "mai-ds-r1"): (1, 8, 4000, 4000, 1),
    ("grok-3",): (1, 15, 4000, 4000, 1),
    ("grok-3-mini",): (2, 30, 4000, 8000, 1),
}
for _names, (_rpm, _rpd, _tin, _tout, _conc) in _CUSTOM_ROWS.items():
    for _name in _names:
        FREE_TIER_LIMITS[f"custom:{_name}"] = TierLimits(f"custom:{_name}", _rpm, _rpd, _tin,
                                                         _tout, _conc)

_UNLIMITED = TierLimits("unlimited", None, None, None, None, None)


def limits_key(model_id: str | None, tier: str | None) -> str | None:
    """The limits row of a model: its own row for the special ``custom`` models
    (``custom:grok-3-mini``), else its tier."""
    if tier is None or tier.lower() != "custom" or not model_id:
        return tier
    key = "custom:" + model_id.rsplit("/", 1)[-1].lower()
    return key if key in FREE_TIER_LIMITS else tier


def limits_for_tier(tier: str | None) -> TierLimits:
    """The free-tier limits of ``tier``; unknown tiers get no limits (never guess a cap)."""
    if tier is None:
        return _UNLIMITED
    found = FREE_TIER_LIMITS.get(tier.lower())
    if found is None and ":" in tier:  # a per-model row we do not know: its family's limits
        found = FREE_TIER_LIMITS.get(tier.split(":", 1)[0].lower())
    return found or replace(_UNLIMITED, tier=tier)
