"""History as JSON: the provider's own lossless, versioned format (``HISTORY_FORMAT``).

Written here, not by helpers on the framework types, so the provider runs against the framework's
own copies of them. What is read back passes the same checks as a new turn (``inputs``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._host import FunctionCall, Message, Part, Role, ToolResult
from ..common.wire_check import loads_json
from .wire_request import inline_fields

__all__ = [
    "HISTORY_FORMAT",
    "history_from_json",
    "history_to_json",
    "message_from_dict",
    "message_to_dict",
]

HISTORY_FORMAT = "jaato.github_models.history/1"


def _part_to_dict(part: Part) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if part.text is not None:
        out["text"] = part.text
    if part.function_call is not None:
        fc = part.function_call
        out["function_call"] = {"id": fc.id, "name": fc.name, "args": fc.args}
    if part.function_response is not None:
        fr = part.function_response
        out["function_response"] = {
            "call_id": fr.call_id, "name": fr.name, "result": fr.result, "is_error": fr.is_error,
            "attachments": None if fr.attachments is None else [
                {"mime_type": a.mime_type, "data": base64.b64encode(a.data).decode("ascii"),
                 "display_name": getattr(a, "display_name", None)} for a in fr.attachments],
        }
    if part.inline_data is not None:
        mime, data = inline_fields(part.inline_data)
        out["inline_data"] = {"mime_type": mime, "data": base64.b64encode(data).decode("ascii")}
    return out


def _b64(text: Any) -> bytes:
    """Strict base64 (``b64decode`` alone drops stray characters and accepts ``@@@`` as b"")."""
    if not isinstance(text, str):
        raise ValueError(f"base64 data is {type(text).__name__}, not text")
    return base64.b64decode(text, validate=True)


def _part_from_dict(data: Mapping[str, Any]) -> Part:
    from .._host import Attachment

    fc = data.get("function_call")
    fr = data.get("function_response")
    inline = data.get("inline_data")
    response = None
    if fr is not None:
        atts = fr.get("attachments")
        response = ToolResult(
            call_id=fr["call_id"], name=fr["name"], result=fr.get("result"),
            is_error=bool(fr.get("is_error", False)),
            attachments=None if atts is None else [
                Attachment(mime_type=a["mime_type"], data=_b64(a["data"]),
                           display_name=a.get("display_name")) for a in atts],
        )
    return Part(
        text=data.get("text"),
        function_call=None if fc is None else FunctionCall(
            id=fc["id"], name=fc["name"], args=dict(fc.get("args") or {})),
        function_response=response,
        inline_data=None if inline is None else {
            "mime_type": inline["mime_type"], "data": _b64(inline["data"])},
    )


def message_to_dict(message: Message) -> dict[str, Any]:
    """One message as a JSON-ready dict."""
    return {"role": Role(message.role).value, "parts": [_part_to_dict(p) for p in message.parts]}


def message_from_dict(data: Mapping[str, Any]) -> Message:
    """The inverse of :func:`message_to_dict`.

    Raises:
        ValueError: Unknown role or malformed base64.
        KeyError: A required field is missing.
    """
    return Message(role=Role(data["role"]), parts=[_part_from_dict(p) for p in data["parts"]])


def history_to_json(history: Sequence[Message]) -> str:
    """History as compact JSON text (a versioned envelope).

    Raises:
        TypeError: An item is not a Message, or a tool result is not JSON-serializable.
    """
    try:
        messages = [message_to_dict(m) for m in history]
    except (AttributeError, ValueError) as exc:
        raise TypeError(f"history must be a list of Message objects ({exc})") from exc
    return json.dumps({"format": HISTORY_FORMAT, "messages": messages},
                      ensure_ascii=False, separators=(",", ":"))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def history_from_json(data: str) -> list[Message]:
    """Parse :func:`history_to_json` output (a bare list of messages is accepted too).

    Raises:
        ValueError: Not JSON, an unknown format, or malformed messages.
    """
    if not isinstance(data, str | bytes | bytearray):
        raise ValueError(f"serialized history must be JSON text, not {type(data).__name__}")
    try:
        # depth: only call arguments and tool results nest freely, and check_history bounds
        # each of them below; the parser's own recursion limit covers the rest
        doc = loads_json(data, limit=None)
    except ValueError as exc:
        raise ValueError(f"serialized history is not JSON: {exc}") from exc
    if isinstance(doc, dict):
        if doc.get("format") != HISTORY_FORMAT:
            raise ValueError(f"serialized history has format {doc.get('format')!r}; "
                             f"expected {HISTORY_FORMAT!r}")
        items = doc.get("messages")
    else:
        items = doc
    if not isinstance(items, list):
        raise ValueError("serialized history holds no message list")
    try:
        messages = [message_from_dict(m) for m in items]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"serialized history has a malformed message: {exc!r}") from exc
    from ..errors import InvalidRequestError
    from .inputs import check_history

    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    # JSON text without NaN/Infinity literals and without surrogate escapes or characters can
    # only hold values that encode: then values need just their depth checked
    clean = ("NaN" not in text and "Infinity" not in text
             and _SURROGATE_ESCAPE.search(text) is None and _encodes(text))
    try:  # what is accepted here can be sent later: same checks as new turns
        check_history(messages, parsed=clean)
    except InvalidRequestError as exc:
        raise ValueError(f"serialized history holds a value that cannot be sent: "
                         f"{exc.why}") from exc
    return messages
