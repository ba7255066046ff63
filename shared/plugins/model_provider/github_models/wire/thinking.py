"""Reasoning text out of the reply: ``<think>...</think>`` at the start of the content
(DeepSeek-R1, MAI-DS-R1, Phi-4-reasoning ...) and ``reasoning_content`` beside it.

The reasoning goes to ``ProviderResponse.thinking`` / ``on_thinking`` and never into the text.
A ``<think>`` block is recognised only where the reply starts (after whitespace), as those
models write it; a literal ``<think>`` later in an answer stays text. A tag split across stream
chunks is held back until it is known to be a tag or text. Whitespace between the block and the
answer is dropped. No I/O; raises nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ThinkSplitter", "effort_for", "split_think"]

_OPEN = "<think>"
_CLOSE = "</think>"


def _tag_prefix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that starts ``tag`` (0 when none)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Splits streamed content into ``(text, thinking)`` pieces."""

    def __init__(self) -> None:
        self._pending = ""
        self._state = "start"  # start -> think -> after -> text; or start -> text

    def feed(self, piece: str) -> tuple[str, str]:
        """The text and the thinking that ``piece`` (with what was held back) makes safe to
        hand on now."""
        buf = self._pending + piece
        self._pending = ""
        text = thinking = ""
        while buf:
            if self._state == "start":
                stripped = buf.lstrip()
                if stripped.startswith(_OPEN):
                    buf, self._state = stripped[len(_OPEN):], "think"
                elif _OPEN.startswith(stripped):  # maybe the tag, not complete yet
                    self._pending = buf
                    return text, thinking
                else:
                    self._state = "text"
            elif self._state == "think":
                end = buf.find(_CLOSE)
                if end >= 0:
                    thinking += buf[:end]
                    buf, self._state = buf[end + len(_CLOSE):], "after"
                    continue
                keep = _tag_prefix(buf, _CLOSE)
                thinking += buf[:len(buf) - keep]
                self._pending = buf[len(buf) - keep:]
                return text, thinking
            elif self._state == "after":
                buf = buf.lstrip()
                if buf:
                    self._state = "text"
            else:
                text += buf
                buf = ""
        return text, thinking

    @property
    def held_text(self) -> str:
        """What is held back that ``flush`` would hand on as text (a possible tag at the start
        of the reply; nothing while inside a block)."""
        return "" if self._state == "think" else self._pending

    def flush(self) -> tuple[str, str]:
        """What was held back, at the end of the reply: an unfinished tag is what it looked
        like (text before the block, thinking inside it)."""
        rest, self._pending = self._pending, ""
        if self._state == "think":
            return "", rest
        return rest, ""


def split_think(content: str) -> tuple[str, str | None]:
    """``(text, thinking)`` of a whole reply's content (thinking None when there is none)."""
    if content.lstrip()[:1] != "<":  # no tag where a block can start: all of it is text
        return content, None
    splitter = ThinkSplitter()
    text, thinking = splitter.feed(content)
    more_text, more_thinking = splitter.flush()
    thought = (thinking + more_thinking).strip()
    return text + more_text, thought or None


def effort_for(config: Any) -> str | None:
    """The ``reasoning_effort`` for jaato's ``ThinkingConfig`` (``enabled``, ``budget``):
    None when thinking is off or there is no config; else by budget: up to 4096 tokens ``low``,
    up to 16384 ``medium``, more ``high``. Raises nothing."""
    if config is None or not getattr(config, "enabled", False):
        return None
    budget = getattr(config, "budget", None)
    if isinstance(budget, bool) or not isinstance(budget, int | float):
        return "medium"
    return "low" if budget <= 4096 else "medium" if budget <= 16384 else "high"
