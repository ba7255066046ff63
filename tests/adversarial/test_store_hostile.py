"""The shared rate store under hostile timing, on a real Valkey behind a slow link: an async request
cancelled at any await (while the store hands out its slot, while it waits, while the request
runs) leaves no fleet-wide slot taken; and with Entra ID each identity has its own quota scope."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.github_models.pacing.rate_store import (
    RateStore,
    parse_store_url,
)
from tests.conftest import TEST_TOKEN
from tests.store_server import StoreServer, running_store

MODEL = "openai/gpt-4o-mini"
DELAY = 0.2  # seconds each store answer takes over the slow link (the client's timeout is 0.5)


class SlowLink:
    """A loopback TCP proxy to ``port`` that holds every answer ``delay`` seconds."""

    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay = port, delay
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url_port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.delay),
                             daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, delay: float) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreServer]:
    with running_store(tmp_path) as server:
        yield server


@pytest.fixture
def slow_url(store: StoreServer) -> Iterator[str]:
    link = SlowLink(store.port, DELAY)
    try:
        yield f"redis://127.0.0.1:{link.url_port}/0"
    finally:
        link.stop()


def in_flight(store: StoreServer) -> int:
    """Concurrency slots taken in the store, over every scope (read directly, not slowed)."""
    client = RateStore(parse_store_url(store.url))
    try:
        total = 0
        for key in client._client.scan_iter(match="jaato:rl:*:c"):
            total += int(client._client.zcard(key))
        return total
    finally:
        client.close()


@pytest.mark.parametrize("cancel_after", [0.02, 0.25, 0.45, 0.7])
def test_a_cancel_at_any_await_frees_the_fleet_slot(store: StoreServer, slow_url: str,
                                                    emulator: Emulator,
                                                    cancel_after: float) -> None:
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": True, "timeout": 5,
        "rate_store": slow_url, "rate_store_strict": True}))
    provider.connect(MODEL)
    emulator.script(Reply.fault("delay", seconds=0.6))

    async def main() -> None:
        task = asyncio.ensure_future(provider.asend_message("hi"))
        await asyncio.sleep(cancel_after)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
        deadline = time.monotonic() + 3
        while in_flight(store) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_flight(store) == 0, "a cancelled request kept a fleet-wide slot"
        assert provider.get_history() == []
    finally:
        provider.shutdown()
