"""The facts a failure message is written from (``Facts``) and its result (``Diagnosis``).

Shared by ``_error_messages`` and ``_access_messages``; standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..common.secret_text import scrub
from .error_body import WireError

if TYPE_CHECKING:
    from .error_context import ErrorContext

__all__ = ["Diagnosis", "Facts"]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The kind of a failure (see ``retry.classify``), its text and its data."""

    kind: str
    why: str
    fix: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Facts:
    """One failure: status, headers, parsed body, what was attempted, the clock."""

    status: int | None
    headers: Mapping[str, str]
    wire: WireError
    context: ErrorContext
    now: datetime | None

    @property
    def said(self) -> str:
        """The service's own words, quoted, or ''."""
        text = self.wire.message or self.wire.text.split("\n", 1)[0]
        text = scrub(" ".join(text.split()))[:300]
        return f" (service said: '{text}')" if text else ""

    @property
    def all_text(self) -> str:
        return "\n".join(p for p in (self.wire.message, self.wire.text) if p)

    @property
    def hint(self) -> str:
        return self.context.endpoint_config_hint
