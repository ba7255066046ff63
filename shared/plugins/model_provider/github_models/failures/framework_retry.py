"""jaato's view of this provider's errors: transient or not, rate limit or infrastructure, and
the wait the server asked for (``provider.classify_error`` / ``get_retry_after``). The rules are
``retry``'s: a per-day or quota limit is never transient.
"""

from __future__ import annotations

from ..errors import (
    GitHubModelsError,
    ProviderConnectionError,
    RateLimitError,
    ServiceUnavailableError,
)
from .retry import DEFAULT_RETRY_STATUSES, LIMITS_NEVER_RETRIED

__all__ = ["classify_for_framework", "framework_retry_after", "is_transient"]


def is_transient(error: BaseException) -> bool:
    """Whether another attempt later may succeed: a per-minute or concurrency 429, a 5xx, or a
    connection failure before any byte arrived. Per-day and quota limits, retirement,
    credentials, policy, unknown models and bad requests are not transient."""
    if isinstance(error, RateLimitError):
        return error.limit_type not in LIMITS_NEVER_RETRIED
    if isinstance(error, ServiceUnavailableError):
        return error.status is None or error.status in DEFAULT_RETRY_STATUSES
    if isinstance(error, ProviderConnectionError):
        return error.retryable
    return False


def classify_for_framework(error: BaseException) -> dict[str, bool] | None:
    """jaato's retry classification of one of this provider's errors (None for others, so
    the framework's own fallback decides): ``transient``, ``rate_limit``, ``infra``."""
    if not isinstance(error, GitHubModelsError):
        return None
    transient = is_transient(error)
    return {"transient": transient,
            "rate_limit": isinstance(error, RateLimitError) and transient,
            "infra": transient and not isinstance(error, RateLimitError)}


def framework_retry_after(error: BaseException) -> float | None:
    """The server's requested wait for a transient error, in seconds (None when unknown or
    when the error must not be retried at all)."""
    if not is_transient(error):
        return None
    wait = getattr(error, "retry_after", None)
    return float(wait) if isinstance(wait, int | float) and wait > 0 else None
