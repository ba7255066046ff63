"""Preparing a turn: the new messages a call adds, and the request body built from the history.

Everything here runs before any request is sent, so bad input fails with a clear error and the
session is left untouched. ``turn.py`` calls these in order; nothing here sends or records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._host import Message, Part, Role, ToolResult
from ..config.options import adapt_for_model, validate_options
from ..errors import InvalidRequestError
from ..wire.fitting import oldest_to_keep, too_large
from ..wire.inputs import (
    check_image,
    check_json_value,
    check_sendable,
    check_text,
    check_tool_results,
)
from ..wire.session import ChatSession, order_tool_results, tool_message
from ..wire.tokens import MESSAGE_OVERHEAD, REPLY_PRIMING, estimate_message_tokens, estimate_tokens
from ..wire.wire_request import assemble_messages, message_to_wire

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..models.catalog import ModelInfo

__all__ = ["EncodedBody", "PreparedTurn", "TurnState", "check_stream_arguments",
           "parts_message", "prepare", "refuse_images", "tool_results_message", "user_text"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not


@dataclass(slots=True)
class TurnState:
    """What one turn reads from the provider, taken once when it starts
    (``ProviderCore.turn_state``). ``reply_cap``: the cap sent when no ``max_tokens`` is set
    (``budget.py``)."""

    settings: Settings
    defaults: dict[str, Any]
    model: str
    wire_id: str
    info: ModelInfo | None
    limits_key: str | None
    input_cap: tuple[int | None, str]
    reply_cap: int | None = None


class EncodedBody(dict[str, Any]):
    """A request body and ``encoded``, its UTF-8 JSON as ``check_sendable`` made it: the aio
    transport sends these bytes instead of encoding the body again (never changed after)."""

    __slots__ = ("encoded",)
    encoded: bytes


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """A validated request and what to record when it succeeds."""

    session: ChatSession
    new: list[Message]
    schema: dict[str, Any] | None
    body: dict[str, Any]
    key: str
    tier: str | None
    record: bool


# ---------------------------------------------------------------- the new messages of a call

def user_text(text: str) -> Message:
    """A user message of ``text``.

    Raises:
        InvalidRequestError: Not a string, empty, or holding what cannot be sent.
    """
    if not isinstance(text, str):
        raise InvalidRequestError(what="Checking the message",
                                  why=f"it is {type(text).__name__}, not a string",
                                  fix="send the text as str", param="message")
    if not text.strip():
        raise InvalidRequestError(what="Checking the message", why="it is empty",
                                  fix="send a non-empty string", param="message")
    check_text(text, "the message", "message")
    return Message(role=Role.USER, parts=[Part(text=text)])


def refuse_images(info: ModelInfo | None) -> None:
    """Refuse images for a model whose catalog entry has no image input (unknown ids pass).

    Raises:
        InvalidRequestError: The model takes no image input.
    """
    if info is not None and not info.supports_images:
        raise InvalidRequestError(
            what=f"Sending an image to {info.id}",
            why=f"the model accepts no image input (catalog: {', '.join(info.input_modalities)})",
            fix="choose a model with image input, e.g. openai/gpt-4o", param="parts")


def parts_message(parts: list[Part], check_image_input: Callable[[], None]) -> Message:
    """A user message of text and image parts (``check_image_input`` refuses text-only models).

    Raises:
        InvalidRequestError: No usable part, a malformed part or image, or a text-only model.
    """
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
        check_image_input()
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


def tool_results_message(session: ChatSession, results: list[ToolResult]) -> Message:
    """The tool message answering the session's pending function calls, in call order.

    Raises:
        InvalidRequestError: ``results`` do not match the pending calls.
    """
    if not isinstance(results, list | tuple):
        raise InvalidRequestError(
            what="Checking the tool results", why=f"they are {type(results).__name__}, not "
            "a list of ToolResult", fix="pass one ToolResult per FunctionCall of the last "
            "response, in a list", param="results")
    check_tool_results(results)
    return tool_message(order_tool_results(session.pending_calls(), results))


def check_stream_arguments(on_chunk: Any, cancel_token: Any, on_usage: Any, *,
                           on_thinking: Any = None) -> None:
    """Refuse callbacks and tokens that would fail only once the stream is running.

    Raises:
        InvalidRequestError: A callback that is not callable, or a token that is not one.
    """
    if not callable(on_chunk):
        raise InvalidRequestError(what="Checking on_chunk", why=f"it is {type(on_chunk).__name__}"
                                  ", not a callable", fix="pass a function that takes the text",
                                  param="on_chunk")
    if on_thinking is not None and not callable(on_thinking):
        raise InvalidRequestError(what="Checking on_thinking", why=f"it is "
                                  f"{type(on_thinking).__name__}, not a callable",
                                  fix="pass a function that takes the reasoning text, or None",
                                  param="on_thinking")
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


# ---------------------------------------------------------------- the request body

def prepare(state: TurnState, session: ChatSession, new: list[Message],
            schema: dict[str, Any] | None, options: Mapping[str, Any], *,
            stream: bool, record: bool = True, encode: bool = False) -> PreparedTurn:
    """Validate and build one request; nothing is sent and nothing is recorded.

    ``encode``: check the whole body by encoding it once and keep that encoding for the
    transport (an :class:`EncodedBody`); else only what was not checked before is encoded.

    Raises:
        InvalidRequestError, ContextLimitError: before any request.
    """
    if state.info is not None and state.info.is_embedding:
        raise InvalidRequestError(
            what=f"Chatting with {state.info.id}",
            why="it is an embeddings model: it turns text into vectors and does not answer "
                "messages", fix="connect a chat model (e.g. openai/gpt-4o) for messages; "
            "for vectors call embed(texts, model=...)", param="model")
    opts = request_options(state, schema, options)
    with session.lock:
        history = list(session.history)
    try:
        wire_messages, checked = fit(state, session, history, new)
    except (TypeError, ValueError, RecursionError) as exc:  # a history edited in place
        raise InvalidRequestError(
            what="Converting the conversation history", why=f"it holds a value that cannot "
            f"be sent ({type(exc).__name__}: {exc})", fix="start a new session, or restore "
            "the history from serialize_history output", param="history") from exc
    body: dict[str, Any] = {"model": state.wire_id, "messages": wire_messages}
    if session.wire_tools:
        body["tools"] = session.wire_tools
    body.update(opts)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    # the last net: nothing that cannot be encoded is ever sent (cached history was checked
    # when it was cached, so only the rest of the body is encoded here, unless the encoding
    # is kept: then the whole body is encoded once, here, and not again by the transport)
    if encode:
        body = EncodedBody(body)
        body.encoded = check_sendable(body)
    else:
        check_sendable({**body, "messages": [m for m in wire_messages if id(m) not in checked]})
    return PreparedTurn(session, new, schema, body, state.model, state.limits_key, record)


def request_options(state: TurnState, schema: dict[str, Any] | None,
                    call: Mapping[str, Any]) -> dict[str, Any]:
    """The call's options over the defaults, adapted to the model, with ``response_format``.

    Raises:
        InvalidRequestError: An unknown option, a value out of range, or a bad schema.
    """
    call_opts = validate_options(call, state.settings.profile)
    info = state.info
    if schema is not None:
        if not isinstance(schema, Mapping) or not schema:
            raise InvalidRequestError(
                what="Checking response_schema", why="it is not a JSON-schema object",
                fix="pass a dict such as {'type': 'object', 'properties': {...}}",
                param="response_schema")
        check_json_value(schema, "response_schema", "response_schema")
        if (info is not None and not info.structured_output
                and state.settings.profile.knows_model_ids):
            raise InvalidRequestError(
                what=f"Asking {info.id} for structured output",
                why="the catalog says this model does not support json_schema output",
                fix="choose e.g. openai/gpt-4o or openai/gpt-4.1, or drop response_schema",
                param="response_schema")
        call_opts["response_format"] = {"type": "json_schema", "json_schema": {
            "name": str(schema.get("title") or "response").replace(" ", "_")[:64],
            "schema": dict(schema)}}
    token_param = info.token_param if info else "max_tokens"
    opts = adapt_for_model(
        state.defaults, call_opts, model=state.model, token_param=token_param,
        supports_temperature=info.supports_temperature if info else True,
        max_output_tokens=info.max_output_tokens if info else None,
        supports_effort=info.reasoning_effort if info else True)
    if token_param not in opts and state.reply_cap:
        # the cap get_max_output_tokens() reports, so jaato's budget check holds on the wire
        opts[token_param] = state.reply_cap
    return opts


def fit(state: TurnState, session: ChatSession, history: list[Message], new: list[Message]
        ) -> tuple[list[dict[str, Any]], set[int]]:
    """Wire messages that fit the input cap, trimming the oldest exchanges when allowed, and
    the ids of those among them already known to encode (cached history, see wire_cache).

    An exchange starts at a user text message, so a tool call is never sent without its
    results. What is sent shrinks; the stored history keeps everything.

    Raises:
        ContextLimitError: Too large (even after trimming, when trimming is on).
    """
    info = state.info
    supports_system = info.supports_system if info else True
    limit, source = state.input_cap
    converted = [session.converted(m) for m in history]
    fresh = [(wire, estimate_message_tokens(wire)) for wire in map(message_to_wire, new)]
    system = session.system_instruction
    fixed = (REPLY_PRIMING + session.tools_tokens + sum(t for _, t in fresh)
             + (estimate_tokens(system) + MESSAGE_OVERHEAD if system else 0))
    start, estimate = oldest_to_keep(history, [t for _, t, _ in converted], fixed, limit,
                                     trim=state.settings.trim_history)
    if limit and estimate > limit:
        raise too_large(
            estimate, limit, source, start, model=state.model, tier=state.limits_key,
            window=info.max_input_tokens if info else None)
    if start:
        logger.info("dropped the %d oldest messages to fit %d tokens", start, limit)
    kept = converted[start:]
    checked = {id(item) for wire, _, ok in kept if ok for item in wire}
    return assemble_messages([w for w, _, _ in kept] + [w for w, _ in fresh],
                             session.system_instruction, supports_system=supports_system
                             ), checked
