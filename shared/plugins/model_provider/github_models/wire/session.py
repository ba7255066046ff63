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

from .._host import FunctionCall, Message, Part, Role, ToolResult, ToolSchema
from ..errors import InvalidRequestError
from .inputs import check_conversation, check_history, check_text, check_tools, tool_list
from .tokens import estimate_tools_tokens
from .usage import UsageTracker
from .wire_cache import WireCache, shared_cache
from .wire_request import tools_to_wire

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
        stateless: bool = False,
    ) -> None:
        """Raises InvalidRequestError: bad tools, system instruction or history.

        ``stateless``: the session serves one call right away (``complete()``), so what the
        history check found in the conversion cache is kept for that call's conversion.
        """
        # checked here, so a session never holds what a later send could not encode
        tools = tool_list(tools)  # an iterator is read once, here
        check_tools(tools)
        if system_instruction is not None:
            check_text(system_instruction, "the system instruction", "system_instruction")
        self.cache: WireCache = shared_cache
        # id(message) -> (message, wire, tokens) found by the history check, for a stateless
        # call's conversion (the message is kept so its id cannot be reused meanwhile)
        self._found: dict[int, tuple[Message, list[dict[str, Any]], int]] = {}
        if history:
            # content converted before was checked before: only the rest is checked again
            found = self.cache.lookup_many(history)
            check_history(history, known=found)
            check_conversation(history)
            if stateless:
                self._found = found
        self.system_instruction = system_instruction or None
        self.tools: list[ToolSchema] = list(tools or ())
        self.wire_tools: list[dict[str, Any]] = tools_to_wire(self.tools)
        self.history: list[Message] = list(history or ())
        self.usage = UsageTracker(attributed_to)
        self.lock = threading.RLock()  # short: snapshots and commits only
        self.turn_lock = threading.RLock()  # held for a whole sync turn (one at a time)
        # made on first async use: most sessions never need one (a WeakKeyDictionary is ~1 KB)
        self._alocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] | None
        self._alocks = None
        self.tools_tokens = estimate_tools_tokens(self.wire_tools)

    def async_lock(self) -> asyncio.Lock:
        """The lock held for a whole async turn, one per event loop (an ``asyncio.Lock``
        belongs to one loop; ``asyncio.run`` makes a new one). Call it on the loop."""
        import asyncio

        loop = asyncio.get_running_loop()
        with self.lock:
            if self._alocks is None:
                self._alocks = weakref.WeakKeyDictionary()
            locks = self._alocks
        lock = locks.get(loop)
        if lock is None:
            lock = locks[loop] = asyncio.Lock()
        return lock

    def converted(self, message: Message) -> tuple[list[dict[str, Any]], int, bool]:
        """The wire form of a history message, its token estimate, and whether that wire form
        is known to encode (cached by content, shared by every session: see ``wire_cache``).

        Raises:
            TypeError, ValueError, RecursionError: A value that cannot be converted.
        """
        found = self._found.pop(id(message), None)
        if found is not None and found[0] is message:
            return found[1], found[2], True
        return self.cache.convert(message)

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
