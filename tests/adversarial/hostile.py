"""A hostile HTTP server on a raw socket (127.0.0.1 only), for wire shapes the emulator cannot make.

Each accepted connection reads one request (headers and a Content-Length body), then runs the next
scripted *act*: a callable that gets the connected socket and writes whatever bytes it likes (SSE
split mid-token, a body without chunking, a line without end, a slow drip, nothing at all ...).
The acts run on a worker thread per connection; ``stop()`` closes every socket, so a test never
hangs on an act that waits forever.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Act = Callable[[socket.socket], None]

__all__ = ["Act", "HostileServer", "chunked", "completion_body", "drip", "response_head",
           "send_json", "send_sse", "sse_chunk", "sse_text_chunks"]


def response_head(status: int = 200, content_type: str = "application/json",
                  extra: Iterable[tuple[str, str]] = (), *, chunked_body: bool = False,
                  length: int | None = None) -> bytes:
    """A status line and headers; ``Connection: close`` always."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", "Connection: close"]
    if chunked_body:
        lines.append("Transfer-Encoding: chunked")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(data: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def sse_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One ``data:`` event holding a chat.completion.chunk with ``delta``."""
    payload = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def sse_text_chunks(pieces: Iterable[str]) -> bytes:
    """A whole SSE body: one content delta per piece, a stop chunk and ``[DONE]``."""
    body = b"".join(sse_chunk({"content": p}) for p in pieces)
    return body + sse_chunk({}, "stop") + b"data: [DONE]\n\n"


def completion_body(content: Any, **message: Any) -> dict[str, Any]:
    """A non-streaming chat.completion body (``content`` as given, any type)."""
    return {"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                                 **message}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class HostileServer:
    """``with HostileServer() as srv: srv.script(act); ... srv.url``."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._acts: deque[Act] = deque()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/inference`` (GitHub-shaped, so the provider adds nothing)."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/inference"

    @property
    def custom_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (a gateway-shaped endpoint)."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def script(self, *acts: Act) -> None:
        """Queue acts, one per incoming connection; without one the server answers 500."""
        with self._lock:
            self._acts.extend(acts)

    def stop(self) -> None:
        """Close the listener and every connection."""
        self._stopped.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._sock.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
                act = self._acts.popleft() if self._acts else _server_error
            threading.Thread(target=self._serve, args=(conn, act), daemon=True).start()

    def _serve(self, conn: socket.socket, act: Act) -> None:
        try:
            self.requests.append(_read_request(conn))
            act(conn)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            return data
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        part = conn.recv(65536)
        if not part:
            break
        body += part
    return head + b"\r\n\r\n" + body


def _server_error(conn: socket.socket) -> None:
    conn.sendall(response_head(500, length=2) + b"{}")


# ---- ready-made acts ---------------------------------------------------------------------------


def send_json(obj: Any, status: int = 200) -> Act:
    """A complete JSON response (any JSON value, or raw bytes when ``obj`` is bytes)."""
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()

    def act(conn: socket.socket) -> None:
        conn.sendall(response_head(status, length=len(data)) + data)
    return act


def send_sse(body: bytes | Iterable[bytes], *, chunked_body: bool = True,
             pause: float = 0.0, hold: float = 0.0) -> Act:
    """An SSE response written piece by piece (chunked or, with ``chunked_body=False``,
    read-until-close), ``pause`` seconds between pieces, ``hold`` seconds before closing."""
    pieces = [body] if isinstance(body, bytes) else list(body)

    def act(conn: socket.socket) -> None:
        conn.sendall(response_head(200, "text/event-stream", chunked_body=chunked_body))
        for piece in pieces:
            conn.sendall(chunked(piece) if chunked_body else piece)
            if pause:
                time.sleep(pause)
        if hold:
            time.sleep(hold)
        if chunked_body:
            conn.sendall(b"0\r\n\r\n")
    return act


def drip(pieces: Iterator[bytes] | Iterable[bytes], *, chunked_body: bool = True) -> Act:
    """Like :func:`send_sse` with no pauses, pieces produced lazily (for huge bodies)."""
    def act(conn: socket.socket) -> None:
        conn.sendall(response_head(200, "text/event-stream", chunked_body=chunked_body))
        for piece in pieces:
            conn.sendall(chunked(piece) if chunked_body else piece)
        if chunked_body:
            conn.sendall(b"0\r\n\r\n")
    return act
