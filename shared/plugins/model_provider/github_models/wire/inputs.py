"""The caller's input is checked before anything is sent: text, tools, tool results, schemas,
images and restored history. Everything refused raises :class:`InvalidRequestError` naming the
place (``param``), so a bad value never reaches the wire as garbage or as a raw exception.

Checks (see docs/errors.md, "Bad input"):

- text (messages, system instruction, tool results, history): no lone UTF-16 surrogates;
- tool schemas: a name of 1-64 letters, digits, ``_`` or ``-``; ``parameters`` a JSON-schema
  object (a dict of JSON values, ``type`` ``object`` when given, at most 128 levels deep);
- tool results: ``call_id``/``name`` strings, ``result`` JSON (dates, decimals, UUIDs, paths,
  enums, sets and tuples are converted; NaN, cycles and other objects are refused);
- response schemas: a non-empty dict of JSON values;
- images: ``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp`` whose bytes are that
  format (base64 text is decoded first), at most 20 MB;
- the request body as a whole: encodable as UTF-8 JSON (the last net for anything else).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import decimal
import enum
import json
import re
import uuid
from collections.abc import Container, Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from ..common.wire_check import MAX_JSON_DEPTH, json_depth
from ..errors import InvalidRequestError

__all__ = [
    "IMAGE_TYPES",
    "MAX_IMAGE_BYTES",
    "check_conversation",
    "check_history",
    "check_image",
    "check_json_value",
    "check_sendable",
    "check_text",
    "check_tool_results",
    "check_tools",
    "json_default",
    "tool_list",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
IMAGE_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),  # + "WEBP" at offset 8, checked below
}
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse(what: str, why: str, fix: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(what=what, why=why, fix=fix, param=param)


def check_text(text: Any, where: str, param: str) -> None:
    """Refuse a string holding lone surrogates (it cannot be encoded as UTF-8).

    Raises:
        InvalidRequestError: ``text`` is not a string or holds a surrogate.
    """
    if not isinstance(text, str):
        raise _refuse(f"Checking {where}", f"it is {type(text).__name__}, not a string",
                      "pass text as str", param)
    match = _SURROGATE.search(text)
    if match is not None:
        raise _refuse(
            f"Checking {where}",
            f"it holds the lone UTF-16 surrogate U+{ord(match.group()):04X} at position "
            f"{match.start()}, which cannot be encoded as UTF-8",
            "repair the text first, e.g. text.encode('utf-16', 'surrogatepass')"
            ".decode('utf-16', 'replace'), or decode bytes with errors='replace'", param)


def json_default(value: Any) -> Any:
    """``json.dumps`` ``default=`` for values with an obvious JSON form; others raise TypeError."""
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal | uuid.UUID | PurePath):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _first_surrogate_path(value: Any, path: str) -> str | None:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return where
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"{where} (a key)"
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return None


def check_json_value(value: Any, where: str, param: str, *, convert: bool = False,
                     parsed: bool = False) -> str:
    """Serialize ``value`` as the JSON text that would be sent, or refuse it.

    Args:
        value: Any value.
        where: What it is, for the message ("the result of call 'c1'").
        param: The argument named in the error.
        convert: Convert dates, decimals, UUIDs, paths, enums and sets (:func:`json_default`).
        parsed: ``value`` was parsed from JSON text already known to hold no NaN and no lone
            surrogate: only its depth is checked (and ``""`` is returned).

    Raises:
        InvalidRequestError: NaN/infinity, a cycle, more than 128 levels, a non-JSON object, or
            text with lone surrogates.
    """
    if json_depth(value) > MAX_JSON_DEPTH:
        raise _refuse(f"Checking {where}",
                      f"it is nested more than {MAX_JSON_DEPTH} levels deep (or holds a cycle)",
                      "flatten it", param)
    if parsed:
        return ""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False,
                          default=json_default if convert else None)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _refuse(f"Checking {where}", f"it is not JSON ({exc})",
                      "use dicts, lists, strings, finite numbers, booleans and None", param
                      ) from exc
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = _first_surrogate_path(value, "value") or "a string"
        raise _refuse(f"Checking {where}",
                      f"{bad} holds a lone UTF-16 surrogate, which cannot be encoded as UTF-8",
                      "repair the text first (decode bytes with errors='replace')", param
                      ) from exc
    return text


def tool_list(tools: Any) -> list[Any]:
    """``tools`` as a list (any iterable of schemas, read once; None: none).

    Raises:
        InvalidRequestError: One schema, a mapping, text or anything else not a list of
            schemas (a raw ``TypeError``, or a string iterated letter by letter, otherwise).
    """
    if tools is None:
        return []
    single = hasattr(tools, "name") and hasattr(tools, "parameters")
    if single or isinstance(tools, Mapping | str | bytes) or not isinstance(tools, Iterable):
        what = "one tool schema" if single else f"of type {type(tools).__name__}"
        raise _refuse("Checking the session's tools", f"tools is {what}, not a list of "
                      "ToolSchema", "pass a list, even for one tool: tools=[schema]", "tools")
    return list(tools)


def check_tools(tools: Iterable[Any]) -> None:
    """Check each tool schema and that names are unique.

    Raises:
        InvalidRequestError: A bad name, description or parameters, or a repeated name.
    """
    names: list[str] = []
    for i, tool in enumerate(tools):
        name = getattr(tool, "name", None)
        where = f"tool {i} ({name!r})"
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise _refuse(f"Checking {where}",
                          "its name is not 1-64 letters, digits, '_' or '-'",
                          "name tools like get_weather or search-docs", "tools")
        names.append(name)
        description = getattr(tool, "description", None)
        if description is not None:
            check_text(description, f"the description of {where}", "tools")
        params = getattr(tool, "parameters", None)
        if params is None or (isinstance(params, Mapping) and not params):
            continue
        if not isinstance(params, Mapping):
            raise _refuse(f"Checking the parameters of {where}",
                          f"they are {type(params).__name__}, not a JSON-schema object",
                          "give {'type': 'object', 'properties': {...}}", "tools")
        if params.get("type", "object") != "object":
            raise _refuse(f"Checking the parameters of {where}",
                          f"their type is {params.get('type')!r}; function parameters are an "
                          "object", "give {'type': 'object', 'properties': {...}}", "tools")
        check_json_value(params, f"the parameters of {where}", "tools")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _refuse("Checking the session's tools", f"tool names repeat: {dupes}",
                      "give each ToolSchema a unique name", "tools")


def check_tool_results(results: Sequence[Any], *, strict_images: bool = True,
                       parsed: bool = False) -> None:
    """Check each result's id, name, value and attachments.

    ``strict_images=False`` (restored history) only checks that an attachment has a string type
    and bytes: the history round trip stays lossless, and the server judges the content.

    Raises:
        InvalidRequestError: A non-string id or name, a value that is not JSON, a bad image.
    """
    for result in results:
        call_id = getattr(result, "call_id", None)
        where = f"the result of call {call_id!r}"
        if not isinstance(call_id, str) or not isinstance(getattr(result, "name", None), str):
            raise _refuse(f"Checking {where}", "its call_id or name is not a string",
                          "use ToolResult(call_id=call.id, name=call.name, result=...)",
                          "results")
        check_text(call_id, where, "results")
        check_text(result.name, where, "results")
        value = result.result
        if isinstance(value, str):
            check_text(value, where, "results")
        else:
            check_json_value(value, where, "results", convert=True, parsed=parsed)
        for att in getattr(result, "attachments", None) or ():
            mime, data = getattr(att, "mime_type", None), getattr(att, "data", None)
            if strict_images:
                check_image(mime, data, f"an attachment of {where}", "results")
            else:
                _check_blob(mime, data, f"an attachment of {where}", "results")


def check_image(mime: Any, data: Any, where: str, param: str) -> bytes:
    """The image's bytes, when ``mime`` is a supported image type and ``data`` is one.

    Raises:
        InvalidRequestError: Not an image type we can send, bytes of another format, empty,
            undecodable base64 or over 20 MB.
    """
    fix = ("pass the file's bytes with its type: image/png, image/jpeg, image/gif or "
           "image/webp (at most 20 MB)")
    if not isinstance(mime, str) or mime.lower().strip() not in IMAGE_TYPES:
        raise _refuse(f"Checking {where}", f"its type {mime!r} is not a supported image type",
                      fix, param)
    if isinstance(data, str):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _refuse(f"Checking {where}", "its data is text that is not valid base64",
                          fix, param) from exc
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _refuse(f"Checking {where}", f"its data is {type(data).__name__}, not bytes",
                      fix, param)
    raw: bytes = bytes(data)
    kind = mime.lower().strip()
    if not raw or len(raw) > MAX_IMAGE_BYTES:
        raise _refuse(f"Checking {where}", f"its data has {len(raw)} bytes", fix, param)
    ok = raw.startswith(IMAGE_TYPES[kind]) and (kind != "image/webp" or raw[8:12] == b"WEBP")
    if not ok:
        raise _refuse(f"Checking {where}", f"its bytes are not a {kind} image", fix, param)
    return raw


def check_sendable(body: Mapping[str, Any]) -> bytes:
    """The last net: the request body must encode as UTF-8 JSON without NaN; returns that
    encoding (what the transport sends for it: the same ``json.dumps`` options).

    Raises:
        InvalidRequestError: Naming the first offending value's path in the body.
    """
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        problem: BaseException = exc
    bad = _first_surrogate_path(body, "body")
    why = (f"{bad} holds a lone UTF-16 surrogate, which cannot be encoded as UTF-8" if bad
           else f"it is not JSON ({problem})")
    raise _refuse("Building the request", why,
                  "check the message, system instruction, tools and options", "body"
                  ) from problem


def check_history(messages: Sequence[Any], param: str = "history", *,
                  parsed: bool = False, known: Container[int] = ()) -> None:
    """Check restored history the way new turns are checked, so it can always be sent.

    ``parsed``: the messages were just read from JSON text that holds no NaN and no lone
    surrogate, so arguments and results need only their depth checked. ``known``: ids of messages
    whose content was checked before (found in the conversion cache); they are skipped.

    Raises:
        InvalidRequestError: A message that is not a Message, an unknown role, a part of the
            wrong type, text with lone surrogates, a call or result that is not JSON, a bad
            image.
    """
    from .._host import Role

    roles = {r.value for r in Role}
    for i, message in enumerate(messages):
        if id(message) in known and type(getattr(message, "parts", None)) is list:
            continue  # the fast path: content seen (and checked) before
        where = f"history message {i}"
        role = getattr(message, "role", None)
        role = getattr(role, "value", role)
        parts = getattr(message, "parts", None)
        if role not in roles or not isinstance(parts, list):
            raise _refuse(f"Checking {where}", "it is not a Message with a known role and a "
                          "list of parts", "restore history only from serialize_history output",
                          param)
        for j, part in enumerate(parts):
            _check_part(part, f"{where}, part {j}", param, parsed)


def _check_part(part: Any, where: str, param: str, parsed: bool = False) -> None:
    text = getattr(part, "text", None)
    call = getattr(part, "function_call", None)
    result = getattr(part, "function_response", None)
    inline = getattr(part, "inline_data", None)
    if text is not None:
        check_text(text, where, param)
    if call is not None:
        if not isinstance(getattr(call, "id", None), str) or not isinstance(
                getattr(call, "name", None), str) or not isinstance(
                getattr(call, "args", None), dict):
            raise _refuse(f"Checking {where}", "its function call needs a string id and name "
                          "and a dict of arguments", "restore history only from "
                          "serialize_history output", param)
        check_text(call.id, where, param)
        check_text(call.name, where, param)
        check_json_value(call.args, f"the arguments in {where}", param, parsed=parsed)
    if result is not None:
        check_tool_results([result], strict_images=False, parsed=parsed)
    if inline is not None:
        if isinstance(inline, Mapping):
            mime, data = inline.get("mime_type"), inline.get("data")
        else:
            mime, data = getattr(inline, "mime_type", None), getattr(inline, "data", None)
        _check_blob(mime, data, where, param)


def _check_blob(mime: Any, data: Any, where: str, param: str) -> None:
    if not isinstance(mime, str) or not isinstance(data, bytes | bytearray):
        raise _refuse(f"Checking {where}", "its inline data needs a string mime_type and bytes",
                      "restore history only from serialize_history output", param)
    check_text(mime, where, param)


def check_conversation(messages: Sequence[Any], param: str = "history") -> None:
    """Check that restored history is a conversation a server accepts: every tool result
    answers a function call of the model turn before it (by a non-empty id), at most once.

    Raises:
        InvalidRequestError: A result without a matching call, an empty or repeated call id.
    """
    fix = "restore the history as serialize_history wrote it, or start a new session"
    pending: set[str] = set()
    for i, message in enumerate(messages):
        parts = message.parts
        if not pending and len(parts) == 1:
            only = parts[0]
            if only.function_call is None and only.function_response is None:
                continue  # one plain part with nothing pending: nothing to check
        calls: list[Any] = []
        results: list[Any] = []
        for part in parts:
            if part.function_call is not None:
                calls.append(part.function_call)
            if part.function_response is not None:
                results.append(part.function_response)
        if not calls and not results and not pending:
            continue  # plain text with nothing pending: nothing to check
        role = getattr(getattr(message, "role", None), "value", getattr(message, "role", None))
        if role == "model" and calls:
            ids = [c.id for c in calls]
            if any(not cid for cid in ids) or len(set(ids)) != len(ids):
                raise _refuse(f"Checking history message {i}",
                              "its function calls need distinct, non-empty ids", fix, param)
            pending = set(ids)
            continue
        for result in results:
            if result.call_id not in pending:
                raise _refuse(f"Checking history message {i}",
                              f"tool result {result.call_id!r} answers no pending function "
                              "call of the model turn before it", fix, param)
            pending.discard(result.call_id)
        if role == "model" or (not results and pending):
            pending = set()
