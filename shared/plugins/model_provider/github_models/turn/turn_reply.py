"""Reading a turn's answer: a completion body or a stream's chunks become one masked ``Reply``.

Any echo of a credential is masked here (text, tool calls, ``raw``; streamed pieces held back
until they cannot be the start of a secret). ``turn.py`` records what comes out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._host import FinishReason, Reply, TokenUsage, make_usage
from ..common.masking import SecretMasker, mask_response
from ..common.wire_check import WireShapeError, loads_json
from ..errors import ServiceUnavailableError, StructuredOutputError
from ..wire.streaming import MaskedAccumulator, StreamAccumulator, StreamProtocolError
from ..wire.tokens import estimate_request_tokens, estimate_tokens
from ..wire.wire_reply import response_from_wire

if TYPE_CHECKING:
    from .._host import CancelToken
    from ..config.settings import Settings
    from ..errors import ErrorContext

__all__ = ["masked", "parse_structured", "release_on_failure", "reply_from_body",
           "reply_from_stream", "stream_sink"]

ContextOf = Callable[[], "ErrorContext"]


def reply_from_body(data: Mapping[str, Any], context: ContextOf) -> Reply:
    """The reply in a completion body.

    Raises:
        ServiceUnavailableError: A 200 whose JSON is not a chat completion.
        StructuredOutputError: Tool-call arguments that are not JSON.
    """
    try:
        return response_from_wire(data)
    except WireShapeError as exc:
        raise ServiceUnavailableError(
            what="Reading the chat completion response",
            why=f"the endpoint answered 200 with JSON of the wrong shape: {exc}",
            fix="check that the endpoint speaks the chat-completions protocol (a gateway "
                "or proxy may be rewriting the body)",
            status=200, body=json.dumps(data, default=str)[:2000],
            context=context()) from exc
    except ValueError as exc:
        raise StructuredOutputError(
            what="Reading the model's tool calls", why=str(exc),
            fix="retry the request; if it persists, report the model's behaviour",
            raw_text=json.dumps(data)[:2000], context=context()) from exc


def stream_sink(settings: Settings, secrets: Callable[[], tuple[str, ...]],
                on_chunk: Callable[[str], None], on_usage: Callable[[TokenUsage], None] | None,
                on_thinking: Callable[[str], None] | None = None,
                cancel_token: CancelToken | None = None, *, prefetch: bool = True
                ) -> tuple[StreamAccumulator, Callable[[dict[str, Any]], str]]:
    """An accumulator for a stream and the per-event callback that feeds it, ``on_chunk`` and
    ``on_thinking`` (reasoning text: ``reasoning_content`` deltas and ``<think>`` blocks; an
    echo of a credential, even split over chunks, reaches neither whole).

    ``prefetch`` (sync calls) gets the Entra token first, so it is masked too; a cancel stops
    waiting for a credential that blocks (the stream then ends as cancelled). Async calls
    prefetch with ``await TokenCache.atoken()`` instead (never blocking the event loop).

    Raises:
        TokenInvalidError: The credential could not produce a token.
    """
    cache = settings.token_cache
    if prefetch and cache is not None and not cache.is_async:
        if cancel_token is None:
            cache.token()  # the Entra token the request will carry (cached), so it is masked too
        else:
            cache.token_unless(lambda: cancel_token.is_cancelled)
    known = [secrets()]
    acc = MaskedAccumulator(SecretMasker(known[0]), on_chunk, on_thinking,
                            SecretMasker(known[0]))

    def on_event(event: dict[str, Any]) -> str:
        now = secrets()
        if now != known[0]:
            # an Entra token issued after the maskers were built (an async credential's token
            # is fetched as the request goes; a 401 brings a fresh one): mask it from here on
            known[0] = now
            carried = acc.renew(SecretMasker(now), SecretMasker(now))
        else:
            carried = ""
        try:
            text = acc.feed(event)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise StreamProtocolError(
                f"the stream sent a chunk of an unexpected shape ({exc})") from exc
        acc.show_thinking(acc.thinking_added)
        shown = carried + (acc.masker.feed(text) if text else "")
        if shown:
            on_chunk(shown)
        if event.get("usage") and on_usage is not None and acc.usage is not None:
            on_usage(acc.usage)
        return shown

    return acc, on_event


def release_on_failure(acc: StreamAccumulator, exc: BaseException) -> None:
    """A stream that failed: the text the masker still held back (it might have begun a secret,
    and did not) reaches ``on_chunk`` and the error's ``partial_text``, as all text before the
    failure does."""
    if not isinstance(acc, MaskedAccumulator):
        return
    rest = acc.release()
    if rest and isinstance(getattr(exc, "partial_text", None), str):
        exc.partial_text += rest  # type: ignore[attr-defined]


def reply_from_stream(acc: StreamAccumulator, body: Mapping[str, Any], context: ContextOf, *,
                      cancelled: bool = False) -> Reply:
    """The reply the stream's chunks make (``body`` is the request, for a usage estimate).

    Raises:
        StructuredOutputError: Streamed tool-call arguments that are not JSON.
    """
    if isinstance(acc, MaskedAccumulator) and not cancelled:
        acc.release()  # the held-back end of the text was not a secret after all
    if cancelled:
        # text arrived, so the request was answered and billed: the stream's usage if it
        # came, else an estimate (marked); before any text nothing is recorded (see turn.py)
        usage, raw = acc.usage or TokenUsage(), None
        if acc.usage is None and acc.text:
            sent = estimate_request_tokens(body.get("messages") or (), body.get("tools"))
            out = estimate_tokens(acc.text)
            usage = make_usage(sent, out, sent + out, reported=False)
            raw = {"usage_estimated": True}
        return Reply(text=acc.text or None, function_calls=[], usage=usage,
                     finish_reason=FinishReason.CANCELLED, raw=raw, thinking=acc.thinking)
    try:
        calls = acc.function_calls()
    except ValueError as exc:
        raise StructuredOutputError(
            what="Reading the model's streamed tool calls",
            why=f"the arguments are not valid JSON: {exc}",
            fix="retry the request; if it persists, report the model's behaviour",
            raw_text=acc.text, context=context()) from exc
    return Reply(text=acc.text or None, function_calls=calls, usage=acc.usage or TokenUsage(),
                 finish_reason=acc.finish_reason, raw={"model": acc.model, "chunks": acc.chunks},
                 thinking=acc.thinking)


@functools.lru_cache(maxsize=8)
def _masker(secrets: tuple[str, ...]) -> SecretMasker:
    return SecretMasker(secrets)  # one per set of credentials: scrub() is stateless


def masked(reply: Reply, secrets: tuple[str, ...]) -> Reply:
    """The reply with any echo of a credential masked (text, calls, raw)."""
    result: Reply = mask_response(reply, _masker(secrets))
    return result


def parse_structured(text: str | None, context: ContextOf) -> Any:
    """The JSON value of a ``response_schema`` reply.

    Raises:
        StructuredOutputError: The reply is not valid JSON.
    """
    try:
        return loads_json(text or "")
    except ValueError as exc:
        detail = (f"{exc.msg} at position {exc.pos}" if isinstance(exc, json.JSONDecodeError)
                  else str(exc))
        raise StructuredOutputError(
            what="Parsing the model's reply against response_schema",
            why=f"the reply is not valid JSON ({detail})",
            fix="retry, simplify the schema, or choose a model with structured output "
                "support (openai/gpt-4o, openai/gpt-4.1)",
            raw_text=text or "", context=context()) from exc
