"""Masking the credential in text the provider hands out, also when it arrives in pieces.

A model or a hostile gateway can echo the token in its reply. :class:`SecretMasker` replaces
every occurrence with the token's type prefix (``github_pat_…``); the part after a known prefix
is masked on its own too (``…``), since it leaks just as much. For streamed text, :meth:`feed`
holds back the end of the text that could be the start of a secret until the next piece shows
whether it is one, so a token split over several chunks never comes out whole. Standard library
only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["KNOWN_PREFIXES", "SecretMasker", "looks_secret", "mask_of", "mask_response",
           "mask_secret", "scrub_causes", "scrub_config_value"]

KNOWN_PREFIXES = ("github_pat_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "sk-")


def mask_of(secret: str) -> str:
    """The shown form of a secret: its known type prefix and an ellipsis (``ghp_…``), or ``…``."""
    for prefix in KNOWN_PREFIXES:
        if secret.startswith(prefix):
            return prefix + "…"
    return "…"


def mask_secret(secret: str | None) -> str:
    """Show a credential safely: its type prefix at most (``ghp_…``), ``<none>`` when unset."""
    return mask_of(secret) if secret else "<none>"


def looks_secret(key: str) -> bool:
    """Whether a setting's name says it holds a credential."""
    k = key.lower()
    return any(w in k for w in ("key", "token", "secret", "password", "credential", "auth"))


def scrub_config_value(key: str, value: Any) -> Any:
    """A setting as it may be shown: secrets masked, URLs without their secrets, the rest as
    it is."""
    if looks_secret(key):
        return "…"
    if isinstance(value, str) and "://" in value:
        from .url_secrets import strip_url_secrets

        return strip_url_secrets(value)
    return value


class SecretMasker:
    """Masks given secrets in whole texts (:meth:`scrub`) and in streamed pieces (:meth:`feed`).

    Args:
        secrets: The credentials (strings shorter than 6 characters are ignored).
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._masks: dict[str, str] = {}
        self._order: list[str] = []
        self._pending = ""
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` (and its part after a known prefix) from now on."""
        if not secret or len(secret) < 6:
            return
        self._masks[secret] = mask_of(secret)
        prefix = mask_of(secret).removesuffix("…")
        if prefix and len(secret) - len(prefix) >= 8:
            self._masks.setdefault(secret[len(prefix):], "…")
        self._order = sorted(self._masks, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._masks)

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self._order:
            if secret in text:
                text = text.replace(secret, self._masks[secret])
        return text

    def feed(self, piece: str) -> str:
        """The part of the stream so far that is safe to show now (may be empty)."""
        if not self._order:
            return piece
        pending = self.scrub(self._pending + piece)
        end = len(pending)
        cut = end  # everything before ``cut`` is safe to show
        for secret in self._order:
            # a tail that could start this secret begins with its first character
            pos = pending.find(secret[0], max(0, end - len(secret) + 1))
            while 0 <= pos < cut:
                if secret.startswith(pending[pos:]):
                    cut = pos
                    break
                pos = pending.find(secret[0], pos + 1)
        self._pending = pending[cut:]
        return pending[:cut]

    def flush(self) -> str:
        """What :meth:`feed` held back (the stream ended: it was not a whole secret)."""
        pending, self._pending = self._pending, ""
        return self.scrub(pending)


def scrub_causes(exc: BaseException, masker: SecretMasker) -> BaseException:
    """Mask secrets in every exception chained below ``exc`` (``__cause__``/``__context__``),
    in place: their text, and the document a ``JSONDecodeError`` keeps. A traceback, an error
    reporter or an OpenTelemetry exporter walking the chain then finds no credential.

    Returns:
        ``exc`` itself.
    """
    from ._error_mapping import scrub

    seen: set[int] = set()
    current = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(scrub(masker.scrub(a)) if isinstance(a, str) else a
                             for a in current.args)
        doc = getattr(current, "doc", None)
        if isinstance(doc, str):
            current.doc = scrub(masker.scrub(doc))  # type: ignore[attr-defined]
        current = current.__cause__ or current.__context__
    return exc


def mask_response(response: Any, masker: SecretMasker) -> Any:
    """A reply with every echo of a secret masked in its text, its function calls (id, name,
    arguments) and its ``raw`` body (changed in place and returned)."""
    if not masker:
        return response

    def clean(value: Any) -> Any:
        text = json.dumps(value, ensure_ascii=False, default=str)
        masked = masker.scrub(text)
        return value if masked == text else json.loads(masked)

    if response.text:
        response.text = masker.scrub(response.text)
    for call in response.function_calls:
        call.args = clean(call.args)
        call.id = masker.scrub(call.id)
        call.name = masker.scrub(call.name)
        if getattr(call, "unreadable_args", None):
            call.unreadable_args = masker.scrub(call.unreadable_args)
    if response.raw is not None:
        response.raw = clean(response.raw)
    return response
