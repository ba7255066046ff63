"""The token budget one request carries: the window jaato checks and the reply cap on the wire.

jaato 1.2 (its ``_assert_payload_fits_context``) reads ``get_context_limit()`` as the model's
window and ``get_max_output_tokens()`` as the output cap *this request carries*, and refuses to
send when its prompt estimate plus that cap exceeds the window. So the cap reported and the cap
sent must be one number, computed here for both:

* the caller's own ``max_tokens`` (provider default: ``extra``/``api_params``/``set_options``),
  when set;
* else, for a model whose catalog entry gives an output limit: the smallest of that limit,
  :data:`DEFAULT_REPLY_TOKENS` (4096; :data:`DEFAULT_REASONING_REPLY_TOKENS`, 25000, for
  reasoning models, whose cap also covers their hidden reasoning), a quarter of the window (so
  a small window keeps three quarters for the prompt), and the free tier's reply cap where tier
  limits are enforced;
* else (unknown model, or an entry without a known output limit) no cap: ``None``, and nothing
  is sent.

A window the catalog does not know is ``0`` ("unknown": jaato does not guess), never invented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models.catalog import ModelInfo

__all__ = ["DEFAULT_REASONING_REPLY_TOKENS", "DEFAULT_REPLY_TOKENS", "context_window",
           "reply_cap"]

DEFAULT_REPLY_TOKENS = 4096
# OpenAI's reasoning guide: "reserve at least 25,000 tokens for reasoning and outputs".
DEFAULT_REASONING_REPLY_TOKENS = 25_000


def reply_cap(info: ModelInfo | None, tier_row: Any, chosen: int | None) -> int | None:
    """The output cap a request carries (``None``: none is sent); see the module docstring.

    ``tier_row`` is the tier's limits row where tier limits are enforced (else None);
    ``chosen`` the caller's provider-level ``max_tokens`` (None when unset). Raises nothing.
    """
    if chosen:
        return chosen
    if info is None or info.max_output_tokens <= 0:
        return None
    default = DEFAULT_REASONING_REPLY_TOKENS if info.reasoning else DEFAULT_REPLY_TOKENS
    cap = min(info.max_output_tokens, default)
    if info.max_input_tokens > 0:
        cap = min(cap, max(1, info.max_input_tokens // 4))
    tier_cap = getattr(tier_row, "max_output_tokens", None) if tier_row is not None else None
    if tier_cap:
        cap = min(cap, tier_cap)
    return cap


def context_window(info: ModelInfo | None, tier_input: int | None, cap: int | None) -> int:
    """The window jaato checks ``prompt + cap`` against: the model's (0 when unknown), or, where
    the free tier's smaller input cap is enforced, that cap plus the reply cap (so jaato's
    check and the provider's own input check agree). Raises nothing."""
    if info is None:
        return 0
    window = max(info.max_input_tokens, 0)
    if tier_input and (window == 0 or tier_input < window):
        both = tier_input + (cap or 0)
        return min(both, window) if window else both
    return window
