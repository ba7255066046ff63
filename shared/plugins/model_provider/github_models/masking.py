"""How the provider shows a credential or a value that may hold one: never in full.

A token is shown by its type prefix at most (``ghp_…``); a URL loses its user info and the values
of its query (either can carry a key) but keeps an IPv6 host's brackets.
"""

from __future__ import annotations

from typing import Any

__all__ = ["looks_secret", "mask_secret", "scrub_config_value", "scrub_url"]

_PREFIXES = ("github_pat_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "sk-")


def mask_secret(secret: str | None) -> str:
    """Show a credential safely: its type prefix at most (``ghp_…``), never its body."""
    if not secret:
        return "<none>"
    for prefix in _PREFIXES:
        if secret.startswith(prefix):
            return prefix + "…"
    return "…"


def scrub_url(value: str) -> str:
    """``value`` without user info and query values; ``<unparseable URL>`` when it is not one."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    query = "&".join(f"{p.split('=', 1)[0]}=…" for p in parts.query.split("&") if p)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def looks_secret(key: str) -> bool:
    """Whether a setting's name says it holds a credential."""
    k = key.lower()
    return any(w in k for w in ("key", "token", "secret", "password", "credential", "auth"))


def scrub_config_value(key: str, value: Any) -> Any:
    """A setting as it may be shown: secrets masked, URLs scrubbed, the rest as it is."""
    if looks_secret(key):
        return "…"
    if isinstance(value, str) and "://" in value:
        return scrub_url(value)
    return value
