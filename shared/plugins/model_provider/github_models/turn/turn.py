"""One conversation turn, top to bottom: prepare the request, send it, record the reply.

``Messaging`` holds the public messaging calls (``send_message``, ``send_tool_results``, their
streaming forms, ``generate`` and every async twin), written once: ``GitHubModelsProvider``
(its default session) and ``Conversation`` (any other session) both inherit them, and supply
one hook, ``_turn_on()``: the provider core and the session a turn runs on. Each call builds the
turn's new messages and runs :func:`run_turn` (or :func:`arun_turn`):

1. prepare (``turn_request.prepare``): options, context fitting, the body; nothing is sent on
   bad input;
2. send (``calls.CallRunner``): pacing slot, transport, retry decisions (``retry.py``);
3. record (:func:`finish`): the masked reply (``turn_reply``) and, only on success, the new
   messages and the reply in the session's history.

The provider inherits ``Messaging``, so this module loads with it; what a turn needs (checks,
conversion, the runner, error mapping) is imported at the first call (cold start).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .._host import Message, Part, ProviderResponse, Role, TokenUsage, input_tokens, set_cost

if TYPE_CHECKING:
    from .._host import CancelToken, Reply, ToolResult
    from ..wire.session import ChatSession
    from .core import ProviderCore
    from .turn_request import PreparedTurn, TurnState

__all__ = ["Messaging", "OnChunk", "OnUsage", "arun_turn", "run_turn"]

OnChunk = Callable[[str], None]
OnUsage = Callable[[TokenUsage], None]
OnThinking = Callable[[str], None]
# on_chunk, cancel_token, on_usage_update, on_thinking
Stream = tuple[OnChunk, "CancelToken | None", "OnUsage | None", "OnThinking | None"]
NewInput = Literal["text", "parts", "tool_results"]


class Messaging:
    """The messaging calls of one session, sync and async.

    Each raises, before any request: ``ConfigurationError`` (not initialized or connected),
    ``InvalidRequestError`` (empty message, bad option, mismatched tool results),
    ``ContextLimitError`` (prompt too large); after it: the ``GitHubModelsError`` subclass of
    what the service answered (after retries), ``StructuredOutputError`` (reply not JSON for a
    ``response_schema``). A failed call leaves the history exactly as it was.
    """

    def _turn_on(self) -> tuple[ProviderCore, ChatSession]:
        """The provider core and the session a turn runs on (supplied by the class)."""
        raise NotImplementedError

    def _session_turn(self, kind: NewInput, given: Any, schema: dict[str, Any] | None,
                      options: dict[str, Any], stream: Stream | None = None, *,
                      one_shot: bool = False) -> ProviderResponse:
        """Build the new message from what the caller gave, then :func:`run_turn` it on this
        session (``one_shot``: on a blank session, nothing recorded)."""
        core, session = self._turn_on()
        if one_shot:
            session = blank_session()
        new = [_new_message(kind, given, core, session)]
        return run_turn(core, session, new, schema, options, stream, record=not one_shot)

    async def _asession_turn(self, kind: NewInput, given: Any, schema: dict[str, Any] | None,
                             options: dict[str, Any], stream: Stream | None = None, *,
                             one_shot: bool = False) -> ProviderResponse:
        """Async :meth:`_session_turn`."""
        core, session = self._turn_on()
        if one_shot:
            session = blank_session()
        new = [_new_message(kind, given, core, session)]
        return await arun_turn(core, session, new, schema, options, stream,
                               record=not one_shot)

    # ---- sync ----

    def generate(self, prompt: str, **options: Any) -> ProviderResponse:
        """One-shot completion: no history, no tools, nothing recorded in the session."""
        return self._session_turn("text", prompt, None, options, one_shot=True)

    def send_message(self, message: str, response_schema: dict[str, Any] | None = None,
                     **options: Any) -> ProviderResponse:
        """Send a user turn; return the reply (text and/or function calls).

        ``options`` are per-call generation options (temperature, max_tokens, stop ...);
        ``response_schema`` (a JSON schema) asks for JSON, parsed into ``structured_output``.
        """
        return self._session_turn("text", message, response_schema, options)

    def send_message_with_parts(self, parts: list[Part],
                                response_schema: dict[str, Any] | None = None,
                                **options: Any) -> ProviderResponse:
        """Send a user turn of text and images (``Part.inline_data``); refused for models
        without image input."""
        return self._session_turn("parts", parts, response_schema, options)

    def send_tool_results(self, results: list[ToolResult],
                          response_schema: dict[str, Any] | None = None,
                          **options: Any) -> ProviderResponse:
        """Answer every function call of the last reply (each becomes its own tool message,
        in call order, whatever order ``results`` come in)."""
        return self._session_turn("tool_results", results, response_schema, options)

    def send_message_streaming(self, message: str, on_chunk: OnChunk,
                               cancel_token: CancelToken | None = None,
                               response_schema: dict[str, Any] | None = None,
                               on_usage_update: OnUsage | None = None,
                               on_thinking: OnThinking | None = None,
                               **options: Any) -> ProviderResponse:
        """Like ``send_message``, calling ``on_chunk(text)`` as text arrives,
        ``on_thinking(text)`` as reasoning text arrives (never part of the text) and
        ``on_usage_update(usage)`` when usage is known. A cancelled token stops the stream
        promptly; the partial text returns with ``FinishReason.CANCELLED``."""
        return self._session_turn("text", message, response_schema, options,
                                  (on_chunk, cancel_token, on_usage_update, on_thinking))

    def send_tool_results_streaming(self, results: list[ToolResult], on_chunk: OnChunk,
                                    cancel_token: CancelToken | None = None,
                                    response_schema: dict[str, Any] | None = None,
                                    on_usage_update: OnUsage | None = None,
                                    on_thinking: OnThinking | None = None,
                                    **options: Any) -> ProviderResponse:
        """Like ``send_tool_results``, streaming the reply."""
        return self._session_turn("tool_results", results, response_schema, options,
                                  (on_chunk, cancel_token, on_usage_update, on_thinking))

    # ---- async twins ----

    async def agenerate(self, prompt: str, **options: Any) -> ProviderResponse:
        """Async ``generate``."""
        return await self._asession_turn("text", prompt, None, options, one_shot=True)

    async def asend_message(self, message: str, response_schema: dict[str, Any] | None = None,
                            **options: Any) -> ProviderResponse:
        """Async ``send_message``."""
        return await self._asession_turn("text", message, response_schema, options)

    async def asend_message_with_parts(self, parts: list[Part],
                                       response_schema: dict[str, Any] | None = None,
                                       **options: Any) -> ProviderResponse:
        """Async ``send_message_with_parts``."""
        return await self._asession_turn("parts", parts, response_schema, options)

    async def asend_tool_results(self, results: list[ToolResult],
                                 response_schema: dict[str, Any] | None = None,
                                 **options: Any) -> ProviderResponse:
        """Async ``send_tool_results``."""
        return await self._asession_turn("tool_results", results, response_schema, options)

    async def asend_message_streaming(self, message: str, on_chunk: OnChunk,
                                      cancel_token: CancelToken | None = None,
                                      response_schema: dict[str, Any] | None = None,
                                      on_usage_update: OnUsage | None = None,
                                      on_thinking: OnThinking | None = None,
                                      **options: Any) -> ProviderResponse:
        """Async ``send_message_streaming`` (``on_chunk`` is called on the loop)."""
        return await self._asession_turn("text", message, response_schema, options,
                                         (on_chunk, cancel_token, on_usage_update, on_thinking))

    async def asend_tool_results_streaming(self, results: list[ToolResult],
                                           on_chunk: OnChunk,
                                           cancel_token: CancelToken | None = None,
                                           response_schema: dict[str, Any] | None = None,
                                           on_usage_update: OnUsage | None = None,
                                           on_thinking: OnThinking | None = None,
                                           **options: Any) -> ProviderResponse:
        """Async ``send_tool_results_streaming``."""
        return await self._asession_turn("tool_results", results, response_schema, options,
                                         (on_chunk, cancel_token, on_usage_update, on_thinking))


_BLANK: list[ChatSession] = []


def blank_session() -> ChatSession:
    """The empty session every one-shot turn (``generate``) runs on: shared, since a turn
    that records nothing only reads its session (no history, no tools, no instruction)."""
    if not _BLANK:
        from ..wire.session import ChatSession

        _BLANK.append(ChatSession())
    return _BLANK[0]


def _new_message(kind: NewInput, given: Any, core: ProviderCore, session: ChatSession
                 ) -> Message:
    """The turn's new message: a user text, user text and images, or the tool results."""
    from .turn_request import parts_message, tool_results_message, user_text

    if kind == "text":
        return user_text(given)
    if kind == "parts":
        return parts_message(given, core.check_image_input)
    return tool_results_message(session, given)


# ---------------------------------------------------------------- the turn

def run_turn(core: ProviderCore, session: ChatSession, new: list[Message],
             schema: dict[str, Any] | None, options: dict[str, Any],
             stream: Stream | None = None, *, record: bool = True) -> ProviderResponse:
    """One turn: prepare the request from the history plus ``new``, send it (streaming when
    ``stream`` is given), and commit ``new`` and the reply when ``record`` and it succeeded.

    Raises:
        GitHubModelsError: (a subclass) before any request, or what the service answered.
    """
    from ..errors import GitHubModelsError
    from ..wire.streaming import StreamCancelled
    from .turn_reply import release_on_failure, reply_from_body, reply_from_stream, stream_sink
    from .turn_request import check_stream_arguments, prepare

    if stream is not None:
        check_stream_arguments(*stream[:3], on_thinking=stream[3])
    # turn_lock, not session.lock: get_history() never waits on I/O; a turn that records
    # nothing only reads its session, so it needs none (one-shot turns share a blank one)
    with core.scrubbed_errors(), session.turn_lock if record else contextlib.nullcontext():
        state = core.turn_state()
        turn = prepare(state, session, new, schema, options, stream=stream is not None,
                       record=record)
        runner = core.require_connected()
        if stream is None:
            data = runner.complete(turn.body, key=turn.key, tier=turn.tier)
            return finish(core, state, turn, reply_from_body(data, core.error_context))
        on_chunk, cancel_token, on_usage, on_thinking = stream
        acc, on_event = stream_sink(state.settings, core.secrets, on_chunk, on_usage,
                                    on_thinking, cancel_token)
        cancelled = False
        try:
            runner.stream(turn.body, on_event, key=turn.key, tier=turn.tier,
                          cancel_token=cancel_token, on_attempt=acc.reset)
        except StreamCancelled:
            cancelled = True
        except GitHubModelsError as exc:
            release_on_failure(acc, exc)
            raise
        return finish(core, state, turn, reply_from_stream(acc, turn.body, core.error_context,
                                                           cancelled=cancelled))


async def arun_turn(core: ProviderCore, session: ChatSession, new: list[Message],
                    schema: dict[str, Any] | None, options: dict[str, Any],
                    stream: Stream | None = None, *, record: bool = True) -> ProviderResponse:
    """Async :func:`run_turn` (one turn at a time per session and event loop).

    Raises:
        GitHubModelsError: (a subclass) before any request, or what the service answered.
    """
    from .turn_reply import reply_from_body
    from .turn_request import prepare

    if stream is not None:
        from .turn_request import check_stream_arguments

        check_stream_arguments(*stream[:3], on_thinking=stream[3])
    lock = session.async_lock() if record else contextlib.nullcontext()  # as in run_turn
    with core.scrubbed_errors():
        async with lock:
            state = core.turn_state()
            turn = prepare(state, session, new, schema, options, stream=stream is not None,
                           record=record, encode=True)  # the aio transport sends its bytes
            runner = await core.async_runner()
            cache = state.settings.token_cache
            if cache is not None:  # before pacing (its scope is the identity) and the stream
                await cache.atoken()  # (so it is masked); a blocking credential: off the loop
            if stream is None:
                data = await runner.acomplete(turn.body, key=turn.key, tier=turn.tier)
                return finish(core, state, turn, reply_from_body(data, core.error_context))
            from ..errors import GitHubModelsError
            from ..wire.streaming import StreamCancelled
            from .turn_reply import release_on_failure, reply_from_stream, stream_sink

            on_chunk, cancel_token, on_usage, on_thinking = stream
            acc, on_event = stream_sink(state.settings, core.secrets, on_chunk, on_usage,
                                        on_thinking, prefetch=False)
            cancelled = False
            try:
                await runner.astream(turn.body, on_event, key=turn.key, tier=turn.tier,
                                     cancel_token=cancel_token, on_attempt=acc.reset)
            except StreamCancelled:
                cancelled = True
            except GitHubModelsError as exc:
                release_on_failure(acc, exc)
                raise
            return finish(core, state, turn, reply_from_stream(
                acc, turn.body, core.error_context, cancelled=cancelled))


# ---------------------------------------------------------------- recording

def finish(core: ProviderCore, state: TurnState, turn: PreparedTurn, reply: Reply
           ) -> ProviderResponse:
    """Mask the reply, parse a schema reply, and record the turn; return the host response.

    Raises:
        StructuredOutputError: A ``response_schema`` reply that is not JSON (usage still
            counted: it was billed).
    """
    from .turn_reply import masked

    reply = masked(reply, core.secrets())
    if reply.cancelled and not reply.text:
        return reply.to_host()  # cancelled before any text: nothing happened, nothing recorded
    if turn.schema is not None and not reply.cancelled:
        from ..errors import StructuredOutputError
        from .turn_reply import parse_structured

        try:
            reply.structured_output = parse_structured(reply.text, core.error_context)
        except StructuredOutputError:
            count_usage(core, state, turn, reply)  # billed all the same
            raise
    count_usage(core, state, turn, reply)
    if turn.record:
        parts: list[Part] = []
        if reply.text:
            parts.append(Part(text=reply.text))
        if not reply.cancelled:
            parts.extend(Part(function_call=c) for c in reply.function_calls)
        turn.session.commit([*turn.new, Message(role=Role.MODEL, parts=parts)]
                            if parts else turn.new)
    return reply.to_host()


def count_usage(core: ProviderCore, state: TurnState, turn: PreparedTurn, reply: Reply) -> None:
    """Add the reply's usage to the provider's totals and, when recorded, the session's."""
    pricing = state.info.pricing if state.info else None
    units = None
    if pricing is not None:  # cost_usd where the pricing table knows the model
        from ..models.pricing import TOKEN_UNIT_PRICE_USD, token_units

        all_in, cached = input_tokens(reply.usage)
        units = token_units(pricing, all_in, reply.usage.output_tokens, cached)  # once: the
        # cost and both totals use it (cost_usd divides by the exact integer, as here)
        set_cost(reply.usage, units / round(1 / TOKEN_UNIT_PRICE_USD))
    core.count_usage(state.model, reply.usage, pricing, units)
    if turn.record:
        turn.session.usage.add(state.model, reply.usage, pricing, units)
