"""The response-body rules every transport keeps: the size cap, the declared length, and
headers as plain lower-cased strings (used by ``transport``, ``transport_async`` and
``clients.DirectPost``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .azure_boundary import TransportFailure

__all__ = ["DRAIN_LIMIT", "MAX_BODY_BYTES", "body_too_large", "declared_length", "plain_headers"]

DRAIN_LIMIT = 1 << 16  # read at most this much of an unread body to keep its connection
# A chat completion (or an error, or the catalog) is kilobytes; a body past this is a broken or
# hostile server, and reading it whole would take the caller's memory with it.
MAX_BODY_BYTES = 16 * 1024 * 1024


def body_too_large(size: int, declared: bool = False) -> TransportFailure:
    """The failure for a response body over ``MAX_BODY_BYTES`` (never retried)."""
    said = "declared" if declared else "ran past"
    return TransportFailure("too_large", f"{said} {size} bytes; the limit is {MAX_BODY_BYTES}",
                            response_started=True)


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The body size ``content-length`` declares (None when absent or not a number, or beside
    a ``transfer-encoding``: that framing wins, RFC 9112 6.3, and the length says nothing)."""
    if "transfer-encoding" in headers:
        return None
    declared = str(headers.get("content-length", "")).strip()
    return int(declared) if declared.isdigit() else None


def plain_headers(headers: Any) -> dict[str, str]:
    """Response headers as a plain dict of lower-cased names (values as strings)."""
    return {str(k).lower(): str(v) for k, v in headers.items()}
