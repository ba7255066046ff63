"""The wire side of the error mapping: reading failure responses, and deciding what they mean
(the body itself is read in ``error_body``; a 429's limit and wait in ``retry``).

Pure functions over plain data (status, lower-cased headers, body text); standard library only,
so that ``errors`` stays cheap to import. ``errors.error_from_response`` turns the ``kind`` chosen
here into an exception with a message. What a 429 says about its limit (type, wait, reset) is
read in ``retry``, which decides on it; the names stay importable from here.

Facts behind the tables (observed on the wire, see ``tests/fixtures/wire_errors.json``):

* bodies come as ``{"error": {"code", "message", "details"}}`` (often as ``text/plain``), as
  the bare inner object, as vLLM/OpenAI-style ``{"object": "error", ...}``, as plain text, or empty;
* 429 bodies read "Rate limit of N per Ws exceeded for TYPE. Please wait S seconds before retrying."
  and carry ``retry-after``, ``x-ratelimit-timeremaining`` and ``x-ratelimit-type``;
* 413 ``tokens_limit_reached`` reads "... Max size: 8000 tokens.";
* after the retirement every request answers 410 ``github_models_retirement_brownout``; before it,
  refused requests carried ``Deprecation``/``Sunset`` headers and an empty body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..common.lazy_re import LazyPattern
from .error_body import WireError, decode_body, parse_error_body, parse_token_counts

__all__ = [
    "BODY_KEEP_CHARS",
    "WireError",
    "classify",
    "decode_body",
    "deprecation_info",
    "endpoint_host",
    "lower_headers",
    "parse_error_body",
    "parse_token_counts",
    "request_id_of",
    "scrub",
    "token_type_of",
]

BODY_KEEP_CHARS = 2048
"""How much of a response body an error keeps (after scrubbing)."""

_SECRET_PATTERNS: tuple[tuple[LazyPattern, str], ...] = (
    (LazyPattern(r"github_pat_[A-Za-z0-9_]+"), "github_pat_…"),
    (LazyPattern(r"\b(gh[pousr]_)[A-Za-z0-9_]+"), r"\1…"),
    (LazyPattern(r"\bsk-[A-Za-z0-9_\-]{8,}"), "sk-…"),
    # a JWT (Entra ID access tokens are JWTs): header.payload.signature, base64url
    (LazyPattern(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), "eyJ…"),
    (LazyPattern(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]{6,}"), r"\1\2…"),
    # after the word "token" only a value with digits is a credential: prose such as
    # "the token provided is invalid" stays readable
    (LazyPattern(r"(?i)\b(token)(\s+)(?=[A-Za-z._~+/=\-]*\d)[A-Za-z0-9._~+/=\-]{6,}"),
     r"\1\2…"),
    (LazyPattern(r"(?i)\b(api[-_]?key|access[-_]?token|password|secret)(\"?'?\s*[:=]\s*\"?'?)"
                r"[A-Za-z0-9_\-.+/=]{8,}"), r"\1\2…"),
)

_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "set-cookie",
     "ocp-apim-subscription-key"}
)

_REQUEST_ID_HEADERS = ("x-github-request-id", "apim-request-id", "x-request-id", "x-ms-request-id")

_TOKEN_PREFIXES: tuple[tuple[str, str], ...] = (
    ("github_pat_", "fine_grained_pat"),
    ("ghp_", "classic_pat"),
    ("ghs_", "github_app"),
    ("ghu_", "github_app"),
    ("gho_", "oauth"),
)


def scrub(text: str) -> str:
    """Replace anything that looks like a credential with its type prefix and an ellipsis."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def token_type_of(token: str | None) -> str:
    """The kind of GitHub credential ``token`` is, from its prefix.

    Returns:
        ``"fine_grained_pat"``, ``"classic_pat"``, ``"github_app"`` (``ghs_``/``ghu_``),
        ``"oauth"`` or ``"unknown"``.
    """
    token = (token or "").strip()
    for prefix, kind in _TOKEN_PREFIXES:
        if token.startswith(prefix):
            return kind
    return "unknown"


def endpoint_host(endpoint: str) -> str:
    """The lower-cased host of ``endpoint`` ('' when it has none)."""
    try:
        return (urlsplit(endpoint.strip()).hostname or "").lower()
    except ValueError:
        return ""


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """Headers with lower-cased names and string values; credentials replaced by ``***``."""
    out: dict[str, str] = {}
    if not headers:
        return out
    try:
        items = list(headers.items())
    except Exception:  # a broken mapping must not break error reporting
        return out
    for name, value in items:
        key = str(name).strip().lower()
        out[key] = "***" if key in _SENSITIVE_HEADERS else scrub(str(value))
    return out


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


# --- classification -----------------------------------------------------------------------

# GitHub's brownout code, and the codes a retired API answers with (Azure AI model inference's
# /models route after the SDK's retirement: docs/endpoints.md, "Retirement of /models")
_RETIRED_CODES = frozenset({"github_models_retirement_brownout", "apiretired", "api_retired",
                            "apideprecated", "api_deprecated", "endpointretired"})
_RATE_CODES = frozenset({"ratelimitreached", "rate_limit_exceeded", "ratelimitexceeded",
                         "too_many_requests", "rate_limit_error"})
_QUOTA_CODES = frozenset({"insufficient_quota", "quotaexceeded", "quota_exceeded"})
_NOT_FOUND_CODES = frozenset({"unknown_model", "unavailable_model", "model_not_found",
                              "deploymentnotfound", "modelnotfound"})
_CONTEXT_CODES = frozenset({"tokens_limit_reached", "context_length_exceeded",
                            "string_above_max_length", "request_too_large"})
_FILTER_CODES = frozenset({"content_filter", "responsibleaipolicyviolation",
                           "content_policy_violation"})

_DISABLED_TEXT = LazyPattern(
    r"models?\b[^.]{0,40}\b(?:is|are|has been|have been)\s+(?:disabled|not enabled)"
    r"|account type is not (?:currently )?supported|models access|models is not available for"
)
_PERMISSION_TEXT = LazyPattern(
    r"models\s*:\s*read|\bmodels\b\W{0,3}(?:permission|scope)"
    r"|(?:permission|scope)s?\b[^.]{0,60}\bmodels\b|\bsso\b|\bsaml\b|single sign-on"
    r"|not accessible by (?:personal access token|integration)"
)
_NOT_FOUND_TEXT = LazyPattern(
    r"unknown model|unavailable model|model not found|no such model"
    r"|\bmodel\b[^.]{0,80}(?:does not exist|was not found|not found)"
    r"|deployment[^.]{0,60}(?:does not exist|not found)"
)
_CONTEXT_TEXT = LazyPattern(
    r"maximum context length|context[_ ]length[_ ]exceeded|request body too large"
    r"|max size: \d+ tokens"
)
_FILTER_TEXT = LazyPattern(
    r"content management policy|content[_ ]filter|responsibleaipolicyviolation"
)
_EMPTYISH = LazyPattern(
    r"^\s*(?:\d{3}\s*)?(?:forbidden|not found|gone|unauthorized|bad request|error)?\s*\.?\s*$", re.I
)


def _codes(wire: WireError) -> set[str]:
    return {c.lower() for c in (wire.code, wire.inner_code, wire.error_type) if c}


def classify(status: int | None, headers: Mapping[str, str], wire: WireError,
             bare_refusal_is_retirement: bool = False) -> str:
    """Decide what a failure means; the table in docs/errors.md as code (text wins over status).

    ``bare_refusal_is_retirement``: the endpoint profile says an empty 403/404 means the
    endpoint is gone (the removed legacy host).

    Returns:
        One of ``retired``, ``rate_limit``, ``quota``, ``disabled``, ``permission``,
        ``token_invalid``, ``model_not_found``, ``context_limit``, ``content_filter``,
        ``invalid_request``, ``unavailable``, ``not_found``, ``generic``.
    """
    codes = _codes(wire)
    text = wire.search_text
    emptyish = not wire.code and (not text or bool(_EMPTYISH.match(wire.message or wire.text)))
    if codes & _RETIRED_CODES or status == 410:
        return "retired"
    is_4xx = status is not None and 400 <= status < 500
    if emptyish and is_4xx and status != 429 and (
        "deprecation" in headers or "sunset" in headers
        or (bare_refusal_is_retirement and status in (403, 404))
    ):
        return "retired"
    if codes & _QUOTA_CODES:
        return "quota"
    if status == 429 or codes & _RATE_CODES:
        return "rate_limit"
    if status in (401, 403) or codes & {"unauthorized", "forbidden"}:
        if _DISABLED_TEXT.search(text):
            return "disabled"
        if _PERMISSION_TEXT.search(text):
            return "permission"
        if status == 401 or (status is None and "unauthorized" in codes):
            return "token_invalid"
        return "disabled"
    if codes & _NOT_FOUND_CODES and (status is None or is_4xx):
        return "model_not_found"
    if status in (400, 404, None) and _NOT_FOUND_TEXT.search(text):
        return "model_not_found"
    if status == 413 or codes & _CONTEXT_CODES or (
        status in (400, None) and _CONTEXT_TEXT.search(text)
    ):
        return "context_limit"
    if codes & _FILTER_CODES or (status in (400, None) and _FILTER_TEXT.search(text)):
        return "content_filter"
    if status in (400, 422):
        return "invalid_request"
    if status is not None and 500 <= status < 600:
        return "unavailable"
    if status == 404:
        return "not_found"
    return "generic"


_READ_BY_RETRY = frozenset({"RATE_LIMIT_TYPES", "RateLimitText", "parse_rate_limit_text",
                            "parse_retry_after", "rate_limit_type", "resets_at"})


def __getattr__(name: str) -> Any:
    """Reading a 429 (its limit type, its wait, when it resets) lives in ``retry``, next to the
    decision it feeds; these names stay importable from here (loaded on first use, so
    importing ``errors`` does not load ``retry``)."""
    if name in _READ_BY_RETRY:
        from . import retry

        return getattr(retry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
