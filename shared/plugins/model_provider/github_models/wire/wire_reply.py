"""A chat completion (or a stream's pieces) from the wire into the framework's types.

No I/O here: finish reasons, usage, tool-call ids and arguments, content parts, and the whole
non-streaming reply (``response_from_wire``). ``streaming.py`` uses the same pieces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._host import FinishReason, FunctionCall, Reply, TokenUsage, make_usage, unreadable_call
from ..common.wire_check import (
    MAX_JSON_DEPTH,
    check_completion,
    json_depth,
    loads_json,
    repair_json,
    repair_text,
)
from .thinking import split_think

__all__ = [
    "content_text",
    "finish_reason_from_wire",
    "join_thinking",
    "parse_arguments",
    "reasoning_text",
    "response_from_wire",
    "unique_call_ids",
    "usage_from_wire",
]

_FINISH: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
    "length": FinishReason.MAX_TOKENS,
    "max_tokens": FinishReason.MAX_TOKENS,
    "tool_calls": FinishReason.TOOL_USE,
    "function_call": FinishReason.TOOL_USE,
    "content_filter": FinishReason.SAFETY,
}


def finish_reason_from_wire(value: str | None) -> FinishReason:
    """Map a wire ``finish_reason`` to ``FinishReason`` (unknown values -> UNKNOWN)."""
    return _FINISH.get(value or "", FinishReason.UNKNOWN)


def usage_from_wire(usage: Mapping[str, Any] | None) -> TokenUsage:
    """Build ``TokenUsage`` from a wire ``usage`` object (missing fields count as 0)."""
    if not usage:  # nothing reported: zeros, marked as not reported where the host can say so
        return make_usage(0, 0, 0, reported=False)
    prompt = int(usage.get("prompt_tokens") or 0)
    output = int(usage.get("completion_tokens") or 0)
    total = int(usage.get("total_tokens") or (prompt + output))
    # OpenAI-shaped wires count cached input inside prompt_tokens and reasoning inside
    # completion_tokens; make_usage turns that into jaato's convention
    cached = _detail(usage, "prompt_tokens_details", "cached_tokens")
    reasoning = _detail(usage, "completion_tokens_details", "reasoning_tokens")
    return make_usage(prompt, output, total,
                      cached=None if cached is None else min(cached, prompt),
                      reasoning=None if reasoning is None else min(reasoning, output))


def _detail(usage: Mapping[str, Any], group: str, key: str) -> int | None:
    """A count under ``usage[group][key]`` (None when absent or not a whole number >= 0)."""
    details = usage.get(group)
    value = details.get(key) if isinstance(details, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def unique_call_ids(calls: list[FunctionCall]) -> list[FunctionCall]:
    """Give empty or repeated tool-call ids a unique suffix (``call_1``, ``call_1~2``).

    Results are matched to calls by id, so two calls sharing one could not both be answered;
    the renamed ids go back to the model consistently in the assistant turn and the tool turn.
    """
    seen: set[str] = set()
    for index, call in enumerate(calls):
        base = call.id or f"call_{index}"
        new, n = base, 1
        while new in seen:
            n += 1
            new = f"{base}~{n}"
        seen.add(new)
        call.id = new
    return calls


def content_text(content: Any) -> str:
    """Wire ``content`` as text: a string as is, a list of parts (Mistral-style
    ``[{"type": "text", "text": ...}]``, sometimes with reasoning parts) joined by its text parts;
    anything else is empty."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content
                       if isinstance(p, Mapping) and p.get("type", "text") == "text"
                       and isinstance(p.get("text"), str))
    return ""  # callers that must refuse other types check the shape first (wire_check)


def parse_arguments(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse a tool call's ``arguments`` JSON text into a dict.

    Raises:
        ValueError: The text is not a JSON object.
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        value: Any = dict(raw)
        if json_depth(value) > MAX_JSON_DEPTH:
            raise ValueError("tool call arguments are nested too deeply")
    elif isinstance(raw, str):
        value = loads_json(raw)
    else:
        raise ValueError(f"tool call arguments are {type(raw).__name__}, not JSON text")
    if not isinstance(value, dict):
        raise ValueError(f"tool call arguments are not a JSON object: {str(raw)[:200]!r}")
    return dict(repair_json(value))


def response_from_wire(data: Mapping[str, Any]) -> Reply:
    """A non-streaming chat completion as a ``Reply`` (``raw`` keeps the body).

    Raises:
        ValueError: A tool call's arguments are not a JSON object (message names the call), or
            the body is not the chat-completions shape (:class:`WireShapeError`).
    """
    check_completion(data)
    choices = data.get("choices") or []
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    calls: list[FunctionCall] = []
    for tc in message.get("tool_calls") or ():
        fn = tc.get("function") or {}
        call_id = repair_text(tc.get("id") or f"call_{len(calls)}")
        name = repair_text(fn.get("name") or "")
        try:
            args = parse_arguments(fn.get("arguments"))
        except ValueError as exc:
            odd = unreadable_call(call_id, name, repair_text(str(fn.get("arguments"))))
            if odd is None:  # a host without unreadable_args: the reply cannot be used
                raise ValueError(f"the arguments of the call to {fn.get('name')!r} are not a "
                                 f"JSON object: {exc}") from exc
            calls.append(odd)
            continue
        calls.append(FunctionCall(id=call_id, name=name, args=args))
    calls = unique_call_ids(calls)
    finish = finish_reason_from_wire(choice.get("finish_reason"))
    if calls and finish is FinishReason.UNKNOWN:
        finish = FinishReason.TOOL_USE
    text, thought = split_think(repair_text(content_text(message.get("content"))))
    return Reply(text=text or None, function_calls=calls, usage=usage_from_wire(data.get("usage")),
                 finish_reason=finish, raw=data,
                 thinking=join_thinking(reasoning_text(message), thought))


def reasoning_text(message: Mapping[str, Any]) -> str:
    """The ``reasoning_content`` of a message or delta ("" when none or not text)."""
    value = message.get("reasoning_content")
    return repair_text(value) if isinstance(value, str) else ""


def join_thinking(*pieces: str | None) -> str | None:
    """The reasoning texts joined (None when all are empty)."""
    joined = "\n\n".join(p.strip() for p in pieces if p and p.strip())
    return joined or None
