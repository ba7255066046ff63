"""Transport faults and the SSE writer that injects them.

| kind | effect |
|---|---|
| ``delay`` (``seconds``) | wait (wall-clock) before answering normally |
| ``hang`` | never answer; released (connection aborted) when the emulator stops |
| ``reset`` | close the connection without any response |
| ``drop_mid_stream`` (``after``) | abort the connection after ``after`` content chunks |
| ``malformed_sse`` (``after``, ``line``) | a non-JSON ``data:`` line, then the rest |
| ``sse_comment`` (``after``, ``comment``) | a ``: keep-alive`` comment line, then the rest |
| ``crlf`` | CRLF line endings throughout the stream |
| ``in_stream_error`` (``after``, ``error``) | a ``data: {"error": ...}`` event, then end |
| ``slow_stream`` (``interval``) | wall-clock pause between content chunks |

Stream faults apply to ``"stream": true`` requests; ``drop_mid_stream`` also cuts a non-streaming
body in half. ``after`` counts content chunks (text pieces or tool-call deltas), default 2.
A fault is the one scripted reply of its request: the content it carries is its ``reply`` or
``text`` parameter, else the deterministic default answer. Faults act after the request was
admitted (auth, validation, limits), as a slow or broken model would.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .replies import Reply

__all__ = ["STREAM_FAULTS", "StreamAborted", "abort", "write_half_body", "write_stream"]

STREAM_FAULTS = frozenset(
    {"drop_mid_stream", "malformed_sse", "sse_comment", "crlf", "in_stream_error", "slow_stream"}
)

_DEFAULT_STREAM_ERROR: dict[str, Any] = {
    "code": "server_error",
    "message": "The server had an error while processing your request. Sorry about that!",
}


class StreamAborted(Exception):
    """The connection was cut on purpose; nothing more may be written."""


def abort(request: web.BaseRequest) -> None:
    """Close the client connection abruptly (no response, or a truncated one)."""
    transport = request.transport
    if transport is not None:
        transport.abort()


async def write_half_body(request: web.BaseRequest, resp: web.StreamResponse, body: bytes) -> None:
    """``drop_mid_stream`` on a non-streaming request: announce the body, send half, abort."""
    resp.content_length = len(body)
    await resp.prepare(request)
    await resp.write(body[: len(body) // 2])
    await asyncio.sleep(0.01)  # let the half body reach the client before the abort
    abort(request)
    raise StreamAborted


async def write_stream(
    request: web.BaseRequest,
    resp: web.StreamResponse,
    payloads: tuple[list[str], list[str], list[str]],
    fault: Reply | None,
) -> None:
    """Write an SSE stream: prelude, content, tail and ``[DONE]``, with the fault injected."""
    prelude, content, tail = payloads
    kind = fault.fault_kind if fault is not None else None
    params = fault.params if fault is not None else {}
    eol = "\r\n" if kind == "crlf" else "\n"
    sep = eol + eol
    after = int(params.get("after", 2))
    interval = float(params.get("interval", 0.02)) if kind == "slow_stream" else 0.0

    await resp.prepare(request)
    await resp.write("".join(f"data: {p}{sep}" for p in prelude).encode())
    for i, payload in enumerate(content):
        if i == after and await _fire(request, resp, kind, params, sep):
            return
        await resp.write(f"data: {payload}{sep}".encode())
        if interval:
            await asyncio.sleep(interval)
    if after >= len(content) and await _fire(request, resp, kind, params, sep):
        return
    await resp.write(("".join(f"data: {p}{sep}" for p in tail) + f"data: [DONE]{sep}").encode())
    await resp.write_eof()


async def _fire(
    request: web.BaseRequest,
    resp: web.StreamResponse,
    kind: str | None,
    params: Any,
    sep: str,
) -> bool:
    """Inject a one-off stream fault. Returns True when the stream must end here."""
    if kind == "drop_mid_stream":
        await asyncio.sleep(0.01)  # flush what was written before the abort
        abort(request)
        raise StreamAborted
    if kind == "malformed_sse":
        await resp.write(f"data: {params.get('line', '{malformed')}{sep}".encode())
    elif kind == "sse_comment":
        await resp.write(f": {params.get('comment', 'keep-alive')}{sep}".encode())
    elif kind == "in_stream_error":
        error = json.dumps({"error": params.get("error", _DEFAULT_STREAM_ERROR)})
        await resp.write(f"data: {error}{sep}".encode())
        await resp.write_eof()
        return True
    return False
