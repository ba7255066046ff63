"""The emulator's own copy of the free-tier rate limits GitHub published for GitHub Models.

Written from GitHub Docs, "Prototyping with AI models", rate limits table (github/docs
``content/github-models/use-github-models/prototyping-with-ai-models.md``), Copilot Free column,
the Copilot Pro column where Free says "Not applicable" (the o1/o3/gpt-5 families). It is kept apart
from the provider's ``limits.py`` on purpose: the emulator is the referee of the provider's pacing,
so a wrong number in the provider's table shows up as a test failure instead of being agreed with.
"""

from __future__ import annotations

from ..common.limits import TierLimits

__all__ = ["PUBLISHED_LIMITS", "published_limits"]

# (requests/minute, requests/day, tokens in per request, tokens out per request, concurrent)
_Row = tuple[int, int, int, int | None, int]

_TIERS: dict[str, _Row] = {
    "low": (15, 150, 8000, 4000, 5),
    "high": (10, 50, 8000, 4000, 2),
    "embeddings": (15, 150, 64000, None, 5),  # the docs say "Embedding"; the catalog "embeddings"
}

# The catalog's "custom" tier: one documented row per model family (bare model names).
_CUSTOM: dict[str, _Row] = {
    **dict.fromkeys(("o1-preview",), (1, 8, 4000, 4000, 1)),  # Pro column
    **dict.fromkeys(("o1", "o3", "gpt-5"), (1, 8, 4000, 4000, 1)),  # Pro column
    **dict.fromkeys(("o1-mini", "o3-mini", "o4-mini", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat"),
                    (2, 12, 4000, 4000, 1)),  # Pro column
    **dict.fromkeys(("deepseek-r1", "deepseek-r1-0528", "mai-ds-r1"), (1, 8, 4000, 4000, 1)),
    **dict.fromkeys(("grok-3",), (1, 15, 4000, 4000, 1)),
    **dict.fromkeys(("grok-3-mini",), (2, 30, 4000, 8000, 1)),
}
_STRICTEST_CUSTOM: _Row = (1, 8, 4000, 4000, 1)


def _limits(name: str, row: _Row) -> TierLimits:
    rpm, rpd, tin, tout, conc = row
    return TierLimits(name, rpm, rpd, tin, tout, conc)


PUBLISHED_LIMITS: dict[str, TierLimits] = {
    **{tier: _limits(tier, row) for tier, row in _TIERS.items()},
    "custom": _limits("custom", _STRICTEST_CUSTOM),
    **{f"custom:{name}": _limits(f"custom:{name}", row) for name, row in _CUSTOM.items()},
}


def published_limits(tier: str | None, model: str | None) -> TierLimits:
    """The published limits of ``model`` in ``tier``: its own row for a "custom" model with one,
    the strictest custom row for one without, no limits for an unknown tier."""
    if tier is None:
        return TierLimits("unlimited", None, None, None, None, None)
    tier = tier.lower()
    if tier == "custom" and model:
        own = PUBLISHED_LIMITS.get("custom:" + model.rsplit("/", 1)[-1].lower())
        if own is not None:
            return own
    return PUBLISHED_LIMITS.get(tier) or TierLimits(tier, None, None, None, None, None)
