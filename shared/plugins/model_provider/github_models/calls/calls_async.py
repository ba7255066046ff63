"""``AsyncCallRunner``: the asyncio twin of ``calls.CallRunner`` (same pacing, retry decisions,
error mapping and counters; the aio transport of ``transport_async``). Loaded at the first async
call. Why the twins are not one attempt loop: ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..common.clock import asleep_unless
from ..errors import GitHubModelsError, error_from_response
from ..transport.transport import TransportFailure
from ..wire.streaming import SSEParser, StreamCancelled, StreamEventError, StreamProtocolError
from .calls import CHAT_PATH, CallRunner, total_tokens, warn_if_deprecated
from .calls_stream import cancel_check, end_of_body, feed_block

if TYPE_CHECKING:
    from .._host import CancelToken
    from ..transport.transport_async import AsyncStreamHandle, AsyncTransport

__all__ = ["AsyncCallRunner"]


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
            return await self._acomplete(body, key=key, tier=tier)
        with self.telemetry.operation(body, streaming=False) as op:
            return op.completed(await self._acomplete(body, key=key, tier=tier))  # type: ignore[no-any-return]

    async def _acomplete(self, body: Mapping[str, Any], *, key: str, tier: str | None
                         ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.pacer.aslot(key, tier, body) as permit:
                    self.count_sent(permit.waited)
                    result = await self.atransport.post(CHAT_PATH, body)
                    permit.refused = result.status == 429
                    if permit.tokens:
                        permit.used_tokens = total_tokens(result)
                outcome = self.ok_or_error(result)
                if isinstance(outcome, dict):
                    return outcome
                error = outcome
            except TransportFailure as failure:
                error = self.connection_error(failure)
            await self.clock.asleep(self.next_delay(error, attempt, key, tier))

    async def astream(self, body: Mapping[str, Any],
                      on_event: Callable[[dict[str, Any]], str], *, key: str,
                      tier: str | None, cancel_token: CancelToken | None = None,
                      on_attempt: Callable[[], None] | None = None) -> None:
        """Async :meth:`CallRunner.stream`. Raises StreamCancelled, GitHubModelsError."""
        if self.telemetry is None:
            return await self._astream(body, on_event, key=key, tier=tier,
                                       cancel_token=cancel_token, on_attempt=on_attempt)
        with self.telemetry.operation(body, streaming=True) as op:
            await self._astream(body, op.observe(on_event), key=key, tier=tier,
                                cancel_token=cancel_token, on_attempt=op.attempt(on_attempt))

    async def _astream(self, body: Mapping[str, Any],
                       on_event: Callable[[dict[str, Any]], str], *, key: str,
                       tier: str | None, cancel_token: CancelToken | None,
                       on_attempt: Callable[[], None] | None) -> None:
        attempt = 0
        while True:
            attempt += 1
            delivered: list[str] = []
            if on_attempt is not None:
                on_attempt()
            check = cancel_check(cancel_token)
            try:
                async with self.pacer.aslot(key, tier, body, check) as permit:
                    if cancel_token is not None and cancel_token.is_cancelled:
                        raise StreamCancelled()
                    self.count_sent(permit.waited)
                    handle = await self._aopen_stream(body, cancel_token)
                    permit.answered_at = self.clock.now()
                    permit.refused = handle.status == 429
                    if handle.status != 200:
                        data = await handle.read()
                        await handle.close()
                        raise error_from_response(handle.status, handle.headers, data,
                                                  self.context())
                    self.stats.last_headers = handle.headers
                    warn_if_deprecated(handle.headers)
                    await self._apump(handle, on_event, cancel_token, delivered)
                return
            except TransportFailure as failure:
                error: GitHubModelsError = self.stream_failure(failure, delivered)
            except GitHubModelsError as exc:
                error = exc
            await asleep_unless(self.clock, self.next_delay(error, attempt, key, tier), check)

    async def _aopen_stream(self, body: Mapping[str, Any], cancel_token: CancelToken | None
                            ) -> AsyncStreamHandle:
        """Open a stream; with a cancel token, a cancel before the headers returns at once.

        Raises:
            StreamCancelled: The token fired before the headers arrived.
            TransportFailure: No HTTP response.
        """
        import asyncio

        if cancel_token is None:
            return await self.atransport.open_stream(CHAT_PATH, body)
        task = asyncio.ensure_future(self.atransport.open_stream(CHAT_PATH, body))
        while not task.done():
            await asyncio.wait({task}, timeout=0.02)
            if cancel_token.is_cancelled and not task.done():
                task.cancel()
                raise StreamCancelled()
        return task.result()

    async def _apump(self, handle: AsyncStreamHandle,
                     on_event: Callable[[dict[str, Any]], str],
                     cancel_token: CancelToken | None, delivered: list[str]) -> None:
        parser = SSEParser()
        import asyncio

        watcher: asyncio.Task[None] | None = None
        if cancel_token is not None:
            async def watch() -> None:
                while not cancel_token.is_cancelled:
                    await asyncio.sleep(0.02)
                await handle.abort()
            watcher = asyncio.ensure_future(watch())
        try:
            async for block in handle.iter_blocks():
                if feed_block(parser, block, on_event, delivered, cancel_token):
                    break
            end_of_body(parser, on_event, delivered, cancel_token)
            await handle.drain_and_close()
        except (StreamEventError, StreamProtocolError) as exc:
            raise self.event_error(exc, delivered) from exc
        except TransportFailure as failure:
            if cancel_token is not None and cancel_token.is_cancelled:
                raise StreamCancelled() from failure
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
            await handle.close()
