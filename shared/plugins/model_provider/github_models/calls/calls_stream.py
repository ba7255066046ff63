"""The I/O-free steps of pumping a stream, shared by the sync and async runners: feed a block of
the body to the SSE parser and the caller, check how the body ended, and a cancel check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..transport.transport import TransportFailure
from ..wire.streaming import SSEParser, StreamCancelled

if TYPE_CHECKING:
    from .._host import CancelToken

__all__ = ["cancel_check", "end_of_body", "feed_block"]


def feed_block(parser: SSEParser, block: bytes, on_event: Callable[[dict[str, Any]], str],
          delivered: list[str], cancel_token: CancelToken | None) -> bool:
    """Hand a block's events to ``on_event``; return True at ``[DONE]``.

    Raises:
        StreamCancelled: The token fired.
        StreamEventError, StreamProtocolError: From the parser.
    """
    for event in parser.feed(block):
        if cancel_token is not None and cancel_token.is_cancelled:
            raise StreamCancelled()  # nothing reaches the caller after a cancel
        text = on_event(event)
        if text:
            delivered.append(text)
    if parser.pending_error:  # an error event followed the text just delivered
        parser.close()  # raises it
    if parser.done:
        return True
    if cancel_token is not None and cancel_token.is_cancelled:
        raise StreamCancelled()
    return False


def cancel_check(cancel_token: CancelToken | None) -> Callable[[], None] | None:
    """A callable that raises StreamCancelled once ``cancel_token`` fired (None without one)."""
    if cancel_token is None:
        return None

    def check() -> None:
        if cancel_token.is_cancelled:
            raise StreamCancelled()
    return check


def end_of_body(parser: SSEParser, on_event: Callable[[dict[str, Any]], str],
                 delivered: list[str], cancel_token: CancelToken | None) -> None:
    """Check how the body ended: a cancel, ``[DONE]`` (or a finish chunk), or an interruption.

    Raises:
        StreamCancelled: The token fired.
        TransportFailure: The body ended before ``[DONE]`` (after flushing what it held).
    """
    if cancel_token is not None and cancel_token.is_cancelled:
        raise StreamCancelled()
    if parser.done:
        return
    for event in parser.close():
        text = on_event(event)
        if text:
            delivered.append(text)
    if parser.finished:  # ended cleanly after the finish chunk: complete without [DONE]
        return
    raise TransportFailure("stream_interrupted", "the stream ended before data: [DONE]",
                           response_started=True)
