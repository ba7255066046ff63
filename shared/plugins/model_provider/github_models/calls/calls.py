"""Running one request: pacing, the one retry layer, error mapping, deprecation warnings.

The provider builds a body; this module sends it and returns parsed JSON (or feeds stream events
to a callback). Transport failures and non-2xx answers become the provider's error classes here,
through ``errors.error_from_response`` / ``errors.error_from_connection``. Retries follow
``retry.retry_delay``; a stream is retried only while nothing had been delivered to the caller.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._host import CancelToken
from ..common.clock import Clock, sleep_unless
from ..common.service_facts import RETIREMENT_DATE
from ..errors import (
    ErrorContext,
    GitHubModelsError,
    RateLimitError,
    ServiceUnavailableError,
    error_from_connection,
    error_from_response,
    error_from_stream_event,
)
from ..failures.retry import RetryPolicy, retry_delay
from ..pacing.pacing import Pacer
from ..transport.transport import (
    HttpResult,
    StreamHandle,
    SyncTransport,
    TransportFailure,
)
from ..wire.streaming import SSEParser, StreamCancelled, StreamEventError, StreamProtocolError
from .calls_stream import cancel_check, end_of_body, feed_block

if TYPE_CHECKING:
    pass

__all__ = [
    "CallRunner",
    "RunnerStats",
    "StreamCancelled",
    "warn_if_deprecated",
]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not
CHAT_PATH = "/chat/completions"

_deprecation_warned = False
_deprecation_lock = threading.Lock()


def warn_if_deprecated(headers: Mapping[str, str]) -> None:
    """Log one warning per process when a successful response carries Deprecation/Sunset."""
    global _deprecation_warned
    if "deprecation" not in headers and "sunset" not in headers:
        return
    with _deprecation_lock:
        if _deprecation_warned:
            return
        _deprecation_warned = True
    logger.warning(
        "The endpoint announces its retirement (Deprecation: %s, Sunset: %s%s). GitHub Models was "
        "retired on " + RETIREMENT_DATE + ": point JAATO_GITHUB_ENDPOINT (or extra['endpoint']) at "
        "a working endpoint (GitHub Enterprise Server, Microsoft Foundry / Azure AI model "
        "inference, or an OpenAI-compatible gateway).",
        headers.get("deprecation", "-"), headers.get("sunset", "-"),
        f", see {headers['link']}" if headers.get("link") else "")


_FROM_SETTINGS: Any = object()  # CallRunner(telemetry=...) default: build it if tracing is on


def _telemetry_for(transport: Any) -> Any:
    """A ``telemetry.Telemetry`` when the transport's settings turn tracing on, else None.

    Raises:
        ConfigurationError: tracing is on but opentelemetry-api is not installed.
    """
    settings = getattr(transport, "settings", None)
    if getattr(settings, "tracing", "off") != "otel":
        return None
    from .telemetry import Telemetry  # only now: nothing of OpenTelemetry loads when off

    return Telemetry(settings)  # type: ignore[arg-type]


def total_tokens(result: HttpResult) -> int | None:
    """``usage.total_tokens`` of a 200 body, else None (the estimate then stays counted)."""
    if result.status != 200:
        return None
    try:
        usage = result.json().get("usage")
        total = usage.get("total_tokens") if isinstance(usage, dict) else None
    except (ValueError, AttributeError):
        return None
    return total if isinstance(total, int) and total >= 0 else None


@dataclass
class RunnerStats:
    """Counters shared by a provider's sync runner and its async runners (one per loop)."""

    requests_sent: int = 0
    retries: int = 0
    last_headers: Mapping[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self) -> None:
        """Count one request put on the wire."""
        with self.lock:
            self.requests_sent += 1

    def retried(self) -> None:
        """Count one retry."""
        with self.lock:
            self.retries += 1


class CallRunner:
    """Sends requests for one provider with pacing and retries."""

    def __init__(
        self,
        transport: SyncTransport,
        pacer: Pacer,
        policy: RetryPolicy,
        clock: Clock,
        context: Callable[[], ErrorContext],
        *,
        rng: random.Random | None = None,
        telemetry: Any = _FROM_SETTINGS,
    ) -> None:
        self.transport = transport
        self.pacer = pacer
        self.policy = policy
        self.clock = clock
        self.context = context
        self.rng = rng or random.Random()
        self.stats = RunnerStats()
        # the one instrumentation seam: None unless tracing is on (then telemetry.py, which
        # alone imports OpenTelemetry, wraps each request in a span)
        self.telemetry: Any = (_telemetry_for(transport) if telemetry is _FROM_SETTINGS
                               else telemetry)

    # ---- non-streaming ----

    def complete(self, body: Mapping[str, Any], *, key: str, tier: str | None) -> dict[str, Any]:
        """POST a chat completion and return the parsed JSON body.

        Raises:
            GitHubModelsError: (a subclass) once retries are exhausted or not allowed.
        """
        if self.telemetry is None:
            return self._complete(body, key=key, tier=tier)
        with self.telemetry.operation(body, streaming=False) as op:
            return op.completed(self._complete(body, key=key, tier=tier))  # type: ignore[no-any-return]

    def _complete(self, body: Mapping[str, Any], *, key: str, tier: str | None
                  ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.pacer.slot(key, tier, body) as permit:
                    self.count_sent(permit.waited)
                    result = self.transport.post(CHAT_PATH, body)
                    permit.refused = result.status == 429
                    if permit.tokens:  # a tokens-per-minute budget: count the real usage
                        permit.used_tokens = total_tokens(result)
                outcome = self.ok_or_error(result)
                if isinstance(outcome, dict):
                    return outcome
                error = outcome
            except TransportFailure as failure:
                error = self.connection_error(failure)
            self._sleep_or_raise(error, attempt, key, tier)

    def _parse_ok(self, result: HttpResult) -> dict[str, Any]:
        try:
            data = result.json()
        except (ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
            raise ServiceUnavailableError(
                what="Reading the chat completion response",
                why=f"the endpoint answered 200 with a body that is not JSON "
                    f"({result.body[:80]!r})",
                fix="check that the endpoint is a chat-completions API (not a web page or proxy "
                    "login) and that JAATO_GITHUB_ENDPOINT is right",
                status=200, context=self.context(),  # masks an echoed key in the excerpt
            ) from exc
        if not isinstance(data, dict):
            raise ServiceUnavailableError(
                what="Reading the chat completion response",
                why="the endpoint answered 200 with JSON that is not an object",
                fix="check that the endpoint speaks the chat-completions protocol", status=200,
                context=self.context())
        return data

    def connection_error(self, failure: TransportFailure) -> GitHubModelsError:
        error = error_from_connection(failure.kind, failure.detail, self.context(),
                                      response_started=failure.response_started)
        error.__cause__ = failure
        return error

    def _sleep_or_raise(self, error: GitHubModelsError, attempt: int, key: str,
                        tier: str | None) -> None:
        self.clock.sleep(self.next_delay(error, attempt, key, tier))

    def next_delay(self, error: GitHubModelsError, attempt: int, key: str,
                    tier: str | None) -> float:
        """How long to wait before the next attempt; raises ``error`` when none is allowed."""
        delay = (retry_delay(error, attempt, self.policy, rng=self.rng)
                 if attempt < self.policy.max_attempts else None)
        if isinstance(error, RateLimitError):
            self.pacer.note_rate_limited(key, tier, error.retry_after, error.limit_type)
        if delay is None:
            raise error
        self.stats.retried()
        if self.telemetry is not None:
            self.telemetry.retry(error, attempt, delay)
        # a wait a user would notice is announced: a retry must never look like a hang
        logger.log(logging.WARNING if delay >= 2 else logging.INFO,
                   "retrying after %s (attempt %d of %d) in %.1f s", type(error).__name__,
                   attempt, self.policy.max_attempts, delay)
        return delay

    def count_sent(self, waited: float) -> None:
        """Count a request about to go on the wire (and show a pacing wait on its span)."""
        self.stats.sent()
        if waited and self.telemetry is not None:
            self.telemetry.paced(waited)

    def ok_or_error(self, result: HttpResult) -> dict[str, Any] | GitHubModelsError:
        """A 200's parsed body, or the mapped error for any other status."""
        if result.status == 200:
            self.stats.last_headers = result.headers
            warn_if_deprecated(result.headers)
            return self._parse_ok(result)
        return error_from_response(result.status, result.headers, result.body, self.context())

    def stream_failure(self, failure: TransportFailure, delivered: list[str]
                        ) -> GitHubModelsError:
        # For a stream what matters is whether the caller saw text: a cut before any text
        # (even after headers or tool-call deltas) is safe to retry from scratch.
        kind, detail = failure.kind, failure.detail
        if delivered and not kind.startswith("stream_"):
            # whatever broke it (a read timeout, a reset), the caller holds partial text
            kind, detail = "stream_interrupted", f"{failure.kind}: {failure.detail}"
        error = error_from_connection(
            kind, detail, self.context(),
            response_started=bool(delivered), partial_text="".join(delivered))
        error.__cause__ = failure
        return error

    def event_error(self, exc: Exception, delivered: list[str]) -> GitHubModelsError:
        if isinstance(exc, StreamEventError):
            return error_from_stream_event(exc.payload, self.context(),
                                           partial_text="".join(delivered))
        return error_from_connection("stream_malformed", str(exc), self.context(),
                                     response_started=True, partial_text="".join(delivered))

    # ---- streaming ----

    def stream(
        self,
        body: Mapping[str, Any],
        on_event: Callable[[dict[str, Any]], str],
        *,
        key: str,
        tier: str | None,
        cancel_token: CancelToken | None = None,
        on_attempt: Callable[[], None] | None = None,
    ) -> None:
        """POST a streaming completion, calling ``on_event`` for each chunk until ``[DONE]``.

        ``on_attempt`` runs before every attempt, so a retry starts from a clean slate.

        ``on_event`` returns the text it delivered to the caller; once any was delivered, a
        failure is no longer retried (the caller has seen partial output).

        Raises:
            StreamCancelled: The cancel token fired (partial output stays with the caller).
            GitHubModelsError: (a subclass) on failure.
        """
        if self.telemetry is None:
            return self._stream(body, on_event, key=key, tier=tier, cancel_token=cancel_token,
                                on_attempt=on_attempt)
        with self.telemetry.operation(body, streaming=True) as op:
            self._stream(body, op.observe(on_event), key=key, tier=tier,
                         cancel_token=cancel_token, on_attempt=op.attempt(on_attempt))

    def _stream(self, body: Mapping[str, Any], on_event: Callable[[dict[str, Any]], str], *,
                key: str, tier: str | None, cancel_token: CancelToken | None,
                on_attempt: Callable[[], None] | None) -> None:
        attempt = 0
        while True:
            attempt += 1
            delivered: list[str] = []
            if on_attempt is not None:
                on_attempt()
            check = cancel_check(cancel_token)
            try:
                with self.pacer.slot(key, tier, body, check) as permit:
                    if cancel_token is not None and cancel_token.is_cancelled:
                        raise StreamCancelled()
                    self.count_sent(permit.waited)
                    handle = self._open_stream(body, cancel_token)
                    permit.answered_at = self.clock.now()
                    permit.refused = handle.status == 429
                    if handle.status != 200:
                        data = handle.read()
                        handle.close()
                        raise error_from_response(handle.status, handle.headers, data,
                                                  self.context())
                    self.stats.last_headers = handle.headers
                    warn_if_deprecated(handle.headers)
                    self._pump(handle, on_event, cancel_token, delivered)
                return
            except TransportFailure as failure:
                error: GitHubModelsError = self.stream_failure(failure, delivered)
            except GitHubModelsError as exc:
                error = exc
            # a cancel during the wait before a retry ends the call within 50 ms
            sleep_unless(self.clock, self.next_delay(error, attempt, key, tier), check)

    def _open_stream(self, body: Mapping[str, Any], cancel_token: CancelToken | None
                     ) -> StreamHandle:
        """Open a stream; with a cancel token, a cancel before the headers returns at once.

        The request then runs on a helper thread; when abandoned, its response is closed as
        soon as it arrives.

        Raises:
            StreamCancelled: The token fired before the headers arrived.
            TransportFailure: No HTTP response.
        """
        if cancel_token is None:
            return self.transport.open_stream(CHAT_PATH, body)
        lock = threading.Lock()
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                handle = self.transport.open_stream(CHAT_PATH, body)
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
            if cancel_token.is_cancelled:
                with lock:
                    if "handle" not in box:
                        box["abandoned"] = True
                        raise StreamCancelled()
                break
        if "error" in box:
            raise box["error"]
        handle: StreamHandle = box["handle"]
        return handle

    def _pump(self, handle: StreamHandle, on_event: Callable[[dict[str, Any]], str],
              cancel_token: CancelToken | None, delivered: list[str]) -> None:
        parser = SSEParser()
        finished = threading.Event()
        if cancel_token is not None:
            def watch() -> None:
                while not finished.is_set():
                    if cancel_token.wait(0.02):
                        if not finished.is_set():
                            handle.abort()
                        return
            threading.Thread(target=watch, name="stream-cancel", daemon=True).start()
        try:
            for block in handle.iter_blocks():
                if feed_block(parser, block, on_event, delivered, cancel_token):
                    break
            end_of_body(parser, on_event, delivered, cancel_token)
            handle.drain_and_close()
        except (StreamEventError, StreamProtocolError) as exc:
            raise self.event_error(exc, delivered) from exc
        except TransportFailure as failure:
            if cancel_token is not None and cancel_token.is_cancelled:
                raise StreamCancelled() from failure
            raise
        finally:
            finished.set()
            handle.close()


def __getattr__(name: str) -> Any:
    """``AsyncCallRunner`` lives in ``calls_async`` (loaded at the first async call)."""
    if name == "AsyncCallRunner":
        from .calls_async import AsyncCallRunner

        return AsyncCallRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
