"""A streamed request answered with one whole JSON reply: read it as the answer.

Proxies and gateways that ignore ``"stream": true`` answer with the ``chat.completion`` object a
non-streamed request gets (``Content-Type: application/json``, no ``data:`` lines). The SSE
parser sees a body whose first character is ``{`` (an SSE stream never starts so) and hands the
whole object here at the end of the body: it becomes one ``chat.completion.chunk`` whose delta is
the message, so the caller's ``on_chunk`` gets the whole text at once and the response is the
same as the non-streamed one. An ``{"error": ...}`` body stays as it is (the parser raises it).
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_chunk"]


def as_chunk(value: Any) -> Any:
    """``value`` (a whole chat.completion) as one chunk; anything else unchanged."""
    if not isinstance(value, dict) or not isinstance(value.get("choices"), list):
        return value
    choices: list[Any] = []
    for i, choice in enumerate(value["choices"]):
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            return value  # not a whole reply after all: the chunk checks judge it
        delta = dict(choice["message"])
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            delta["tool_calls"] = [{**call, "index": j} if isinstance(call, dict) else call
                                   for j, call in enumerate(calls)]
        choices.append({"index": choice.get("index", i), "delta": delta,
                        "finish_reason": choice.get("finish_reason") or "stop"})
    return {**value, "object": "chat.completion.chunk", "choices": choices}
