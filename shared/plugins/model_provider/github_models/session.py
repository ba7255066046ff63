"""One conversation: system instruction, tools, history and usage.

The provider holds a default session (the framework's ``create_session``); extra sessions can
share one provider's client, pacing and retries (``GitHubModelsProvider.new_session``). History
is committed only when a turn succeeds, under the session's lock, so a failed call leaves it
exactly as it was.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._host import FunctionCall, Message, Part, Role, ToolResult, ToolSchema
from .converters import message_to_wire, tools_to_wire
from .errors import InvalidRequestError
from .inputs import check_conversation, check_history, check_text, check_tools, tool_list
from .tokens import estimate_message_tokens, estimate_tools_tokens
from .usage import UsageTracker

if TYPE_CHECKING:
    import asyncio

__all__ = ["ChatSession", "order_tool_results"]


class ChatSession:
    """State of one conversation. Mutated only through ``commit``."""

    def __init__(
        self,
        system_instruction: str | None = None,
        tools: Sequence[ToolSchema] | None = None,
        history: Sequence[Message] | None = None,
        *,
        attributed_to: str | None = None,
    ) -> None:
        # checked here, so a session never holds what a later send could not encode
        tools = tool_list(tools)  # an iterator is read once, here
        check_tools(tools)
        if system_instruction is not None:
            check_text(system_instruction, "the system instruction", "system_instruction")
        if history:
            check_history(history)
            check_conversation(history)
        self.system_instruction = system_instruction or None
        self.tools: list[ToolSchema] = list(tools or ())
        self.wire_tools: list[dict[str, Any]] = tools_to_wire(self.tools)
        self.history: list[Message] = list(history or ())
        self.usage = UsageTracker(attributed_to)
        self.lock = threading.RLock()  # short: snapshots and commits only
        self.turn_lock = threading.RLock()  # held for a whole sync turn (one at a time)
        self._alocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self.tools_tokens = estimate_tools_tokens(self.wire_tools)
        # id(message) -> (message, wire messages, estimated tokens): a turn converts only what
        # is new. The message is kept in the entry so an id is never reused while cached.
        self._wire_cache: dict[int, tuple[Message, list[dict[str, Any]], int, tuple[Any, ...]]] = {}

    def async_lock(self) -> asyncio.Lock:
        """The lock held for a whole async turn, one per event loop (an ``asyncio.Lock``
        belongs to one loop; ``asyncio.run`` makes a new one). Call it on the loop."""
        import asyncio

        loop = asyncio.get_running_loop()
        lock = self._alocks.get(loop)
        if lock is None:
            lock = self._alocks[loop] = asyncio.Lock()
        return lock

    def converted(self, message: Message) -> tuple[list[dict[str, Any]], int]:
        """The wire form of a history message and its token estimate (cached)."""
        mark = _fingerprint(message)
        entry = self._wire_cache.get(id(message))
        if entry is not None and entry[0] is message and entry[3] == mark:
            return entry[1], entry[2]
        wire = message_to_wire(message)
        tokens = estimate_message_tokens(wire)
        if len(self._wire_cache) > 4 * len(self.history) + 64:  # drop entries of old sessions
            live = {id(m) for m in self.history}
            self._wire_cache = {k: v for k, v in self._wire_cache.items() if k in live}
        self._wire_cache[id(message)] = (message, wire, tokens, mark)
        return wire, tokens

    def commit(self, messages: Sequence[Message]) -> None:
        """Append a finished turn to the history."""
        with self.lock:
            self.history.extend(messages)

    def pending_calls(self) -> list[FunctionCall]:
        """The function calls of the last model turn that still need results."""
        if not self.history:
            return []
        last = self.history[-1]
        if Role(last.role) is not Role.MODEL:
            return []
        return [p.function_call for p in last.parts if p.function_call is not None]


def _fingerprint(message: Message) -> tuple[Any, ...]:
    """Identity of a message's contents: an in-place edit (a redacted text, a truncated tool
    result) changes it, so the cached wire form is rebuilt."""
    return (message.role, *((id(p), id(p.text), id(p.function_call), id(p.function_response),
                             id(p.inline_data)) for p in message.parts))


def order_tool_results(pending: Sequence[FunctionCall], results: Sequence[ToolResult]
                       ) -> list[ToolResult]:
    """Check that ``results`` answer every pending call exactly once; return them in call order.

    Raises:
        InvalidRequestError: No call is pending, a result answers no pending call, a call has no
            result, or a call has two.
    """
    if not results:
        raise InvalidRequestError(
            what="Checking the tool results", why="the list is empty",
            fix="pass one ToolResult per FunctionCall of the last response", param="results")
    if not pending:
        raise InvalidRequestError(
            what="Checking the tool results",
            why="the last model turn asked for no function call",
            fix="send tool results only after a response with function_calls", param="results")
    by_id: dict[str, ToolResult] = {}
    for result in results:
        if result.call_id in by_id:
            raise InvalidRequestError(
                what="Checking the tool results", why=f"call id {result.call_id!r} is answered "
                "twice", fix="send one result per call", param="results")
        by_id[result.call_id] = result
    wanted = [c.id for c in pending]
    unknown = [cid for cid in by_id if cid not in wanted]
    missing = [cid for cid in wanted if cid not in by_id]
    if unknown or missing:
        raise InvalidRequestError(
            what="Checking the tool results against the model's function calls",
            why=(f"no pending call has id(s) {unknown}" if unknown else "")
                + ("; " if unknown and missing else "")
                + (f"call(s) {missing} have no result" if missing else ""),
            fix=f"answer exactly the pending calls {wanted} (use FunctionCall.id as call_id)",
            param="results")
    return [by_id[cid] for cid in wanted]


def tool_message(results: Sequence[ToolResult]) -> Message:
    """The history entry for a batch of tool results."""
    return Message(role=Role.TOOL, parts=[Part(function_response=r) for r in results])
