"""Scripted replies from a file and a request log written as it happens: what the emulator's
command line offers people testing their own agents (``--script``, ``--request-log``).

A script is JSON Lines, one reply per line, served in order (blank lines and lines starting with
``#`` are skipped); once it is used up the emulator answers as it does without one::

    {"text": "Hello!"}
    {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}
    {"json": {"answer": 42}}
    {"error": {"status": 429, "body": {"error": {"code": "RateLimitReached"}},
               "headers": {"Retry-After": "2"}}}
    {"fault": "drop_mid_stream", "params": {"after": 3}}

Every line may also carry ``"model"`` (the reply is kept for requests naming that model),
``"usage": [prompt_tokens, completion_tokens]`` (text, json and tool calls) and
``"finish_reason"`` (text and tool calls).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .replies import Reply
from .state import RecordedRequest

__all__ = ["RequestLogWriter", "load_script", "parse_script_line"]

_KINDS = ("text", "tool_calls", "json", "error", "fault")


class ScriptError(ValueError):
    """A script line that is not a reply (names the file, the line and what to write)."""


def _usage(line: Mapping[str, Any]) -> tuple[int, int] | None:
    raw = line.get("usage")
    if raw is None:
        return None
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(n, int) and n >= 0 for n in raw)):
        raise ValueError("usage must be [prompt_tokens, completion_tokens]")
    return raw[0], raw[1]


def _calls(raw: Any) -> list[tuple[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("tool_calls must be a non-empty list of {name, arguments}")
    calls = []
    for call in raw:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError("each tool call needs a name (and arguments: an object or text)")
        calls.append((call["name"], call.get("arguments", {})))
    return calls


def parse_script_line(line: Mapping[str, Any]) -> tuple[Reply, str | None]:
    """One script line as a reply and the model it is kept for (None: any model).

    Raises:
        ValueError: The line names no reply kind, several, or a malformed field.
    """
    kinds = [k for k in _KINDS if k in line]
    if len(kinds) != 1:
        raise ValueError(f"a line needs exactly one of {', '.join(_KINDS)} (found "
                         f"{', '.join(kinds) or 'none'})")
    kind = kinds[0]
    model = line.get("model")
    if model is not None and not isinstance(model, str):
        raise ValueError("model must be text")
    finish = line.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise ValueError("finish_reason must be text")
    if kind == "text":
        if not isinstance(line["text"], str):
            raise ValueError("text must be text")
        reply = Reply.text(line["text"], finish or "stop", usage=_usage(line))
    elif kind == "tool_calls":
        text = line.get("content")
        reply = Reply.tool_calls(_calls(line["tool_calls"]), text if isinstance(text, str)
                                 else None, usage=_usage(line),
                                 finish_reason=finish or "tool_calls")
    elif kind == "json":
        reply = Reply.json(line["json"], usage=_usage(line))
    elif kind == "error":
        spec = line["error"]
        if not isinstance(spec, dict) or not isinstance(spec.get("status"), int):
            raise ValueError('error must be {"status": <int>, "body": ..., "headers": {...}}')
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict):
            raise ValueError("error.headers must be an object")
        reply = Reply.error(spec["status"], spec.get("body"),
                            {str(k): str(v) for k, v in headers.items()})
    else:
        params = line.get("params") or {}
        if not isinstance(line["fault"], str) or not isinstance(params, dict):
            raise ValueError('fault must be a kind\'s name, params an object')
        reply = Reply.fault(line["fault"], **params)
    return reply, model


def load_script(path: str | Path) -> list[tuple[Reply, str | None]]:
    """The replies of a JSON Lines script file, in order.

    Raises:
        ScriptError: The file cannot be read, or a line is not JSON or not a reply.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"reading the script {path}: {exc}; pass a UTF-8 JSON Lines "
                          "file") from exc
    replies = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("a line must be a JSON object")
            replies.append(parse_script_line(obj))
        except ValueError as exc:
            raise ScriptError(f"{path}, line {number}: {exc}; see docs/emulator.md, "
                              "'Scripted replies from a file'") from exc
    return replies


class RequestLogWriter:
    """Appends each request, as the request log records it (credentials redacted), to a JSON
    Lines file as it arrives."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._path.write_text("", encoding="utf-8")  # raises OSError early, at start-up

    def __call__(self, request: RecordedRequest) -> None:
        line = json.dumps(asdict(request), ensure_ascii=False, default=str)
        with self._lock, self._path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
