"""What a runner records beside its answers: the counters, a reply's real token usage, the
one-time retirement warning and the OpenTelemetry seam. No I/O.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..common.service_facts import RETIREMENT_DATE

if TYPE_CHECKING:
    from ..transport.transport import HttpResult

__all__ = ["RunnerStats", "telemetry_for", "total_tokens", "warn_if_deprecated"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not

_deprecation_warned = False
_deprecation_lock = threading.Lock()


def warn_if_deprecated(headers: Mapping[str, str]) -> None:
    """Log one warning per process when a successful response carries Deprecation/Sunset."""
    global _deprecation_warned
    if "deprecation" not in headers and "sunset" not in headers:
        return
    with _deprecation_lock:
        if _deprecation_warned:
            return
        _deprecation_warned = True
    logger.warning(
        "The endpoint announces its retirement (Deprecation: %s, Sunset: %s%s). GitHub Models was "
        "retired on " + RETIREMENT_DATE + ": point JAATO_GITHUB_ENDPOINT (or extra['endpoint']) at "
        "a working endpoint (GitHub Enterprise Server, Microsoft Foundry / Azure AI model "
        "inference, or an OpenAI-compatible gateway).",
        headers.get("deprecation", "-"), headers.get("sunset", "-"),
        f", see {headers['link']}" if headers.get("link") else "")


def telemetry_for(transport: Any) -> Any:
    """A ``telemetry.Telemetry`` when the transport's settings turn tracing on, else None.

    Raises:
        ConfigurationError: tracing is on but opentelemetry-api is not installed.
    """
    settings = getattr(transport, "settings", None)
    if getattr(settings, "tracing", "off") != "otel":
        return None
    from .telemetry import Telemetry  # only now: nothing of OpenTelemetry loads when off

    return Telemetry(settings)  # type: ignore[arg-type]


def total_tokens(result: HttpResult) -> int | None:
    """``usage.total_tokens`` of a 200 body, else None (the estimate then stays counted)."""
    if result.status != 200:
        return None
    try:
        usage = result.json().get("usage")
        total = usage.get("total_tokens") if isinstance(usage, dict) else None
    except (ValueError, AttributeError):
        return None
    return total if isinstance(total, int) and total >= 0 else None


@dataclass
class RunnerStats:
    """Counters shared by a provider's sync runner and its async runners (one per loop)."""

    requests_sent: int = 0
    retries: int = 0
    last_headers: Mapping[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self) -> None:
        """Count one request put on the wire."""
        with self.lock:
            self.requests_sent += 1

    def retried(self) -> None:
        """Count one retry."""
        with self.lock:
            self.retries += 1
