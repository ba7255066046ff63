"""The async call runners of a provider: one per event loop (an aio client belongs to its
loop), each closed when its loop shuts down, or by ``ashutdown``/``shutdown``.

Loaded at the first async call, not with the provider (cold start).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..calls.calls import CallRunner
    from ..calls.calls_async import AsyncCallRunner
    from ..config.settings import Settings

__all__ = ["AsyncRunners"]


async def _close_at_loop_shutdown(arunner: AsyncCallRunner, runners: AsyncRunners,
                                  loop: asyncio.AbstractEventLoop
                                  ) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        # the runner's client holds its loop, so the weak key alone never lets go of it
        if runners.get(loop) is arunner:
            del runners[loop]
        await arunner.atransport.close()


class AsyncRunners(weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, "AsyncCallRunner"]):
    """Event loop -> its ``AsyncCallRunner`` (weakly keyed: a finished loop drops out)."""

    async def for_running_loop(self, runner: CallRunner, settings: Settings) -> AsyncCallRunner:
        """The runner of the running loop, built on ``runner``'s pacer and policy when new.

        Its client is closed when the loop shuts down (``asyncio.run`` closes async generators
        on exit, and a parked one holds the cleanup), so a loop that ends without
        ``ashutdown()`` leaves no unclosed session behind.
        """
        loop = asyncio.get_running_loop()
        arunner = self.get(loop)
        if arunner is None:
            from ..calls.calls_async import AsyncCallRunner
            from ..transport.transport_async import AsyncTransport

            arunner = AsyncCallRunner(runner, AsyncTransport(settings))
            self[loop] = arunner
            closer = _close_at_loop_shutdown(arunner, self, loop)
            await closer.__anext__()  # parked at its yield: aclose() runs the cleanup
            arunner.closer = closer
        return arunner

    async def close_running_loop(self) -> None:
        """Close the runner of the running loop, if any."""
        arunner = self.pop(asyncio.get_running_loop(), None)
        if arunner is not None:
            await arunner.atransport.close()
            if arunner.closer is not None:
                await arunner.closer.aclose()

    def close_idle(self) -> None:
        """Close the runners whose loop is idle, drop the others."""
        for loop, arunner in list(self.items()):
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(arunner.atransport.close())
        self.clear()
