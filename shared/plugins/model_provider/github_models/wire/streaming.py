"""Server-sent events: a tolerant parser and an accumulator of chat-completion deltas.

The SDK's own stream parser raises on SSE comments, ``event:`` lines and CRLF, and silently drops
an in-stream ``{"error": ...}`` event. This parser accepts everything the SSE spec allows, stops at
``data: [DONE]``, and hands in-stream errors to the caller as :class:`StreamEventError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._host import FinishReason, FunctionCall, TokenUsage, unreadable_call
from ..common.masking import SecretMasker
from ..common.wire_check import check_chunk, loads_json, repair_text
from .thinking import ThinkSplitter
from .wire_reply import (
    content_text,
    finish_reason_from_wire,
    parse_arguments,
    reasoning_text,
    unique_call_ids,
    usage_from_wire,
)

__all__ = [
    "MAX_LINE_BYTES",
    "MaskedAccumulator",
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


MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest SSE line, and the most data one event may gather over several ``data:`` lines
(16 MiB); more is a :class:`StreamProtocolError`."""


class SSEParser:
    """Incremental SSE parser: ``feed(bytes)`` returns the JSON events completed by that block.

    ``done`` turns True at ``data: [DONE]``; anything after it is ignored. Work is linear in the
    bytes received (a line split over many blocks is joined once), memory is bounded by
    :data:`MAX_LINE_BYTES`. An error event is raised only after the events that came before it
    in the same block were returned, so text that preceded it is never lost.
    """

    __slots__ = ("_buffer", "_data", "_data_size", "_error", "_started", "_whole", "done",
                 "finished")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._data: list[bytes] = []
        self._data_size = 0  # bytes buffered in _data: an event is capped like a line
        self._error: Exception | None = None  # raised at the next feed/close
        self.done = False
        # a choice carried a finish_reason: a body that ends cleanly after it is complete even
        # without [DONE] (some gateways omit it)
        self.finished = False
        self._started = False  # the first non-blank byte was seen
        self._whole: bytearray | None = None  # a whole JSON reply (see whole_reply)

    def feed(self, block: bytes) -> list[dict[str, Any]]:
        """Parse a block of bytes.

        Raises:
            StreamProtocolError: A data payload that is not a JSON object, or a line longer
                than :data:`MAX_LINE_BYTES`.
            StreamEventError: An ``{"error": ...}`` event (after the events before it).
        """
        self._raise_pending()
        if self.done:
            return []
        if not self._started and block.strip():
            self._started = True
            if block.lstrip()[:1] == b"{":  # not SSE: a gateway ignored "stream": true
                self._whole = bytearray()
        if self._whole is not None:
            self._whole += block
            if len(self._whole) > MAX_LINE_BYTES:
                raise StreamProtocolError(f"the server answered the stream with a JSON body of "
                                          f"more than {MAX_LINE_BYTES} bytes")
            return []
        cut = block.rfind(b"\n")
        if cut < 0:  # no line ends here: keep the bytes, judge them when the line ends
            self._buffer += block
            self._check_size()
            return []
        if self._buffer:
            self._buffer += block[: cut + 1]
            complete = bytes(self._buffer)
            self._buffer = bytearray(block[cut + 1:])
        else:
            complete = block[: cut + 1]
            self._buffer = bytearray(block[cut + 1:])
        self._check_size()
        events: list[dict[str, Any]] = []
        try:
            self._lines(complete.split(b"\n")[:-1], events)
        except (StreamEventError, StreamProtocolError) as exc:
            if not events:
                raise
            self._error = exc  # hand over what came first; raise at the next call
        return events

    def _lines(self, lines: list[bytes], events: list[dict[str, Any]]) -> None:
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line:
                self._dispatch(events)
            elif line.startswith(b"data:"):
                payload = line[6:] if line.startswith(b"data: ") else line[5:]
                if payload == b"[DONE]":
                    self._data.clear()
                    self._data_size = 0
                    self.done = True
                    return
                if not self._data and payload[:1] == b"{":
                    # the common case: one JSON object per data line
                    try:
                        value = loads_json(payload)
                    except ValueError:  # not JSON (or not UTF-8): buffer, judged at dispatch
                        pass
                    else:
                        events.append(self._check(value))
                        continue
                self._data.append(payload)
                self._data_size += len(payload) + 1
                if self._data_size > MAX_LINE_BYTES:  # data lines without an end of event
                    size, self._data, self._data_size = self._data_size, [], 0
                    raise StreamProtocolError(
                        f"the stream sent an event of more than {MAX_LINE_BYTES} bytes ({size} "
                        "so far) without a blank line to end it")
            # comments (":"), "event:", "id:", "retry:" and unknown fields are ignored

    def _check_size(self) -> None:
        if len(self._buffer) > MAX_LINE_BYTES:
            size = len(self._buffer)
            self._buffer = bytearray()
            raise StreamProtocolError(
                f"the stream sent a line of more than {MAX_LINE_BYTES} bytes ({size} so far) "
                "without a line end")

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> list[dict[str, Any]]:
        """Flush what is left when the body ended without a blank line.

        Raises:
            StreamProtocolError: The leftover data is not JSON.
            StreamEventError: An error event held back by :meth:`feed`.
        """
        self._raise_pending()
        events: list[dict[str, Any]] = []
        if self._whole is not None:
            return self._whole_reply()
        if self._buffer:
            tail, self._buffer = bytes(self._buffer), bytearray()
            events.extend(self.feed(tail + b"\n"))
        self._dispatch(events)
        return events

    def _whole_reply(self) -> list[dict[str, Any]]:
        from .whole_reply import as_chunk

        body, self._whole = bytes(self._whole or b""), None
        try:
            value = loads_json(body)
        except ValueError as exc:
            raise StreamProtocolError(f"the server answered the stream with a body that is "
                                      f"neither SSE nor JSON ({exc}): {body[:120]!r}") from exc
        event = self._check(as_chunk(value))
        self.finished = self.done = True  # the whole answer: nothing more to wait for
        return [event]

    @property
    def pending_error(self) -> bool:
        """Whether an error event waits to be raised by the next :meth:`feed` or :meth:`close`."""
        return self._error is not None

    def _dispatch(self, events: list[dict[str, Any]]) -> None:
        if not self._data:
            return
        payload = b"\n".join(self._data)
        self._data.clear()
        self._data_size = 0
        try:
            value = loads_json(payload)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, absurd nesting
            raise StreamProtocolError(
                f"the stream sent a data line that is not JSON ({exc}): {payload[:120]!r}"
            ) from exc
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
        self._held = ""  # a high surrogate waiting for its pair in the next chunk
        self.thinking_parts: list[str] = []
        self.thinking_added = ""  # the reasoning text the last chunk added
        self._think = ThinkSplitter()

    def feed(self, event: Mapping[str, Any]) -> str:
        """Apply one chunk; return the text it added ("" when none).

        Text is always encodable: a surrogate pair split over two chunks is joined (the first
        half waits for the next chunk), a lone surrogate becomes U+FFFD.

        Raises:
            WireShapeError: The chunk has values of the wrong type (a ValueError).
        """
        check_chunk(event)
        self.chunks += 1
        if self.model is None and event.get("model"):
            self.model = str(event["model"])
        usage = event.get("usage")
        if usage:
            self.usage = usage_from_wire(usage)
        added = thought = ""
        for choice in event.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            thought += reasoning_text(delta)
            content = self._held + content_text(delta.get("content"))
            self._held = ""
            if content and "\ud800" <= content[-1] <= "\udbff":  # half a pair: wait
                content, self._held = content[:-1], content[-1]
            content, in_think = self._think.feed(repair_text(content))
            thought += in_think
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
                    slot.id = repair_text(tc["id"])
                fn = tc.get("function") or {}
                if fn.get("name"):
                    slot.name += repair_text(fn["name"]) if not slot.name else ""
                if fn.get("arguments"):
                    slot.arguments.append(fn["arguments"])
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        if thought:
            self.thinking_parts.append(thought)
        self.thinking_added = thought
        return added

    def end_think(self) -> tuple[str, str]:
        """At the end of the stream: the text and thinking a possible tag held back (the text
        joins ``text``; both are returned for the callbacks)."""
        text, thought = self._think.flush()
        if text:
            self.text_parts.append(text)
        if thought:
            self.thinking_parts.append(thought)
        return text, thought

    @property
    def thinking(self) -> str | None:
        """The reasoning text so far (None when there is none)."""
        return "".join(self.thinking_parts).strip() or None

    @property
    def text(self) -> str:
        """All text so far (a held half-pair, never completed, as U+FFFD; what the ``<think>``
        splitter holds back as a possible tag counts as the text it is until then)."""
        return "".join(self.text_parts) + self._think.held_text + repair_text(self._held)

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
            raw = "".join(slot.arguments)
            try:
                args = parse_arguments(raw)
            except ValueError:
                odd = unreadable_call(slot.id or f"call_{index}", slot.name, raw)
                if odd is None:  # a host without unreadable_args: the reply cannot be used
                    raise
                out.append(odd)
                continue
            out.append(FunctionCall(id=slot.id or f"call_{index}", name=slot.name, args=args))
        return unique_call_ids(out)


class MaskedAccumulator(StreamAccumulator):
    """A stream accumulator with the masker that guards what reaches ``on_chunk``."""

    def __init__(self, masker: SecretMasker, on_chunk: Callable[[str], None],
                 on_thinking: Callable[[str], None] | None = None,
                 thinking_masker: SecretMasker | None = None) -> None:
        self.masker = masker
        self.thinking_masker = thinking_masker if thinking_masker is not None else masker
        self._on_chunk = on_chunk
        self._on_thinking = on_thinking
        super().__init__()

    def reset(self) -> None:
        """Forget everything, held-back text included (a retried stream starts over)."""
        super().reset()
        if hasattr(self, "masker"):
            self.masker.flush()
            self.thinking_masker.flush()

    def renew(self, masker: SecretMasker, thinking_masker: SecretMasker) -> str:
        """Switch to maskers that know more secrets; what the old ones held back goes through
        the new ones (the reasoning to ``on_thinking``); returns the text now safe to show."""
        held, held_thought = self.masker.flush(), self.thinking_masker.flush()
        self.masker, self.thinking_masker = masker, thinking_masker
        self.show_thinking(held_thought)
        return masker.feed(held) if held else ""

    def show_thinking(self, piece: str) -> None:
        """Hand reasoning text (masked, held back like text) to ``on_thinking``."""
        shown = self.thinking_masker.feed(piece) if piece else ""
        if shown and self._on_thinking is not None:
            self._on_thinking(shown)

    def release(self) -> str:
        """Hand the held-back end of the text (masked) to ``on_chunk``; return it (the held
        reasoning goes to ``on_thinking``)."""
        text, thought = self.end_think()
        self.show_thinking(thought)
        rest_thought = self.thinking_masker.flush()
        if rest_thought and self._on_thinking is not None:
            self._on_thinking(rest_thought)
        rest = (self.masker.feed(text) if text else "") + self.masker.flush()
        if rest:
            self._on_chunk(rest)
        return rest


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
