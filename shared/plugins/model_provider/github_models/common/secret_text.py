"""Credentials in text and headers: ``scrub`` replaces anything shaped like a token, known or
not; ``lower_headers`` normalises response headers and hides credential headers;
``token_type_of`` names a GitHub credential by its prefix.

A leaf every layer may use (the error classes, masking, the emulator, the CLI): standard library
and ``lazy_re`` only, and the patterns compile on first use (importing ``errors`` stays cheap).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .lazy_re import LazyPattern

__all__ = ["lower_headers", "scrub", "token_type_of"]

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
