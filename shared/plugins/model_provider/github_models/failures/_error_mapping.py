"""The wire side of the error mapping: reading failure responses, and deciding what they mean
(the body itself is read in ``error_body``; a 429's limit and wait in ``retry``).

Pure functions over plain data (status, lower-cased headers, body text); standard library only,
so that ``errors`` stays cheap to import. ``errors.error_from_response`` turns the ``kind`` chosen
here into an exception with a message. What a 429 says about its limit (type, wait, reset) is
read in ``retry``, which decides on it; secrets in text and headers are scrubbed by
``common.secret_text``.

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

from ..common.lazy_re import LazyPattern
from .error_body import WireError

__all__ = ["classify", "deprecation_info", "request_id_of"]

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

