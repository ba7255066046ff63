"""Fitting a conversation into an input cap by dropping its oldest exchanges (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from .._host import Message, Role
from ..errors import ContextLimitError

__all__ = ["exchange_starts", "oldest_to_keep", "too_large"]


def exchange_starts(history: Sequence[Message]) -> list[int]:
    """Indexes where an exchange begins: user messages with text (not tool results).

    Cutting only there keeps every function call together with its results.
    """
    return [i for i, m in enumerate(history)
            if Role(m.role) is Role.USER and any(p.text for p in m.parts)]


def oldest_to_keep(history: Sequence[Message], tokens: Sequence[int], fixed: int,
                   limit: int | None, *, trim: bool) -> tuple[int, int]:
    """Where the sent history should start, and the request's estimated size from there.

    Args:
        history: The stored conversation.
        tokens: The estimated tokens of each history message.
        fixed: Tokens that are always sent (system, tools, the new turn, priming).
        limit: The input cap (None: no cap).
        trim: Whether dropping old exchanges is allowed.

    Returns:
        ``(start, estimate)``: send ``history[start:]``; ``estimate`` may still exceed
        ``limit`` when even the newest turn alone is too large (or trimming is off).
    """
    estimate = fixed + sum(tokens)
    if not limit or estimate <= limit or not trim:
        return 0, estimate
    start = 0
    for cut in [*(i for i in exchange_starts(history) if i > 0), len(history)]:
        estimate -= sum(tokens[start:cut])
        start = cut
        if estimate <= limit:
            break
    return start, estimate


def too_large(estimate: int, limit: int, source: str, trimmed: int, *, model: str,
              tier: str | None, window: int | None) -> ContextLimitError:
    """The error for a request over its cap; ``source`` is ``tier`` or ``model``."""
    if source == "tier":
        why = (f"the request is about {estimate} tokens; the {tier} rate-limit tier accepts "
               f"{limit} tokens in per request (model window {window})")
        fix = ("shorten the prompt or the history (extra['trim_history']=True drops the "
               "oldest turns); with paid usage or a custom endpoint turn the free-tier cap off "
               "(JAATO_GITHUB_ENFORCE_TIER_LIMITS=false, extra['enforce_tier_limits']=False, "
               "or --no-tier-limits on the command line) or raise the tier's max_input_tokens "
               "in extra['rate_limits']")
    else:
        why = f"the request is about {estimate} tokens; the model's context window is {limit}"
        fix = ("shorten the prompt, start a new session (create_session), or set "
               "extra['trim_history']=True to drop the oldest turns")
    if trimmed:
        why += f", even after dropping the {trimmed} oldest messages"
    return ContextLimitError(what=f"Checking the prompt size for {model}", why=why, fix=fix,
                             limit=limit, requested=estimate, limit_source=source,
                             model_window=window)
