"""Request options from the command line: ``-o key value``, ``--schema``, ``-a`` attachments.

Values are checked by the provider's own ``validate_options`` (the same ranges and messages as
the Python API), so nothing here re-states a range. ``-o`` values are read as JSON when they
parse (``0.2``, ``42``, ``["END"]``, ``{"type": "json_object"}``) and as text otherwise; keys may
be written as in prompt files (``maxTokens``, ``topP``). Everything here runs before any request.
"""

from __future__ import annotations

import mimetypes
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from .._host import Part
from ..config.options import OPTION_NAMES, validate_options
from ..errors import InvalidRequestError
from ..prompts.file import option_key

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "load_attachment",
    "load_schema",
    "parse_option_value",
    "request_options",
]

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


_MAX_SCHEMA_BYTES = 5_000_000


def parse_option_value(text: str) -> Any:
    """JSON when ``text`` parses as JSON (and is not absurdly nested), else the text itself."""
    from ..common.wire_check import loads_json

    try:
        return loads_json(text)
    except ValueError:
        return text


def request_options(pairs: Iterable[Sequence[str]] | None,
                    **flags: Any) -> dict[str, Any]:
    """The per-call options from ``-o`` pairs and the dedicated flags (flags win).

    Raises:
        InvalidRequestError: An unknown option or a value outside its range (the provider's
            own check, naming ``-o`` in the fix).
    """
    options: dict[str, Any] = {}
    for key, value in pairs or ():
        options[option_key(key)] = parse_option_value(value)
    options.update({k: v for k, v in flags.items() if v is not None})
    try:
        return validate_options(options, any_endpoint=True)
    except InvalidRequestError as exc:
        raise InvalidRequestError(
            exc.what, exc.why, f"{exc.fix} (-o NAME VALUE; names: "
                               f"{', '.join(sorted(OPTION_NAMES))})", param=exc.param) from exc


def load_schema(spec: str) -> dict[str, Any]:
    """A JSON Schema from a file path or inline JSON text.

    Raises:
        InvalidRequestError: Neither a readable file nor a JSON object.
    """
    from contextlib import suppress

    from ..common.wire_check import loads_json
    from ..config.setting_checks import path_problem

    inline = spec.lstrip().startswith(("{", "["))  # JSON text, never a file name to stat
    path = Path(spec)
    with suppress(RuntimeError):  # '~nobody'
        path = path.expanduser()
    problem = "does not exist" if inline else path_problem(path, pipes=True)
    if "too long" in problem or problem == "is not a valid file name":  # text, not a path
        problem = "does not exist"
    if problem not in ("", "does not exist"):
        raise InvalidRequestError(
            what=f"Reading the JSON Schema from {path}", why=f"the path {problem}",
            fix="pass --schema a file containing a JSON Schema object, or the schema itself",
            param="response_schema")
    is_file = not problem
    source = f"the file {path}" if is_file else "the inline --schema text"
    try:
        if is_file:
            with path.open("rb") as handle:  # a pipe (<(command)) has no size to check first
                data = handle.read(_MAX_SCHEMA_BYTES + 1)
            if len(data) > _MAX_SCHEMA_BYTES:
                raise ValueError(f"it is larger than {_MAX_SCHEMA_BYTES:,} bytes")
        schema = loads_json(data.decode("utf-8") if is_file else spec)
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(
            what=f"Reading the JSON Schema from {source}", why=str(exc),
            fix="pass --schema a file containing a JSON Schema object, or the schema itself, "
                "e.g. --schema '{\"type\": \"object\", \"properties\": {\"name\": "
                "{\"type\": \"string\"}}}'", param="response_schema") from exc
    if not isinstance(schema, dict) or not schema:
        raise InvalidRequestError(
            what=f"Reading the JSON Schema from {source}",
            why=f"it is a JSON {type(schema).__name__}, not a schema object",
            fix="pass --schema a JSON object such as {\"type\": \"object\", ...}",
            param="response_schema")
    return schema


def _mime_type(name: str, data: bytes) -> str:
    for signature, mime in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def _fetch(url: str) -> bytes:
    """The body of an image URL, at most ``MAX_ATTACHMENT_BYTES + 1`` bytes, within
    ``_FETCH_DEADLINE_S`` in all. ``user:password@`` becomes a Basic ``Authorization`` header and
    leaves the URL (urllib would read the password as the port, and quote it).

    Raises:
        OSError: Refused, reset, timed out, or an HTTP error status.
        ValueError: A malformed URL or a broken answer (not HTTP, cut chunks, a huge header).
    """
    import base64
    import http.client
    import time
    import urllib.request
    from urllib.parse import unquote

    scheme, _, rest = url.partition("://")
    authority, sep, tail = rest.partition("/") if "/" in rest else (rest, "", "")
    headers = {"User-Agent": "jaato-github-models"}
    if "@" in rest and "@" not in authority:  # an unencoded '/' in the password
        userinfo, _, rest = rest.rpartition("@")
        authority, sep, tail = rest.partition("/")
    elif "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
    else:
        userinfo = ""
    if userinfo:
        user, _, password = userinfo.partition(":")
        pair = f"{unquote(user)}:{unquote(password)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    request = urllib.request.Request(  # noqa: S310 - the caller passes http(s) URLs only
        f"{scheme}://{authority}{sep}{tail}", headers=headers)
    deadline = time.monotonic() + _FETCH_DEADLINE_S
    chunks: list[bytes] = []
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - http(s)
            while size <= MAX_ATTACHMENT_BYTES:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the download took longer than {_FETCH_DEADLINE_S:g} s")
                chunk = answer.read(min(65536, MAX_ATTACHMENT_BYTES + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            announced = answer.headers.get("Content-Length", "")
            if announced.isdigit() and size < min(int(announced), MAX_ATTACHMENT_BYTES + 1):
                raise ValueError(f"the server cut the image short ({size:,} of the "
                                 f"{int(announced):,} bytes it announced)")
    except http.client.HTTPException as exc:  # not HTTP, cut chunks, a huge header line
        raise ValueError(f"the server's answer is not usable HTTP ({type(exc).__name__}: "
                         f"{str(exc)[:100]})") from exc
    return b"".join(chunks)


_FETCH_DEADLINE_S = 60.0


def load_attachment(spec: str, stdin: BinaryIO | None = None) -> Part:
    """An image part from a path, an ``http(s)://`` URL or ``-`` (standard input).

    Raises:
        InvalidRequestError: Unreadable, too large, or not an image.
    """
    from ..common.url_secrets import strip_url_secrets

    what = f"Reading the attachment {strip_url_secrets(spec) if '://' in spec else spec}"
    try:
        if spec == "-":
            data = (stdin or sys.stdin.buffer).read(MAX_ATTACHMENT_BYTES + 1)
            name = "stdin"
        elif spec.startswith(("http://", "https://")):
            data, name = _fetch(spec), spec.split("?", 1)[0]
        else:
            path = Path(spec).expanduser()
            with path.open("rb") as handle:
                data = handle.read(MAX_ATTACHMENT_BYTES + 1)
            name = path.name
    except (OSError, ValueError) as exc:
        why = str(exc) or type(exc).__name__
        if "://" in spec:  # no piece of the user info may be quoted back (urllib quotes URLs)
            userinfo = spec.partition("://")[2].rpartition("@")[0]
            for piece in sorted({userinfo, *userinfo.split(":", 1)}, key=len, reverse=True):
                if len(piece) >= 3:
                    why = why.replace(piece, "***")
        raise InvalidRequestError(what=what, why=why,
                                  fix="pass -a an image file path, an http(s) URL, or - to "
                                      "read the image from standard input",
                                  param="attachments") from exc
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InvalidRequestError(what=what, why=f"it is larger than "
                                  f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB",
                                  fix="resize the image", param="attachments")
    mime = _mime_type(name, data)
    if not mime.startswith("image/"):
        raise InvalidRequestError(what=what, why=f"it is not an image ({mime})",
                                  fix="attach PNG, JPEG, GIF or WebP images with -a",
                                  param="attachments")
    return Part(inline_data={"mime_type": mime, "data": data})

