"""Fitting a conversation into an input cap by dropping its oldest exchanges (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from ..types import Message, Role

__all__ = ["exchange_starts", "oldest_to_keep"]


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
