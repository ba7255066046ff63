"""Server-sent events: a tolerant parser and an accumulator of chat-completion deltas.

The SDK's own stream parser raises on SSE comments, ``event:`` lines and CRLF, and silently drops
an in-stream ``{"error": ...}`` event. This parser accepts everything the SSE spec allows, stops at
``data: [DONE]``, and hands in-stream errors to the caller as :class:`StreamEventError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._host import FinishReason, FunctionCall, TokenUsage
from .converters import (
    content_text,
    finish_reason_from_wire,
    parse_arguments,
    unique_call_ids,
    usage_from_wire,
)

__all__ = [
    "SSEParser",
    "StreamAccumulator",
    "StreamCancelled",
    "StreamEventError",
    "StreamProtocolError",
]


class StreamCancelled(Exception):
    """The caller's CancelToken stopped the stream (partial output stays with the caller)."""


class StreamProtocolError(ValueError):
    """The stream broke the SSE / chat-completions format (e.g. a data line that is not JSON)."""


class StreamEventError(Exception):
    """The server sent an error event inside the stream; ``payload`` is the event's JSON."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = dict(payload)
        err = payload.get("error")
        message = err.get("message") if isinstance(err, Mapping) else err
        super().__init__(str(message or payload))


class SSEParser:
    """Incremental SSE parser: ``feed(bytes)`` returns the JSON events completed by that block.

    ``done`` turns True at ``data: [DONE]``; anything after it is ignored.
    """

    __slots__ = ("_buffer", "_data", "done", "finished")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self.done = False
        # a choice carried a finish_reason: a body that ends cleanly after it is complete even
        # without [DONE] (some gateways omit it)
        self.finished = False

    def feed(self, block: bytes) -> list[dict[str, Any]]:
        """Parse a block of bytes.

        Raises:
            StreamProtocolError: A data payload that is not a JSON object.
            StreamEventError: An ``{"error": ...}`` event.
        """
        if self.done:
            return []
        events: list[dict[str, Any]] = []
        buffer = self._buffer + block if self._buffer else block
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()  # incomplete tail (b"" when the block ended with \n)
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line:
                self._dispatch(events)
            elif line.startswith(b"data:"):
                payload = line[6:] if line.startswith(b"data: ") else line[5:]
                if payload == b"[DONE]":
                    self._data.clear()
                    self.done = True
                    return events
                if not self._data and payload[:1] == b"{":
                    # the common case: one JSON object per data line
                    try:
                        events.append(self._check(json.loads(payload)))
                        continue
                    except ValueError:  # not JSON (or not UTF-8): buffer, judged at dispatch
                        pass
                self._data.append(payload)
            # comments (":"), "event:", "id:", "retry:" and unknown fields are ignored
            if self.done:
                break
        return events

    def close(self) -> list[dict[str, Any]]:
        """Flush what is left when the body ended without a blank line.

        Raises:
            StreamProtocolError: The leftover data is not JSON.
        """
        events: list[dict[str, Any]] = []
        if self._buffer:
            tail, self._buffer = self._buffer, b""
            events.extend(self.feed(tail + b"\n"))
        self._dispatch(events)
        return events

    def _dispatch(self, events: list[dict[str, Any]]) -> None:
        if not self._data:
            return
        payload = b"\n".join(self._data)
        self._data.clear()
        try:
            value = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StreamProtocolError(
                f"the stream sent a data line that is not JSON: {payload[:120]!r}") from exc
        events.append(self._check(value))

    def _check(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise StreamProtocolError(f"the stream sent a non-object event: {str(value)[:120]!r}")
        if "error" in value and "choices" not in value:
            raise StreamEventError(value)
        choices = value.get("choices")
        if isinstance(choices, list) and any(
                isinstance(c, dict) and c.get("finish_reason") for c in choices):
            self.finished = True
        return value


@dataclass
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamAccumulator:
    """Folds chat-completion chunks into text, tool calls, finish reason and usage."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (a retried stream starts over)."""
        self.text_parts: list[str] = []
        self._calls: dict[int, _ToolCallParts] = {}
        self.finish: str | None = None
        self.usage: TokenUsage | None = None
        self.model: str | None = None
        self.chunks = 0

    def feed(self, event: Mapping[str, Any]) -> str:
        """Apply one chunk; return the text it added ("" when none)."""
        self.chunks += 1
        if self.model is None and event.get("model"):
            self.model = str(event["model"])
        usage = event.get("usage")
        if usage:
            self.usage = usage_from_wire(usage)
        added = ""
        for choice in event.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = content_text(delta.get("content"))
            if content:
                self.text_parts.append(content)
                added += content
            for tc in delta.get("tool_calls") or ():
                index = tc.get("index")
                if not isinstance(index, int):  # some gateways send null: a new id opens a call
                    index = (len(self._calls) if tc.get("id") or not self._calls
                             else max(self._calls))
                slot = self._calls.setdefault(index, _ToolCallParts())
                if tc.get("id"):
                    slot.id = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    slot.name += fn["name"] if not slot.name else ""
                if fn.get("arguments"):
                    slot.arguments.append(fn["arguments"])
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        return added

    @property
    def text(self) -> str:
        """All text so far."""
        return "".join(self.text_parts)

    @property
    def finish_reason(self) -> FinishReason:
        """The mapped finish reason (UNKNOWN until a finish chunk arrived)."""
        if self.finish is None and self._calls:
            return FinishReason.TOOL_USE
        return finish_reason_from_wire(self.finish)

    def function_calls(self) -> list[FunctionCall]:
        """The tool calls, in index order, with parsed arguments.

        Raises:
            ValueError: A call's arguments are not a JSON object.
        """
        out: list[FunctionCall] = []
        for index in sorted(self._calls):
            slot = self._calls[index]
            out.append(FunctionCall(id=slot.id or f"call_{index}", name=slot.name,
                                    args=parse_arguments("".join(slot.arguments))))
        return unique_call_ids(out)


def iter_events(blocks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Parse an iterable of byte blocks into events, stopping at ``[DONE]``.

    Raises:
        StreamProtocolError, StreamEventError: as :meth:`SSEParser.feed`.
    """
    parser = SSEParser()
    for block in blocks:
        yield from parser.feed(block)
        if parser.done:
            return
    yield from parser.close()
