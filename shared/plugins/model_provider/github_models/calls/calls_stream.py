"""A streamed call: its I/O-free steps, shared by both runners, and the sync runner's attempt.

Shared (no I/O): :class:`StreamCall` (the call's arguments and cancel check), ``feed_block``
(a block of the body to the SSE parser and the caller), ``end_of_body`` (how the body ended),
``stream_failure`` and ``raise_pump_error`` (what a broken stream or a bad event becomes).
The sync attempt (``stream_attempt``: the pacing slot, opening with a cancellable wait, the
pump with a cancel watcher thread) is driven by ``calls.run_attempts``; the async one is in
``calls_async``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from ..errors import GitHubModelsError, error_from_connection, error_from_stream_event
from ..transport.azure_boundary import TransportFailure
from ..transport.transport import CHAT_PATH
from ..wire.streaming import SSEParser, StreamCancelled, StreamEventError, StreamProtocolError

if TYPE_CHECKING:
    from .._host import CancelToken
    from ..common.clock import Clock
    from ..failures.error_context import ErrorContext
    from ..pacing.pacing import Pacer
    from ..pacing.pacing_windows import Permit
    from ..transport.transport import StreamHandle, SyncTransport

__all__ = ["StreamCall", "cancel_check", "end_of_body", "feed_block", "raise_pump_error",
           "stream_attempt", "stream_failure"]

PUMP_ERRORS = (StreamEventError, StreamProtocolError, TransportFailure)


class StreamRunner(Protocol):
    """What the sync stream attempt needs of its runner (``calls.CallRunner`` is one; naming
    the interface here keeps this module below ``calls`` in the import graph)."""

    transport: SyncTransport
    pacer: Pacer
    clock: Clock
    context: Callable[[], ErrorContext]

    def count_sent(self, waited: float) -> None: ...

    def answered(self, permit: Permit, status: int) -> None: ...

    def accepted(self, headers: Mapping[str, str]) -> None: ...

    def refused(self, status: int, headers: Mapping[str, str], body: bytes
                ) -> GitHubModelsError: ...


def cancel_check(cancel_token: CancelToken | None) -> Callable[[], None] | None:
    """A callable that raises StreamCancelled once ``cancel_token`` fired (None without one)."""
    if cancel_token is None:
        return None

    def check() -> None:
        if cancel_token.is_cancelled:
            raise StreamCancelled()
    return check


@dataclass(frozen=True, slots=True)
class StreamCall:
    """One streamed call's arguments, the same for every attempt."""

    body: Mapping[str, Any]
    on_event: Callable[[dict[str, Any]], str]
    key: str
    tier: str | None
    cancel_token: CancelToken | None
    on_attempt: Callable[[], None] | None
    check: Callable[[], None] | None  # raises StreamCancelled once the token fired

    @classmethod
    def of(cls, body: Mapping[str, Any], on_event: Callable[[dict[str, Any]], str], key: str,
           tier: str | None, cancel_token: CancelToken | None,
           on_attempt: Callable[[], None] | None) -> StreamCall:
        """The call, with its cancel check."""
        return cls(body, on_event, key, tier, cancel_token, on_attempt,
                   cancel_check(cancel_token))

    def begin(self) -> list[str]:
        """Start an attempt from a clean slate: the text it delivers goes in the list returned."""
        if self.on_attempt is not None:
            self.on_attempt()
        return []

    @property
    def cancelled(self) -> bool:
        """Whether the caller cancelled."""
        return self.cancel_token is not None and self.cancel_token.is_cancelled

    def refuse_if_cancelled(self) -> None:
        """Raises StreamCancelled once the caller cancelled."""
        if self.cancelled:
            raise StreamCancelled()


def feed_block(parser: SSEParser, block: bytes, call: StreamCall, delivered: list[str]) -> bool:
    """Hand a block's events to ``call.on_event``; return True at ``[DONE]``.

    Raises:
        StreamCancelled: The token fired.
        StreamEventError, StreamProtocolError: From the parser.
    """
    for event in parser.feed(block):
        call.refuse_if_cancelled()  # nothing reaches the caller after a cancel
        text = call.on_event(event)
        if text:
            delivered.append(text)
    if parser.pending_error:  # an error event followed the text just delivered
        parser.close()  # raises it
    if parser.done:
        return True
    call.refuse_if_cancelled()
    return False


def end_of_body(parser: SSEParser, call: StreamCall, delivered: list[str]) -> None:
    """Check how the body ended: a cancel, ``[DONE]`` (or a finish chunk), or an interruption.

    Raises:
        StreamCancelled: The token fired.
        TransportFailure: The body ended before ``[DONE]`` (after flushing what it held).
    """
    call.refuse_if_cancelled()
    if parser.done:
        return
    for event in parser.close():
        text = call.on_event(event)
        if text:
            delivered.append(text)
    if parser.finished:  # ended cleanly after the finish chunk: complete without [DONE]
        return
    raise TransportFailure("stream_interrupted", "the stream ended before data: [DONE]",
                           response_started=True)


def stream_failure(context: ErrorContext, failure: TransportFailure, delivered: list[str]
                   ) -> GitHubModelsError:
    """The error for a broken stream: retried while the caller saw no text."""
    # For a stream what matters is whether the caller saw text: a cut before any text
    # (even after headers or tool-call deltas) is safe to retry from scratch.
    kind, detail = failure.kind, failure.detail
    if delivered and not kind.startswith("stream_"):
        # whatever broke it (a read timeout, a reset), the caller holds partial text
        kind, detail = "stream_interrupted", f"{failure.kind}: {failure.detail}"
    error = error_from_connection(kind, detail, context,
                                  response_started=bool(delivered),
                                  partial_text="".join(delivered))
    error.__cause__ = failure
    return error


def raise_pump_error(context: ErrorContext, exc: Exception, call: StreamCall,
                     delivered: list[str]) -> NoReturn:
    """Raise what a failure while reading a stream means (called in its ``except``): a bad
    event -> its error; a broken connection -> ``StreamCancelled`` after a cancel, else itself.
    """
    if isinstance(exc, TransportFailure):
        if not call.cancelled:
            raise exc
        raise StreamCancelled() from exc
    if isinstance(exc, StreamEventError):
        raise error_from_stream_event(exc.payload, context,
                                      partial_text="".join(delivered)) from exc
    raise error_from_connection("stream_malformed", str(exc), context,
                                response_started=True, partial_text="".join(delivered)) from exc


# ---- the sync runner's attempt ----

def stream_attempt(runner: StreamRunner, call: StreamCall) -> GitHubModelsError | None:
    """One attempt of a sync stream (``calls.run_attempts`` drives it): None when it finished,
    else the error it ended with.

    Raises:
        StreamCancelled: The cancel token fired.
    """
    delivered = call.begin()
    try:
        with runner.pacer.slot(call.key, call.tier, call.body, call.check) as permit:
            call.refuse_if_cancelled()
            runner.count_sent(permit.waited)
            handle = _open(runner, call)
            permit.answered_at = runner.clock.now()
            runner.answered(permit, handle.status)
            if handle.status != 200:
                data = handle.read()
                handle.close()
                raise runner.refused(handle.status, handle.headers, data)
            runner.accepted(handle.headers)
            _pump(runner, handle, call, delivered)
    except TransportFailure as failure:
        return stream_failure(runner.context(), failure, delivered)
    except GitHubModelsError as exc:  # incl. the pacer's own refusal
        return exc
    return None


def _open(runner: StreamRunner, call: StreamCall) -> StreamHandle:
    """Open a stream; with a cancel token, a cancel before the headers returns at once.

    The request then runs on a helper thread; when abandoned, its response is closed as
    soon as it arrives.

    Raises:
        StreamCancelled: The token fired before the headers arrived.
        TransportFailure: No HTTP response.
    """
    if call.cancel_token is None:
        return runner.transport.open_stream(CHAT_PATH, call.body)
    lock = threading.Lock()
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            handle = runner.transport.open_stream(CHAT_PATH, call.body)
        except BaseException as exc:  # handed to the waiting caller below
            box["error"] = exc
        else:
            with lock:
                if box.get("abandoned"):
                    handle.close()
                    return
                box["handle"] = handle
        finally:
            done.set()

    threading.Thread(target=run, name="stream-open", daemon=True).start()
    while not done.wait(0.02):
        if call.cancel_token.is_cancelled:
            with lock:
                if "handle" not in box:
                    box["abandoned"] = True
                    raise StreamCancelled()
            break
    if "error" in box:
        raise box["error"]
    handle: StreamHandle = box["handle"]
    return handle


def _pump(runner: StreamRunner, handle: StreamHandle, call: StreamCall, delivered: list[str]
          ) -> None:
    parser = SSEParser()
    finished = threading.Event()
    token = call.cancel_token
    if token is not None:
        def watch() -> None:  # a cancel shuts the socket from this thread
            while not finished.is_set():
                if token.wait(0.02):
                    if not finished.is_set():
                        handle.abort()
                    return
        threading.Thread(target=watch, name="stream-cancel", daemon=True).start()
    try:
        for block in handle.iter_blocks():
            if feed_block(parser, block, call, delivered):
                break
        end_of_body(parser, call, delivered)
        handle.drain_and_close()
    except PUMP_ERRORS as exc:
        raise_pump_error(runner.context(), exc, call, delivered)
    finally:
        finished.set()
        handle.close()
