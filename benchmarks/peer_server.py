"""A minimal OpenAI-compatible chat-completions server, written for the peers benchmark.

Not the project's emulator (which checks, logs and paces every request like the real service):
this one does the least a server must, so the clients' own costs stand out. HTTP/1.1 with
keep-alive on asyncio streams; ``POST .../chat/completions`` answers a fixed short reply, or with
``"stream": true`` server-sent events echoing the last user message one word per chunk (at most
200), then a usage chunk and ``[DONE]``. Anything else gets a JSON 404. No auth is checked.

    python benchmarks/peer_server.py --port N [--cpu 1]

Prints its URL on the first line of stdout once it listens; runs until terminated. ``--cpu``
pins the process to one core (``os.sched_setaffinity``) so it does not share the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from typing import Any

REPLY_TEXT = "Hi! How can I help you today?"
MAX_CHUNKS = 200


def _completion(model: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-peer", "object": "chat.completion", "created": 1764892800, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": REPLY_TEXT}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }).encode()


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or ()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else "hello"
    return "hello"


def _events(body: dict[str, Any]) -> list[bytes]:
    model = str(body.get("model") or "model")
    base = {"id": "chatcmpl-peer", "object": "chat.completion.chunk", "created": 1764892800,
            "model": model}
    words = _last_user_text(body).split()[:MAX_CHUNKS] or ["hello"]
    chunks: list[dict[str, Any]] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [{**base, "choices": [{"index": 0, "delta": {"content": w + " "}}]} for w in words]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({**base, "choices": [], "usage": {
        "prompt_tokens": 9, "completion_tokens": len(words), "total_tokens": 9 + len(words)}})
    return [b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readline()
    length = int(headers.get("content-length") or 0)
    return await reader.readexactly(length) if length else b""


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            raw = await _read_body(reader, headers)
            if method == "POST" and path.split("?")[0].endswith("/chat/completions"):
                body = json.loads(raw or b"{}")
                if body.get("stream"):
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                 b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for event in _events(body):
                        writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                    writer.write(b"0\r\n\r\n")
                else:
                    payload = _completion(str(body.get("model") or "model"))
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
            else:
                payload = b'{"error": {"code": "not_found", "message": "not served here"}}'
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    finally:
        writer.close()


async def _serve(port: int) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=512)
    print(f"http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """Parse ``--port`` and ``--cpu``, pin, serve until terminated."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this core")
    parser.add_argument("--request-log-limit", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu % (os.cpu_count() or 1)})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
