"""``AsyncCallRunner``: the asyncio driver of the one attempt loop (``calls.attempt_loop``).

Every decision (retry waits, error mapping, counters, what a stream delivered) is inherited from
``calls.CallRunner`` or shared from ``calls_stream``; what is here is async I/O only: the asyncio
pacing slot, the aio transport of ``transport_async``, a cancel by task, and reading the stream
with ``async for``. Loaded at the first async call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..common.clock import asleep_unless
from ..errors import ErrorContext, GitHubModelsError
from ..transport.azure_boundary import TransportFailure
from ..transport.transport import CHAT_PATH
from ..wire.streaming import SSEParser
from .calls import CallRunner, Read, arun_attempts
from .calls_stream import (
    PUMP_ERRORS,
    StreamCall,
    end_of_body,
    feed_block,
    raise_pump_error,
    stream_failure,
)

if TYPE_CHECKING:
    from .._host import CancelToken
    from ..transport.transport_async import AsyncStreamHandle, AsyncTransport

__all__ = ["AsyncCallRunner"]

T = TypeVar("T")


class AsyncCallRunner(CallRunner):
    """The asyncio form of :class:`CallRunner`: same pacing, retry decisions and mapping."""

    atransport: AsyncTransport

    def __init__(self, sync: CallRunner, atransport: AsyncTransport) -> None:
        super().__init__(sync.transport, sync.pacer, sync.policy, sync.clock, sync.context,
                         rng=sync.rng, telemetry=sync.telemetry)
        self.stats = sync.stats  # one set of counters per provider
        self.atransport = atransport
        self.closer: AsyncGenerator[None, None] | None = None  # set by the provider

    async def acomplete(self, body: Mapping[str, Any], *, key: str, tier: str | None
                        ) -> dict[str, Any]:
        """Async :meth:`CallRunner.complete`. Raises GitHubModelsError subclasses."""
        if self.telemetry is None:
            return await self.apost(CHAT_PATH, body, self.ok_or_error, key=key, tier=tier,
                                    paced=body)
        with self.telemetry.operation(body, streaming=False) as op:
            return op.completed(await self.apost(  # type: ignore[no-any-return]
                CHAT_PATH, body, self.ok_or_error, key=key, tier=tier, paced=body))

    async def apost(self, path: str, body: Mapping[str, Any], read: Read[T], *, key: str,
                    tier: str | None, paced: Mapping[str, Any] | None = None,
                    context: ErrorContext | None = None) -> T:
        """Async :meth:`CallRunner.post`. Raises GitHubModelsError subclasses."""
        async def once() -> T | GitHubModelsError:
            try:
                async with self.pacer.aslot(key, tier, paced) as permit:
                    self.count_sent(permit.waited)
                    result = await self.atransport.post(path, body)
                    self.answered(permit, result.status, result)
            except TransportFailure as failure:
                return self.connection_error(failure, context)
            return read(result)

        return await arun_attempts(once, self.delays(key, tier), self.clock.asleep)

    async def astream(self, body: Mapping[str, Any],
                      on_event: Callable[[dict[str, Any]], str], *, key: str,
                      tier: str | None, cancel_token: CancelToken | None = None,
                      on_attempt: Callable[[], None] | None = None) -> None:
        """Async :meth:`CallRunner.stream`. Raises StreamCancelled, GitHubModelsError."""
        if self.telemetry is None:
            return await self._astream(StreamCall.of(body, on_event, key, tier, cancel_token,
                                                     on_attempt))
        with self.telemetry.operation(body, streaming=True) as op:
            await self._astream(StreamCall.of(body, op.observe(on_event), key, tier,
                                              cancel_token, op.attempt(on_attempt)))

    async def _astream(self, call: StreamCall) -> None:
        await arun_attempts(lambda: self._attempt(call), self.delays(call.key, call.tier),
                            lambda seconds: asleep_unless(self.clock, seconds, call.check))

    async def _attempt(self, call: StreamCall) -> GitHubModelsError | None:
        delivered = call.begin()
        try:
            async with self.pacer.aslot(call.key, call.tier, call.body, call.check) as permit:
                call.refuse_if_cancelled()
                self.count_sent(permit.waited)
                handle = await self._open(call)
                permit.answered_at = self.clock.now()
                self.answered(permit, handle.status)
                if handle.status != 200:
                    data = await handle.read()
                    await handle.close()
                    raise self.refused(handle.status, handle.headers, data)
                self.accepted(handle.headers)
                await self._pump(handle, call, delivered)
        except TransportFailure as failure:
            return stream_failure(self.context(), failure, delivered)
        except GitHubModelsError as exc:  # incl. the pacer's own refusal
            return exc
        return None

    async def _open(self, call: StreamCall) -> AsyncStreamHandle:
        """Open a stream; with a cancel token, a cancel before the headers returns at once.

        Raises:
            StreamCancelled: The token fired before the headers arrived.
            TransportFailure: No HTTP response.
        """
        if call.cancel_token is None:
            return await self.atransport.open_stream(CHAT_PATH, call.body)
        task = asyncio.ensure_future(self.atransport.open_stream(CHAT_PATH, call.body))
        while not task.done():
            await asyncio.wait({task}, timeout=0.02)
            if call.cancelled and not task.done():
                task.cancel()
                call.refuse_if_cancelled()
        return task.result()

    async def _pump(self, handle: AsyncStreamHandle, call: StreamCall, delivered: list[str]
                    ) -> None:
        parser = SSEParser()
        watcher: asyncio.Task[None] | None = None
        if call.cancel_token is not None:
            async def watch() -> None:  # a cancel closes the response from this task
                while not call.cancelled:
                    await asyncio.sleep(0.02)
                await handle.abort()
            watcher = asyncio.ensure_future(watch())
        try:
            async for block in handle.iter_blocks():
                if feed_block(parser, block, call, delivered):
                    break
            end_of_body(parser, call, delivered)
            await handle.drain_and_close()
        except PUMP_ERRORS as exc:
            raise_pump_error(self.context(), exc, call, delivered)
        finally:
            if watcher is not None:
                watcher.cancel()
            await handle.close()
