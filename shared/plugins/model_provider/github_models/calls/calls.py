"""Running one request: the attempt loop (written once, I/O-free), its drivers, and ``CallRunner``.

``attempt_loop`` is a generator, sans-IO as h11 is for httpcore: it yields :class:`Send` (make one
attempt, send its outcome back) and :class:`Sleep` (wait, then resume) and returns the first
outcome that is not an error. Whether and when to retry is one call, :meth:`CallRunner.next_delay`
(``failures/retry.py`` decides; a 429 is also told to the pacer). :func:`run_attempts` and
:func:`arun_attempts` only carry the actions out. What differs between the sync and async API
stays in one attempt's I/O: the pacing slot (thread-safe or asyncio), the transport (requests or
aiohttp), cancelling (a socket shutdown from a watcher thread, or a task) and reading a stream
(``calls_stream`` for the sync side, ``calls_async`` for the async one). Transport failures and
non-2xx answers become the provider's error classes here (``errors.error_from_response`` /
``error_from_connection``); a stream is retried only while nothing reached the caller.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._host import CancelToken
from ..common.clock import Clock, sleep_unless
from ..failures.error_classes import GitHubModelsError, RateLimitError, ServiceUnavailableError
from ..failures.error_context import ErrorContext
from ..failures.error_factories import error_from_connection, error_from_response
from ..failures.retry import RetryPolicy, retry_delay
from ..pacing.pacing import Pacer
from ..transport.azure_boundary import TransportFailure
from ..transport.transport import CHAT_PATH, HttpResult, SyncTransport
from .bookkeeping import RunnerStats, telemetry_for, total_tokens, warn_if_deprecated
from .calls_stream import StreamCall, stream_attempt

if TYPE_CHECKING:
    from ..pacing.pacing_windows import Permit

__all__ = ["CallRunner", "Send", "Sleep", "arun_attempts", "attempt_loop",
           "run_attempts"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not
T = TypeVar("T")
NextDelay = Callable[[GitHubModelsError, int], float]


@dataclass(frozen=True, slots=True)
class Send:
    """Make attempt number ``attempt`` and send its outcome (a result or an error) back."""

    attempt: int


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before the next attempt."""

    seconds: float


def attempt_loop(next_delay: NextDelay) -> Generator[Send | Sleep, object, object]:
    """Attempts until one does not fail; ``next_delay`` raises the error when no retry is left."""
    attempt = 0
    while True:
        attempt += 1
        outcome = yield Send(attempt)
        if not isinstance(outcome, GitHubModelsError):
            return outcome
        yield Sleep(next_delay(outcome, attempt))


def run_attempts(once: Callable[[], T | GitHubModelsError], next_delay: NextDelay,
                 sleep: Callable[[float], None]) -> T:
    """Drive :func:`attempt_loop` with blocking calls. Raises the last attempt's error."""
    loop = attempt_loop(next_delay)
    try:
        action = next(loop)
        while True:
            if isinstance(action, Send):
                action = loop.send(once())
            else:
                sleep(action.seconds)
                action = next(loop)
    except StopIteration as done:
        return cast(T, done.value)


async def arun_attempts(once: Callable[[], Awaitable[T | GitHubModelsError]],
                        next_delay: NextDelay, sleep: Callable[[float], Awaitable[None]]) -> T:
    """Drive :func:`attempt_loop` on the event loop. Raises the last attempt's error."""
    loop = attempt_loop(next_delay)
    try:
        action = next(loop)
        while True:
            if isinstance(action, Send):
                action = loop.send(await once())
            else:
                await sleep(action.seconds)
                action = next(loop)
    except StopIteration as done:
        return cast(T, done.value)


_FROM_SETTINGS: Any = object()  # CallRunner(telemetry=...) default: build it if tracing is on
Read = Callable[[HttpResult], "T | GitHubModelsError"]  # a response -> its value, or its error


class CallRunner:
    """Sends requests for one provider with pacing and retries (the sync driver; the decisions
    of an attempt are methods here too, I/O-free, and ``AsyncCallRunner`` inherits them)."""

    def __init__(self, transport: SyncTransport, pacer: Pacer, policy: RetryPolicy, clock: Clock,
                 context: Callable[[], ErrorContext], *, rng: random.Random | None = None,
                 telemetry: Any = _FROM_SETTINGS) -> None:
        self.transport, self.pacer, self.policy = transport, pacer, policy
        self.clock, self.context = clock, context  # context: what an error message may say
        self.rng = rng or random.Random()
        self.stats = RunnerStats()
        # the one instrumentation seam: None unless tracing is on (then telemetry.py, which
        # alone imports OpenTelemetry, wraps each request in a span)
        self.telemetry: Any = (telemetry_for(transport) if telemetry is _FROM_SETTINGS
                               else telemetry)

    # ---- the sync driver ----

    def complete(self, body: Mapping[str, Any], *, key: str, tier: str | None) -> dict[str, Any]:
        """POST a chat completion and return the parsed JSON body.

        Raises:
            GitHubModelsError: (a subclass) once retries are exhausted or not allowed.
        """
        if self.telemetry is None:
            return self.post(CHAT_PATH, body, self.ok_or_error, key=key, tier=tier, paced=body)
        with self.telemetry.operation(body, streaming=False) as op:
            return op.completed(self.post(  # type: ignore[no-any-return]
                CHAT_PATH, body, self.ok_or_error, key=key, tier=tier, paced=body))

    def post(self, path: str, body: Mapping[str, Any], read: Read[T], *, key: str,
             tier: str | None, paced: Mapping[str, Any] | None = None,
             context: ErrorContext | None = None) -> T:
        """POST ``body`` to ``path`` with pacing and retries; ``read`` maps each response.

        ``paced`` is the body a tokens-per-minute budget estimates (and then counts the reply's
        real usage); ``context`` words a connection failure (default: the runner's).

        Raises:
            GitHubModelsError: (a subclass) once retries are exhausted or not allowed.
        """
        def once() -> T | GitHubModelsError:
            try:
                with self.pacer.slot(key, tier, paced) as permit:
                    self.count_sent(permit.waited)
                    result = self.transport.post(path, body)
                    self.answered(permit, result.status, result)
            except TransportFailure as failure:
                return self.connection_error(failure, context)
            return read(result)

        return run_attempts(once, self.delays(key, tier), self.clock.sleep)

    def stream(self, body: Mapping[str, Any], on_event: Callable[[dict[str, Any]], str], *,
               key: str, tier: str | None, cancel_token: CancelToken | None = None,
               on_attempt: Callable[[], None] | None = None) -> None:
        """POST a streaming completion, calling ``on_event`` for each chunk until ``[DONE]``.

        ``on_attempt`` runs before every attempt, so a retry starts from a clean slate.
        ``on_event`` returns the text it delivered to the caller; once any was delivered, a
        failure is no longer retried (the caller has seen partial output).

        Raises:
            StreamCancelled: The cancel token fired (partial output stays with the caller).
            GitHubModelsError: (a subclass) on failure.
        """
        if self.telemetry is None:
            return self._stream(StreamCall.of(body, on_event, key, tier, cancel_token,
                                              on_attempt))
        with self.telemetry.operation(body, streaming=True) as op:
            self._stream(StreamCall.of(body, op.observe(on_event), key, tier, cancel_token,
                                       op.attempt(on_attempt)))

    def _stream(self, call: StreamCall) -> None:
        run_attempts(lambda: stream_attempt(self, call), self.delays(call.key, call.tier),
                     lambda seconds: sleep_unless(self.clock, seconds, call.check))

    # ---- what an attempt decides (no I/O) ----

    def delays(self, key: str, tier: str | None) -> NextDelay:
        """:meth:`next_delay` for one call's pacing key, as :func:`attempt_loop` asks it."""
        return lambda error, attempt: self.next_delay(error, attempt, key, tier)

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

    def answered(self, permit: Permit, status: int, result: HttpResult | None = None) -> None:
        """Tell the pacing slot how the request was answered: a 429 or not, and with a
        tokens-per-minute budget and a whole ``result``, the tokens really used."""
        permit.refused = status == 429
        if result is not None and permit.tokens:
            permit.used_tokens = total_tokens(result)

    def accepted(self, headers: Mapping[str, str]) -> None:
        """Keep a 200's headers (rate-limit readings); warn once about a retirement notice."""
        self.stats.last_headers = headers
        warn_if_deprecated(headers)

    def ok_or_error(self, result: HttpResult) -> dict[str, Any] | GitHubModelsError:
        """A 200's parsed body, or the mapped error for any other status.

        Raises:
            ServiceUnavailableError: A 200 whose body is not a JSON object (not retried).
        """
        if result.status != 200:
            return self.refused(result.status, result.headers, result.body)
        self.accepted(result.headers)
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

    def refused(self, status: int, headers: Mapping[str, str], body: bytes
                ) -> GitHubModelsError:
        """The error a non-200 answer means (``errors.error_from_response``)."""
        return error_from_response(status, headers, body, self.context())

    def connection_error(self, failure: TransportFailure,
                         context: ErrorContext | None = None) -> GitHubModelsError:
        """The error for a request that got no usable response (``context``: the runner's)."""
        error = error_from_connection(failure.kind, failure.detail, context or self.context(),
                                      response_started=failure.response_started)
        error.__cause__ = failure
        return error
