"""The sync transport's reads below azure-core, straight from urllib3 (requests' own layer).

azure-core's requests transport reads a body in fixed 4 KiB blocks; for a declared small body
(``read_capped``) and a stream without chunked encoding (``StreamHandle``) ``transport.py``
reads urllib3's response directly, mapping urllib3's errors to the azure-core ones its own
reader raises, so ``azure_boundary`` maps them as before. ``find_socket`` lets a cancel shut the
socket from another thread. Every function returns None where the response is not shaped so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["available_blocks", "find_socket", "raw_body", "urllib3_errors"]


def available_blocks(response: Any, headers: Mapping[str, str]) -> Iterator[bytes] | None:
    """A body that is not chunked, as the bytes that arrive (``read1``), or None.

    azure-core reads fixed 4 KiB blocks: on a body without chunked encoding (read until close)
    each block waits until it is full, so streamed text would reach ``on_chunk`` only at the
    end. Chunked bodies already arrive chunk by chunk and keep azure-core's reader.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return None
    raw = raw_body(response)
    return None if raw is None else _read1_blocks(raw)


def raw_body(response: Any) -> Any:
    """The urllib3 response under a requests-backed azure-core response, or None."""
    raw = getattr(getattr(response, "_internal_response", None), "raw", None)
    return raw if raw is not None and hasattr(raw, "read1") else None


@contextlib.contextmanager
def urllib3_errors() -> Iterator[None]:
    """urllib3's read errors as the azure-core errors azure-core's own reader raises."""
    from azure.core import exceptions as az
    from urllib3 import exceptions as u3

    try:
        yield
    except u3.ReadTimeoutError as exc:
        raise az.ServiceResponseTimeoutError(str(exc)) from exc
    except (u3.ProtocolError, u3.IncompleteRead) as exc:
        raise az.IncompleteReadError(str(exc)) from exc
    except u3.HTTPError as exc:
        raise az.ServiceResponseError(str(exc)) from exc


def _read1_blocks(raw: Any) -> Iterator[bytes]:
    while True:
        with urllib3_errors():
            block = raw.read1(65536)
        if not block:
            return
        yield bytes(block)


def find_socket(response: Any) -> Any:
    """Best effort: the socket under a requests/urllib3 response, for a prompt cancel."""
    obj = getattr(response, "_internal_response", None) or getattr(
        response, "internal_response", None)
    raw = getattr(obj, "raw", None)
    fp = getattr(raw, "_fp", None)
    fp = getattr(fp, "fp", None)
    raw_io = getattr(fp, "raw", None)
    return getattr(raw_io, "_sock", None)
