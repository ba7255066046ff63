"""A conversation handle: every messaging call, sync and async, for one session.

``GitHubModelsProvider`` delegates its messaging methods to a ``Conversation`` over its default
session; ``provider.new_session()`` returns more of them sharing the provider's client, pacing
and retries, so many conversations run concurrently on one provider (threads or asyncio).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._host import (
    CancelToken,
    Message,
    Part,
    ProviderResponse,
    Role,
    TokenUsage,
    ToolResult,
)
from .errors import InvalidRequestError
from .inputs import check_image, check_text, check_tool_results
from .session import ChatSession, order_tool_results, tool_message
from .streaming import StreamCancelled
from .usage import UsageTotals

if TYPE_CHECKING:
    from .core import PreparedTurn, ProviderCore

if TYPE_CHECKING:
    import asyncio

__all__ = ["Conversation"]

OnChunk = Callable[[str], None]
OnUsage = Callable[[TokenUsage], None]


def _user_text(text: str) -> Message:
    if not isinstance(text, str):
        raise InvalidRequestError(what="Checking the message",
                                  why=f"it is {type(text).__name__}, not a string",
                                  fix="send the text as str", param="message")
    if not text.strip():
        raise InvalidRequestError(what="Checking the message", why="it is empty",
                                  fix="send a non-empty string", param="message")
    check_text(text, "the message", "message")
    return Message(role=Role.USER, parts=[Part(text=text)])


def _check_stream_arguments(on_chunk: Any, cancel_token: Any, on_usage: Any) -> None:
    """Refuse callbacks and tokens that would fail only once the stream is running."""
    if not callable(on_chunk):
        raise InvalidRequestError(what="Checking on_chunk", why=f"it is {type(on_chunk).__name__}"
                                  ", not a callable", fix="pass a function that takes the text",
                                  param="on_chunk")
    if on_usage is not None and not callable(on_usage):
        raise InvalidRequestError(what="Checking on_usage_update", why=f"it is "
                                  f"{type(on_usage).__name__}, not a callable",
                                  fix="pass a function that takes a TokenUsage, or None",
                                  param="on_usage_update")
    if cancel_token is not None and not (hasattr(cancel_token, "is_cancelled")
                                         and hasattr(cancel_token, "wait")):
        raise InvalidRequestError(what="Checking cancel_token", why=f"it is "
                                  f"{type(cancel_token).__name__}, not a CancelToken",
                                  fix="pass a CancelToken (shared.CancelToken()), or None",
                                  param="cancel_token")


class Conversation:
    """Messaging for one :class:`ChatSession` of a provider.

    History is committed only when a turn succeeds. Calls on one conversation are serialized
    (a thread lock for sync calls, an asyncio lock for async ones); different conversations run
    in parallel.
    """

    def __init__(self, core: ProviderCore, session: ChatSession) -> None:
        self._core = core
        self.session = session
        self._alocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    def __repr__(self) -> str:
        return f"Conversation(model={self._core.model_name!r}, " \
               f"messages={len(self.session.history)})"

    # ---- state ----

    def get_history(self) -> list[Message]:
        """A copy of the conversation so far."""
        with self.session.lock:
            return list(self.session.history)

    def get_usage(self) -> UsageTotals:
        """Running totals of this conversation (tokens, requests, estimated cost)."""
        return self.session.usage.totals()

    # ---- building turns ----

    def _parts_message(self, parts: list[Part]) -> Message:
        if not isinstance(parts, list | tuple) or not all(
                hasattr(p, "text") and hasattr(p, "inline_data") for p in parts):
            raise InvalidRequestError(
                what="Checking the message parts", why="they are not a list of Part objects",
                fix="pass e.g. [Part(text='What is this?'), Part(inline_data={...})]",
                param="parts")
        useful = [p for p in parts if (p.text and p.text.strip()) or p.inline_data is not None]
        if not useful:
            raise InvalidRequestError(
                what="Checking the message parts", why="there is no text or image part",
                fix="pass at least one Part with text or inline_data", param="parts")
        if any(p.inline_data is not None for p in useful):
            self._core.check_image_input()
        for i, part in enumerate(useful):
            if part.text is not None:
                check_text(part.text, f"part {i}", "parts")
            if part.inline_data is not None:
                inline = part.inline_data
                mime, data = ((inline.get("mime_type"), inline.get("data"))
                              if isinstance(inline, Mapping) else
                              (getattr(inline, "mime_type", None), getattr(inline, "data", None)))
                check_image(mime, data, f"the image in part {i}", "parts")
        return Message(role=Role.USER, parts=list(useful))

    def _tool_message(self, results: list[ToolResult]) -> Message:
        if not isinstance(results, list | tuple):
            raise InvalidRequestError(
                what="Checking the tool results", why=f"they are {type(results).__name__}, not "
                "a list of ToolResult", fix="pass one ToolResult per FunctionCall of the last "
                "response, in a list", param="results")
        check_tool_results(results)
        return tool_message(order_tool_results(self.session.pending_calls(), results))

    def run(self, new: list[Message], schema: dict[str, Any] | None, options: dict[str, Any],
            stream: tuple[OnChunk, CancelToken | None, OnUsage | None] | None = None,
            *, record: bool = True) -> ProviderResponse:
        """One turn: validate and build the request from the history plus ``new``, send it
        (streaming when ``stream`` is given), and commit ``new`` and the reply when ``record``.

        Raises:
            GitHubModelsError: (a subclass) before any request, or what the service answered.
        """
        core = self._core
        if stream is not None:
            _check_stream_arguments(*stream)
        with core.scrubbed_errors(), self.session.turn_lock:  # turn_lock: not session.lock, so
            # get_history() never waits on I/O
            turn = core._prepare(self.session, new, schema, options,
                                 stream=stream is not None, record=record)
            runner = core._require_connected()
            if stream is None:
                data = runner.complete(turn.body, key=turn.key, tier=turn.tier)
                return core._finish_complete(turn, data)
            on_chunk, cancel_token, on_usage = stream
            acc, on_event = core._stream_sink(on_chunk, on_usage)
            try:
                runner.stream(turn.body, on_event, key=turn.key, tier=turn.tier,
                              cancel_token=cancel_token, on_attempt=acc.reset)
            except StreamCancelled:
                return core._finish_stream(turn, acc, cancelled=True)
            return core._finish_stream(turn, acc)

    async def _aturn(self, new: list[Message], schema: dict[str, Any] | None,
                     options: dict[str, Any],
                     stream: tuple[OnChunk, CancelToken | None, OnUsage | None] | None = None,
                     *, record: bool = True) -> ProviderResponse:
        core = self._core
        if stream is not None:
            _check_stream_arguments(*stream)
        import asyncio

        loop = asyncio.get_running_loop()
        lock = self._alocks.get(loop)
        if lock is None:  # an asyncio.Lock belongs to one loop; asyncio.run makes a new one
            lock = self._alocks[loop] = asyncio.Lock()
        with core.scrubbed_errors():
            return await self._aturn_locked(lock, new, schema, options, stream, record=record)

    async def _aturn_locked(self, lock: asyncio.Lock, new: list[Message],
                            schema: dict[str, Any] | None, options: dict[str, Any],
                            stream: tuple[OnChunk, CancelToken | None, OnUsage | None] | None,
                            *, record: bool) -> ProviderResponse:
        core = self._core
        async with lock:
            turn: PreparedTurn = core._prepare(self.session, new, schema, options,
                                               stream=stream is not None, record=record)
            runner = await core._async_runner()
            if stream is None:
                data = await runner.acomplete(turn.body, key=turn.key, tier=turn.tier)
                return core._finish_complete(turn, data)
            on_chunk, cancel_token, on_usage = stream
            acc, on_event = core._stream_sink(on_chunk, on_usage)
            try:
                await runner.astream(turn.body, on_event, key=turn.key, tier=turn.tier,
                                     cancel_token=cancel_token, on_attempt=acc.reset)
            except StreamCancelled:
                return core._finish_stream(turn, acc, cancelled=True)
            return core._finish_stream(turn, acc)

    # ---- sync ----

    def send_message(self, message: str, response_schema: dict[str, Any] | None = None,
                     **options: Any) -> ProviderResponse:
        """Send a user turn. Raises what ``GitHubModelsProvider.send_message`` raises."""
        return self.run([_user_text(message)], response_schema, options)

    def send_message_with_parts(self, parts: list[Part],
                                response_schema: dict[str, Any] | None = None,
                                **options: Any) -> ProviderResponse:
        """Send text and images. Raises InvalidRequestError for empty parts or text-only
        models, and what ``send_message`` raises."""
        return self.run([self._parts_message(parts)], response_schema, options)

    def send_tool_results(self, results: list[ToolResult],
                          response_schema: dict[str, Any] | None = None,
                          **options: Any) -> ProviderResponse:
        """Answer the pending function calls. Raises InvalidRequestError for results that do
        not match them, and what ``send_message`` raises."""
        return self.run([self._tool_message(results)], response_schema, options)

    def send_message_streaming(self, message: str, on_chunk: OnChunk,
                               cancel_token: CancelToken | None = None,
                               response_schema: dict[str, Any] | None = None,
                               on_usage_update: OnUsage | None = None,
                               **options: Any) -> ProviderResponse:
        """Stream a reply to a user turn. Raises what ``send_message`` raises."""
        return self.run([_user_text(message)], response_schema, options,
                          (on_chunk, cancel_token, on_usage_update))

    def send_tool_results_streaming(self, results: list[ToolResult], on_chunk: OnChunk,
                                    cancel_token: CancelToken | None = None,
                                    response_schema: dict[str, Any] | None = None,
                                    on_usage_update: OnUsage | None = None,
                                    **options: Any) -> ProviderResponse:
        """Stream the reply to tool results. Raises what ``send_tool_results`` raises."""
        return self.run([self._tool_message(results)], response_schema, options,
                          (on_chunk, cancel_token, on_usage_update))

    def generate(self, prompt: str, **options: Any) -> ProviderResponse:
        """One-shot completion on a blank session. Raises what ``send_message`` raises."""
        return Conversation(self._core, ChatSession()).run(
            [_user_text(prompt)], None, options, record=False)

    # ---- async ----

    async def asend_message(self, message: str, response_schema: dict[str, Any] | None = None,
                            **options: Any) -> ProviderResponse:
        """Async :meth:`send_message`."""
        return await self._aturn([_user_text(message)], response_schema, options)

    async def asend_message_with_parts(self, parts: list[Part],
                                       response_schema: dict[str, Any] | None = None,
                                       **options: Any) -> ProviderResponse:
        """Async :meth:`send_message_with_parts`."""
        return await self._aturn([self._parts_message(parts)], response_schema, options)

    async def asend_tool_results(self, results: list[ToolResult],
                                 response_schema: dict[str, Any] | None = None,
                                 **options: Any) -> ProviderResponse:
        """Async :meth:`send_tool_results`."""
        return await self._aturn([self._tool_message(results)], response_schema, options)

    async def asend_message_streaming(self, message: str, on_chunk: OnChunk,
                                      cancel_token: CancelToken | None = None,
                                      response_schema: dict[str, Any] | None = None,
                                      on_usage_update: OnUsage | None = None,
                                      **options: Any) -> ProviderResponse:
        """Async :meth:`send_message_streaming` (``on_chunk`` is called on the loop)."""
        return await self._aturn([_user_text(message)], response_schema, options,
                                 (on_chunk, cancel_token, on_usage_update))

    async def asend_tool_results_streaming(self, results: list[ToolResult], on_chunk: OnChunk,
                                           cancel_token: CancelToken | None = None,
                                           response_schema: dict[str, Any] | None = None,
                                           on_usage_update: OnUsage | None = None,
                                           **options: Any) -> ProviderResponse:
        """Async :meth:`send_tool_results_streaming`."""
        return await self._aturn([self._tool_message(results)], response_schema, options,
                                 (on_chunk, cancel_token, on_usage_update))

    async def agenerate(self, prompt: str, **options: Any) -> ProviderResponse:
        """Async :meth:`generate`."""
        return await Conversation(self._core, ChatSession())._aturn(
            [_user_text(prompt)], None, options, record=False)
