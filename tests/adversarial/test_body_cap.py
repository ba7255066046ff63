"""A response body past ``transport.MAX_BODY_BYTES`` is refused, not read whole into memory.

Over real HTTP against the raw-socket server: a body that declares its size, one that does not
(chunked, so only reading finds out), a small gzip body that inflates past it, an error body on a
streaming request, and the async twin.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.transport.body import MAX_BODY_BYTES
from tests.adversarial.hostile import HostileServer, chunked, response_head

Make = Callable[..., Any]
BLOCK = b"x" * 65536


def declared(status: int = 200) -> Callable[[socket.socket], None]:
    """Headers declaring a body one byte over the cap, then a little of it."""
    def act(conn: socket.socket) -> None:
        conn.sendall(response_head(status, length=MAX_BODY_BYTES + 1) + b'{"choices": [')
    return act


def endless_chunks(status: int = 200) -> Callable[[socket.socket], None]:
    """A chunked body with no declared size that runs past the cap (until the client hangs up)."""
    def act(conn: socket.socket) -> None:
        conn.sendall(response_head(status, chunked_body=True) + chunked(b'{"choices": ["'))
        try:
            for _ in range(MAX_BODY_BYTES // len(BLOCK) + 64):
                conn.sendall(chunked(BLOCK))
        except OSError:
            return  # the client stopped reading: what a cap does
        conn.sendall(chunked(b'"]}') + b"0\r\n\r\n")
    return act


def gzip_bomb() -> Callable[[socket.socket], None]:
    """A small, declared, gzip-encoded body that inflates past the cap."""
    import gzip

    data = gzip.compress(b'{"choices": ["' + b"0" * (MAX_BODY_BYTES + 1024) + b'"]}')

    def act(conn: socket.socket) -> None:
        conn.sendall(response_head(200, length=len(data), extra=[("Content-Encoding", "gzip")])
                     + data)
    return act


def refused(exc: BaseException) -> None:
    assert isinstance(exc, E.ProviderConnectionError), repr(exc)
    assert not exc.retryable and exc.kind == "too_large"
    assert str(MAX_BODY_BYTES) in str(exc)


@pytest.mark.parametrize("act", [declared, endless_chunks, gzip_bomb],
                         ids=["declared", "chunked", "gzip"])
def test_an_oversize_reply_is_refused_and_the_history_is_unchanged(
        hostile: HostileServer, hostile_provider: Make, act: Callable[..., Any]) -> None:
    provider = hostile_provider()
    hostile.script(act())
    with pytest.raises(E.ProviderConnectionError) as info:
        provider.send_message("hi")
    refused(info.value)
    assert provider.get_history() == []


def test_an_oversize_error_body_on_a_stream_is_refused(hostile: HostileServer,
                                                       hostile_provider: Make) -> None:
    provider = hostile_provider()
    hostile.script(endless_chunks(500))
    with pytest.raises(E.ProviderConnectionError) as info:
        provider.send_message_streaming("hi", lambda _t: None)
    refused(info.value)


@pytest.mark.parametrize("act", [declared, endless_chunks], ids=["declared", "chunked"])
def test_the_async_api_refuses_an_oversize_reply_too(hostile: HostileServer,
                                                     hostile_provider: Make,
                                                     act: Callable[..., Any]) -> None:
    provider = hostile_provider()
    hostile.script(act())

    async def main() -> None:
        with pytest.raises(E.ProviderConnectionError) as info:
            await provider.asend_message("hi")
        refused(info.value)

    asyncio.run(main())


def small_length_then_endless_chunks() -> Callable[[socket.socket], None]:
    """A small Content-Length beside Transfer-Encoding: chunked (the chunked framing wins, RFC
    9112 6.3), then a chunked body that runs past the cap."""
    def act(conn: socket.socket) -> None:
        head = response_head(200, chunked_body=True).replace(
            b"\r\n\r\n", b"\r\nContent-Length: 10\r\n\r\n", 1)
        conn.sendall(head + chunked(b'{"choices": ["'))
        try:
            for _ in range(MAX_BODY_BYTES // len(BLOCK) + 64):
                conn.sendall(chunked(BLOCK))
        except OSError:
            return
        conn.sendall(chunked(b'"]}') + b"0\r\n\r\n")
    return act


def test_a_small_declared_length_beside_chunked_framing_does_not_lift_the_cap(
        hostile: HostileServer, hostile_provider: Make) -> None:
    provider = hostile_provider()
    hostile.script(small_length_then_endless_chunks())
    with pytest.raises(E.ProviderConnectionError) as info:
        provider.send_message("hi")
    refused(info.value)
    assert provider.get_history() == []
