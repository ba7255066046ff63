"""Reading a failure response: its body's JSON (of any of the shapes services send) or text
boiled down to a ``WireError`` (code, message, inner code, parameter, filtered categories), the
token counts a context-limit message states, and the request id and deprecation headers. Pure
functions, standard library only; ``retry.classify`` decides what the result means.

Facts behind the readers (observed on the wire, see ``tests/fixtures/wire_errors.json``):

* bodies come as ``{"error": {"code", "message", "details"}}`` (often as ``text/plain``), as
  the bare inner object, as vLLM/OpenAI-style ``{"object": "error", ...}``, as plain text, or empty;
* 413 ``tokens_limit_reached`` reads "... Max size: 8000 tokens.";
* before the retirement, refused requests carried ``Deprecation``/``Sunset`` headers and an
  empty body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..common.lazy_re import LazyPattern

__all__ = ["WireError", "decode_body", "deprecation_info", "parse_error_body", "parse_token_counts",
           "request_id_of"]

_PARSE_CHARS = 256 * 1024  # bodies longer than this are not JSON-parsed, only searched


def decode_body(body: str | bytes | bytearray | memoryview | None) -> str:
    """Body as text: bytes decoded as UTF-8 with replacement, None as ''."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8", errors="replace")
    except Exception:
        return ""


@dataclass(frozen=True, slots=True)
class WireError:
    """What a failure body says, whatever its shape. Every field may be missing."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    error_type: str | None = None
    inner_code: str | None = None
    filtered: tuple[str, ...] = ()
    text: str = ""

    @property
    def search_text(self) -> str:
        """Everything a text rule may look at, lower-cased."""
        return " ".join(p for p in (self.message, self.text) if p).lower()


def _json_or_none(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[\"" or len(stripped) > _PARSE_CHARS:
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


def _unwrap(value: Any, depth: int = 0) -> dict[str, Any] | None:
    """The innermost error object in ``value`` (dicts, JSON strings, lists), or None."""
    if depth > 4:
        return None
    if isinstance(value, str):
        inner = _json_or_none(value)
        return None if inner is None else _unwrap(inner, depth + 1)
    if isinstance(value, list):
        for item in value[:20]:
            found = _unwrap(item, depth + 1)
            if found is not None:
                return found
        return None
    if not isinstance(value, dict):
        return None
    err = value.get("error")
    if isinstance(err, dict | list):
        found = _unwrap(err, depth + 1)
        if found is not None:
            return found
    elif isinstance(err, str):
        found = _unwrap(err, depth + 1)
        if found is not None:
            return found
        return {**{k: v for k, v in value.items() if k != "error"}, "message": err}
    if any(k in value for k in ("code", "message", "details", "detail", "type", "errors")):
        return value
    return None


def _text(value: Any, limit: int = 1000) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip()[:limit] or None
    if isinstance(value, int | float):
        return None
    try:
        return json.dumps(value)[:limit]
    except (TypeError, ValueError):
        return None


def _filtered_categories(obj: Any) -> tuple[str, ...]:
    """Names of content-filter categories marked ``"filtered": true`` anywhere in ``obj``."""
    found: list[str] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 6 or len(found) > 20:
            return
        if isinstance(node, dict):
            for key, val in node.items():
                if isinstance(val, dict) and val.get("filtered") is True:
                    found.append(str(key))
                walk(val, depth + 1)
        elif isinstance(node, list):
            for item in node[:20]:
                walk(item, depth + 1)

    walk(obj, 0)
    return tuple(dict.fromkeys(found))


_FILTERED_TEXT = LazyPattern(r'"(\w+)"\s*:\s*\{\s*"filtered"\s*:\s*true')
_TEXT_CODE = LazyPattern(r"(?:^|\n)\s*(?:Error:\s*)?\((\w+)\)|(?:^|\n)\s*Code:\s*(\w+)")
_INNER_CODE_TEXT = LazyPattern(r'"code"\s*:\s*"(\w+)"')
_PARAM_TEXT = LazyPattern(r"(?:Invalid|Unsupported (?:parameter|value)):?\s*'([\w.\[\]]+)'", re.I)


def parse_error_body(text: str) -> WireError:
    """Read a failure body of any shape (never raises).

    Args:
        text: The decoded body.

    Returns:
        The code, message, parameter, type and inner code found; plain text is kept as ``text``.
    """
    obj = _json_or_none(text)
    inner = _unwrap(obj) if obj is not None else None
    if inner is None:
        plain = text.strip()[:4000]
        code_match = _TEXT_CODE.search(plain)
        text_code = (code_match.group(1) or code_match.group(2)) if code_match else None
        inner_codes = [c for c in _INNER_CODE_TEXT.findall(plain) if c != text_code]
        param_match = _PARAM_TEXT.search(plain)
        return WireError(
            code=text_code,
            message=None,
            param=param_match.group(1) if param_match else None,
            inner_code=inner_codes[0] if inner_codes else None,
            filtered=tuple(dict.fromkeys(_FILTERED_TEXT.findall(plain))),
            text=plain,
        )
    message = _text(inner.get("message")) or _text(inner.get("details")) or _text(
        inner.get("detail")
    )
    if message is None and isinstance(inner.get("errors"), list):
        message = _text(inner["errors"][0] if inner["errors"] else None)
    raw_code = inner.get("code")
    code = raw_code.strip()[:100] if isinstance(raw_code, str) and raw_code.strip() else None
    innererror = inner.get("innererror") or inner.get("inner_error")
    inner_code = None
    if isinstance(innererror, dict) and isinstance(innererror.get("code"), str):
        inner_code = innererror["code"]
    param = _text(inner.get("param"), 100)
    if param is None and message:
        found = _PARAM_TEXT.search(message)
        param = found.group(1) if found else None
    return WireError(
        code=code,
        message=message,
        param=param,
        error_type=_text(inner.get("type"), 100),
        inner_code=inner_code,
        filtered=_filtered_categories(inner),
        text="",
    )


_TOKEN_COUNTS = (
    LazyPattern(r"max(?:imum)? size:? (\d+) tokens", re.I),
    LazyPattern(r"maximum context length is (\d+) tokens", re.I),
    LazyPattern(r"max(?:imum)? (?:input )?tokens?(?: per request)?(?: is|:) (\d+)", re.I),
)
_REQUESTED = LazyPattern(
    r"(?:resulted in|requested|you requested|request has|contains?) (\d+) tokens", re.I
)
_TOO_LARGE_FOR = LazyPattern(r"too large for ([\w./:-]+) model", re.I)


def parse_token_counts(text: str) -> tuple[int | None, int | None, str | None]:
    """``(limit, requested, model)`` from a too-many-tokens message (each may be None)."""
    text = text[:_PARSE_CHARS]
    limit = None
    for pattern in _TOKEN_COUNTS:
        found = pattern.search(text)
        if found:
            limit = int(found.group(1))
            break
    requested = _REQUESTED.search(text)
    model = _TOO_LARGE_FOR.search(text)
    return (limit, int(requested.group(1)) if requested else None,
            model.group(1) if model else None)


_REQUEST_ID_HEADERS = ("x-github-request-id", "apim-request-id", "x-request-id", "x-ms-request-id")


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The request id from the first id header present (GitHub's first), else None."""
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value[:200]
    return None


def deprecation_info(headers: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """``(deprecation, sunset, link)`` from lower-cased headers; ``@epoch`` dates made readable."""
    deprecation = headers.get("deprecation") or None
    if deprecation and deprecation.startswith("@"):
        try:
            when = datetime.fromtimestamp(int(deprecation[1:]), UTC)
            deprecation = when.strftime("%Y-%m-%d")
        except (ValueError, OverflowError, OSError):
            pass
    sunset = headers.get("sunset") or None
    link = None
    found = re.search(r"<([^>]+)>\s*;\s*rel=\"?(?:deprecation|sunset)\"?", headers.get("link", ""))
    if found:
        link = found.group(1)
    return deprecation, sunset, link
