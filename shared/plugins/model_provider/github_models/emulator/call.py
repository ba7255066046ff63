"""What the emulator's routes share about one request: the call record, the v1 route's prefix,
and the interface of a route family (``v1.V1Routes``), so ``handler`` and ``v1`` need not import
each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

__all__ = ["ERROR_KINDS", "V1_PREFIX", "Call", "PrefixRoutes"]

V1_PREFIX = "/openai/v1/"  # Foundry's OpenAI v1 route (v1.py)
ERROR_KINDS = frozenset({"error", "fault"})  # scripted replies served before the model answers


class PrefixRoutes(Protocol):
    """A family of routes under one path prefix (``v1.V1Routes``)."""

    async def handle(self, request: web.BaseRequest, rid: str, body: Any,
                     headers: dict[str, str]) -> web.StreamResponse:
        """Answer one request under the prefix."""
        ...


@dataclass(slots=True)
class Call:
    """What the pipeline learned about one inference request."""

    request: web.BaseRequest
    rid: str
    legacy: bool
    token: str | None
    body: Any
    foundry: bool = False
    embeddings: bool = False
    v1: bool = False

    def __repr__(self) -> str:  # the bearer token never shows (jaato's credential hygiene)
        token = "<redacted>" if self.token else "<none>"
        return (f"Call(rid={self.rid!r}, legacy={self.legacy}, token={token!r}, "
                f"foundry={self.foundry})")
