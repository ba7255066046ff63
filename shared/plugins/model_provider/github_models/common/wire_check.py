"""What a server sends is checked before it is believed: JSON nesting, value types, text.

A 200 body or a stream chunk whose JSON has the wrong types (``choices`` a string, ``arguments``
a number, ``usage`` a list ...) or absurd nesting raises :class:`WireShapeError` naming the path;
the callers turn it into the provider's typed errors. Text from the server is repaired: a UTF-16
surrogate pair sent as two escapes is joined, a lone surrogate becomes U+FFFD, so a reply can
always be sent back in the next request. Standard library only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "WireShapeError",
    "check_chunk",
    "check_completion",
    "json_depth",
    "loads_json",
    "repair_json",
    "repair_text",
]

MAX_JSON_DEPTH = 128
"""Deepest nesting of arrays/objects accepted in JSON from a server or a caller."""


class WireShapeError(ValueError):
    """JSON from the server is not the chat-completions shape (``path`` names the value)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{path} {problem}")


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """The nesting depth of ``value``, iteratively (never a RecursionError).

    Stops as soon as the depth passes ``limit`` (so a cycle returns ``limit + 1``).
    """
    if not isinstance(value, _CONTAINERS) and not isinstance(value, Mapping):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        children = item.values() if isinstance(item, dict | Mapping) else item
        for child in children:
            kind = type(child)
            if kind in _SCALARS:
                continue
            if isinstance(child, _CONTAINERS) or isinstance(child, Mapping):  # noqa: SIM101 - fast first
                push((child, depth + 1))
    return deepest


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (dict, list, tuple)


def loads_json(text: str | bytes, *, limit: int | None = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that raises ValueError (never RecursionError) on absurd nesting.

    Args:
        text: JSON text.
        limit: The deepest nesting accepted; None leaves the depth to the caller's own checks
            (the parser's recursion limit still turns into ValueError).

    Raises:
        ValueError: Not JSON, or nested deeper than ``limit``.
    """
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ValueError(f"the JSON is nested too deeply (more than {limit or 'a few hundred'}"
                         " levels)") from exc
    if (limit is not None and isinstance(value, dict | list)
            and _openers(text) > limit  # cheap bound: depth <= number of '[' and '{'
            and json_depth(value, limit) > limit):
        raise ValueError(f"the JSON is nested too deeply (more than {limit} levels)")
    return value


def _openers(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def repair_text(text: str) -> str:
    """``text`` encodable as UTF-8: surrogate pairs joined, lone surrogates -> U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def repair_json(value: Any) -> Any:
    """Parsed JSON with every string (keys too) passed through :func:`repair_text`.

    The value must be at most :data:`MAX_JSON_DEPTH` deep (as :func:`loads_json` ensures).
    """
    if isinstance(value, str):
        return repair_text(value)
    if isinstance(value, list):
        return [repair_json(v) for v in value]
    if isinstance(value, dict):
        return {repair_text(k): repair_json(v) for k, v in value.items()}
    return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _fits(value: Any, types: type | tuple[type, ...]) -> bool:
    allowed = types if isinstance(types, tuple) else (types,)
    return isinstance(value, allowed) and (not isinstance(value, bool) or bool in allowed)


def _expect(value: Any, types: type | tuple[type, ...], path: str, what: str) -> None:
    if not _fits(value, types):
        raise WireShapeError(path, f"is {_kind(value)}, expected {what}")


def _optional(container: Mapping[str, Any], key: str, types: type | tuple[type, ...],
              path: str, what: str) -> Any:
    value = container.get(key)
    if value is not None and not _fits(value, types):  # the path is written only on failure
        raise WireShapeError(f"{path}.{key}", f"is {_kind(value)}, expected {what}")
    return value


def _check_usage(usage: Any, path: str) -> None:
    if usage is None:
        return
    _expect(usage, dict, path, "an object")
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        count = usage.get(key)
        if count is None:
            continue
        _expect(count, (int, float), f"{path}.{key}", "a number")
        if not math.isfinite(count) or count < 0 or count > 10**12:
            raise WireShapeError(f"{path}.{key}", f"is {count!r}, expected a token count")


def _check_content(content: Any, path: str) -> None:
    if content is None or isinstance(content, str):
        return
    _expect(content, list, path, "a string, a list of parts or null")
    for i, part in enumerate(content):
        _expect(part, dict, f"{path}[{i}]", "an object")
        _optional(part, "text", str, f"{path}[{i}]", "a string")


def _check_calls(calls: Any, path: str, *, streaming: bool) -> None:
    if calls is None:
        return
    _expect(calls, list, path, "a list")
    for i, call in enumerate(calls):
        where = f"{path}[{i}]"
        _expect(call, dict, where, "an object")
        _optional(call, "id", str, where, "a string")
        if streaming:
            _optional(call, "index", int, where, "an integer")
        fn = _optional(call, "function", dict, where, "an object")
        if fn is not None:
            _optional(fn, "name", str, f"{where}.function", "a string")
            _optional(fn, "arguments", (str, dict) if not streaming else str,
                      f"{where}.function", "a string of JSON")


def _plain_choice(choice: Any, key: str) -> bool:
    """Whether ``choice`` is the common, plainly valid shape (an object with an integer index or
    none, a string finish reason or none, and a ``key`` object with string or no content and no
    tool calls): the fast path, which accepts a subset of what the full check accepts."""
    if type(choice) is not dict:
        return False
    index = choice.get("index")
    finish = choice.get("finish_reason")
    message = choice.get(key)
    return ((index is None or type(index) is int) and (finish is None or type(finish) is str)
            and (message is None or (type(message) is dict
                                     and message.get("tool_calls") is None
                                     and type(message.get("content", "")) in _PLAIN_CONTENT)))


_PLAIN_CONTENT = frozenset({str, type(None)})


def _check_choices(data: Mapping[str, Any], *, streaming: bool) -> None:
    choices = data.get("choices")
    if choices is None:
        return
    key = "delta" if streaming else "message"
    if type(choices) is list and all(_plain_choice(c, key) for c in choices):
        return  # every streamed text chunk: no path strings built, nothing more to check
    check_choices_fully(choices, key, streaming=streaming)


def check_choices_fully(choices: Any, key: str, *, streaming: bool) -> None:
    """The full check of a reply's ``choices`` (``key``: "delta" or "message"), naming the path
    of what is wrong. Raises WireShapeError."""
    _expect(choices, list, "choices", "a list")
    for i, choice in enumerate(choices):
        where = f"choices[{i}]"
        _expect(choice, dict, where, "an object")
        _optional(choice, "index", int, where, "an integer")
        _optional(choice, "finish_reason", str, where, "a string")
        message = _optional(choice, key, dict, where, "an object")
        if message is None:
            continue
        _check_content(message.get("content"), f"{where}.{key}.content")
        _check_calls(message.get("tool_calls"), f"{where}.{key}.tool_calls", streaming=streaming)


def check_completion(data: Mapping[str, Any]) -> None:
    """Check a non-streaming chat completion body. Raises WireShapeError (naming the path)."""
    _check_reply(data, streaming=False, where="body")


def check_chunk(event: Mapping[str, Any]) -> None:
    """Check one streamed ``chat.completion.chunk``. Raises WireShapeError (naming the path)."""
    _check_reply(event, streaming=True, where="chunk")


def _check_reply(data: Mapping[str, Any], *, streaming: bool, where: str) -> None:
    _check_choices(data, streaming=streaming)
    _check_usage(data.get("usage"), "usage")
    _optional(data, "model", str, where, "a string")
