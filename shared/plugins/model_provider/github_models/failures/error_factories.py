"""From a failed exchange to an error: ``error_from_response`` and friends (``errors``
re-exports them). The text comes from ``_error_messages``, imported only when a failure happens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..common.secret_text import lower_headers
from ..kinds.profiles import PAT_URL
from .error_body import decode_body, request_id_of
from .error_classes import (
    ContentFilterError,
    ContextLimitError,
    GitHubModelsError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelsDisabledError,
    ProviderConnectionError,
    RateLimitError,
    ServiceRetiredError,
    ServiceUnavailableError,
    StreamInterruptedError,
    TokenInvalidError,
    TokenNotFoundError,
    TokenPermissionError,
)
from .error_context import ErrorContext

__all__ = [
    "error_from_connection",
    "error_from_response",
    "error_from_stream_event",
    "model_not_found",
    "token_not_found",
]


_CLASS_BY_KIND: dict[str, type[GitHubModelsError]] = {
    "retired": ServiceRetiredError,
    "rate_limit": RateLimitError,
    "disabled": ModelsDisabledError,
    "permission": TokenPermissionError,
    "token_invalid": TokenInvalidError,
    "model_not_found": ModelNotFoundError,
    "context_limit": ContextLimitError,
    "content_filter": ContentFilterError,
    "invalid_request": InvalidRequestError,
    "unavailable": ServiceUnavailableError,
}


def _what(context: ErrorContext) -> str:
    what = f"{context.operation} to {context.shown_endpoint}"
    return f"{what} for model {context.model}" if context.model else what


def error_from_response(
    status: int,
    headers: Mapping[str, str] | None,
    body: str | bytes | None,
    context: ErrorContext,
    *,
    now: datetime | None = None,
) -> GitHubModelsError:
    """The one mapping from a failed HTTP response to our error class (pure; never raises).

    Args:
        status: The HTTP status.
        headers: Response headers, any case.
        body: The response body as sent (JSON of any shape, plain text, bytes, or nothing).
        context: What the provider was doing, for the message.
        now: The time a rate limit's ``resets_at`` is measured from (default: the response's
            ``Date`` header, else the system clock).

    Returns:
        A :class:`GitHubModelsError` subclass chosen by status, code and message text (the
        table in docs/errors.md).
    """
    try:
        low = lower_headers(headers)
        text = decode_body(body)
        from ._error_messages import diagnose

        diag, wire = diagnose(status, low, text, context, now)
        cls = _CLASS_BY_KIND.get(diag.kind, GitHubModelsError)
        return cls(
            _what(context), diag.why, diag.fix, status=status,
            code=wire.code or wire.inner_code, request_id=request_id_of(low), headers=low,
            body=text, context=context, **diag.attrs,
        )
    except Exception as exc:  # totality: a mapping bug must not hide the original failure
        return GitHubModelsError(
            "Reading the endpoint's error response",
            f"the endpoint answered HTTP {status!r} and the response could not be interpreted "
            f"({type(exc).__name__})",
            "see the error's status and body for the service's words",
            status=status if isinstance(status, int) else None,
            body=decode_body(body) if isinstance(body, str | bytes) else None,
        )


def error_from_connection(
    kind: str,
    detail: str,
    context: ErrorContext,
    *,
    response_started: bool = False,
    partial_text: str = "",
) -> ProviderConnectionError:
    """The error for a failure without a usable HTTP response.

    Args:
        kind: ``refused``, ``dns``, ``connect_timeout``, ``read_timeout``, ``reset``, ``tls``,
            ``proxy``, ``stream_interrupted``, ``stream_malformed``, ``stream_error`` (unknown
            kinds read as ``other``).
        detail: The low-level reason (scrubbed, shortened).
        context: What the provider was doing.
        response_started: Whether any byte of a response had arrived; then no retry is safe.
        partial_text: Text already delivered to the caller by a stream.

    Returns:
        A :class:`StreamInterruptedError` for ``stream_*`` kinds, else a
        :class:`ProviderConnectionError`; ``retryable`` is False once anything was received.
    """
    from ._error_messages import connection_text

    why, fix, retryable = connection_text(kind, detail, context)
    retryable = retryable and not response_started and not partial_text
    if kind.startswith("stream_"):
        if partial_text:
            why += f", after {len(partial_text)} characters of text had been delivered"
        return StreamInterruptedError(
            _what(context), why, fix, kind=kind, retryable=retryable, partial_text=partial_text,
            context=context,
        )
    return ProviderConnectionError(
        _what(context), why, fix, kind=kind if kind in _CONNECTION_KIND_NAMES else "other",
        retryable=retryable, context=context,
    )


def error_from_stream_event(
    payload: object, context: ErrorContext, *, partial_text: str = ""
) -> GitHubModelsError:
    """The error for an error event inside a stream (``data: {"error": ...}``).

    Before any text arrived, the event maps like a response body (a rate limit stays a
    :class:`RateLimitError`); once text was delivered, only a :class:`ContentFilterError` keeps its
    class and everything else becomes a non-retryable :class:`StreamInterruptedError`.
    """
    try:
        text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    except (TypeError, ValueError):
        text = str(payload)
    from ._error_messages import connection_text, diagnose

    diag, wire = diagnose(None, {}, text, context)
    code = wire.code or wire.inner_code
    generic = diag.kind in ("generic", "invalid_request", "unavailable", "not_found")
    if generic or (partial_text and diag.kind != "content_filter"):
        why, fix, _ = connection_text("stream_error", "", context)
        return StreamInterruptedError(
            _what(context), f"{why}: {diag.why}", fix, kind="stream_error",
            retryable=not partial_text, partial_text=partial_text, code=code, body=text,
            context=context,
        )
    cls = _CLASS_BY_KIND.get(diag.kind, GitHubModelsError)
    return cls(_what(context), diag.why, diag.fix, code=code, body=text, context=context,
               **diag.attrs)


_CONNECTION_KIND_NAMES = frozenset(
    {"refused", "dns", "connect_timeout", "read_timeout", "reset", "tls", "proxy", "too_large",
     "other"}
)


def token_not_found(checked: Sequence[tuple[str, str]]) -> TokenNotFoundError:
    """The error for "no token anywhere", listing every place checked.

    Args:
        checked: ``(place, status)`` pairs, e.g. ``("GITHUB_TOKEN", "not set")`` or
            ``(".env at /p/.env", "file not found")``; statuses are scrubbed of tokens anyway.

    Returns:
        A :class:`TokenNotFoundError` whose ``checked`` holds the pairs.
    """
    places = "; ".join(f"{place}: {state}" for place, state in checked) or "nowhere"
    return TokenNotFoundError(
        "Looking for a GitHub token",
        f"no token was found (checked {places})",
        "create a fine-grained personal access token with the account permission 'Models' set to "
        f"read-only (models: read) at {PAT_URL}, then set GITHUB_TOKEN in the environment, add "
        "GITHUB_TOKEN=<token> to the .env file, or pass ProviderConfig(api_key=...); for a "
        "non-GitHub endpoint use that endpoint's key the same way",
        checked=checked,
    )


def model_not_found(
    model: str, context: ErrorContext, *, unavailable: bool = False
) -> ModelNotFoundError:
    """The error for a model id the catalog does not know, raised before any request (status None).

    Args:
        model: The id asked for.
        context: Its ``known_models`` feed the suggestions.
        unavailable: The model exists but this account may not use it.

    Returns:
        A :class:`ModelNotFoundError` with up to three close ids in ``suggestions``.
    """
    from ._error_messages import not_found_text

    why, fix, suggestions = not_found_text(model, context, unavailable=unavailable)
    return ModelNotFoundError(
        f"Selecting model {model} on {context.shown_endpoint}", why, fix, model=model,
        suggestions=suggestions, context=context,
    )
