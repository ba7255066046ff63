"""Masking the credential in text the provider hands out, also when it arrives in pieces.

A model or a hostile gateway can echo the token in its reply. :class:`SecretMasker` replaces
every occurrence with the token's type prefix (``github_pat_…``); the part after a known prefix
is masked on its own too (``…``), since it leaks just as much. For streamed text, :meth:`feed`
holds back the end of the text that could be the start of a secret until the next piece shows
whether it is one, so a token split over several chunks never comes out whole.

Echoes that are not the token verbatim are masked too:

* cut off: a reply that ends (finish ``length``, a cancel, a broken stream) or goes on with
  something else after the first ``STEM`` characters of a secret beyond its public type prefix
  (``ghp_`` + 8) has that start masked; only a match that runs to the end of a stream still
  being fed is held back instead (the next piece decides);
* base64 (standard and urlsafe) of the secret inside any encoded text: at each of the 3 byte
  alignments, the inner characters that depend only on the secret are masked (while streaming,
  a tail is held back for such a form only where the form can start: at its offset in a group
  of 4, counted from the start of the run of base64 characters, so ordinary words are not);
* percent-encoded (every character, or any mix of encoded and plain characters).

Standard library only; the encoded forms are computed once per secret.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["KNOWN_PREFIXES", "STEM", "ScrubbedErrors", "SecretMasker", "encoded_forms",
           "looks_secret", "mask_of", "mask_response", "mask_secret", "scrub_causes",
           "scrub_config_value"]

KNOWN_PREFIXES = ("github_pat_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "sk-")
STEM = 8
"""Characters of a secret beyond its public type prefix that identify it: a cut-off echo at
least this long is masked."""
_MIN_ENCODED = 12  # shorter inner base64 forms could occur by chance; not masked
_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
_PARTIAL_ESCAPE = re.compile(r"%[0-9A-Fa-f]?\Z")  # an escape cut off at the end of a piece


def mask_of(secret: str) -> str:
    """The shown form of a secret: its known type prefix and an ellipsis (``ghp_…``), or ``…``."""
    for prefix in KNOWN_PREFIXES:
        if secret.startswith(prefix):
            return prefix + "…"
    return "…"


def mask_secret(secret: str | None) -> str:
    """Show a credential safely: its type prefix at most (``ghp_…``), ``<none>`` when unset."""
    return mask_of(secret) if secret else "<none>"


def redacted(secret: str | None) -> str:
    """A credential as a repr shows it: its type prefix and jaato's ``<redacted>`` marker
    (``ghp_… <redacted>``), ``<none>`` when unset."""
    return f"{mask_of(secret)} <redacted>" if secret else "<none>"


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


def _utf8(secret: str) -> bytes:
    """The bytes of ``secret`` as sent: a header value a server decoded with surrogateescape
    (not UTF-8 on the wire) gets its original bytes back, never a UnicodeEncodeError."""
    try:
        return secret.encode("utf-8")
    except UnicodeEncodeError:
        return secret.encode("utf-8", "surrogateescape" if all(
            "\udc80" <= c <= "\udcff" for c in secret if "\ud800" <= c <= "\udfff")
            else "surrogatepass")


@functools.lru_cache(maxsize=64)
def encoded_forms(secret: str) -> tuple[str, ...]:
    """The literal encoded forms of ``secret`` that give it away, longest first: percent-encoding
    of every character (upper- and lower-case hex), and the inner part of its standard and
    urlsafe base64 at each of the 3 byte alignments (the characters that depend only on the
    secret's bytes, whatever surrounds it in the encoded text)."""
    raw = _utf8(secret)
    forms = {"".join(f"%{b:02X}" for b in raw), "".join(f"%{b:02x}" for b in raw)}
    forms.update(form for form, _ in _base64_forms(secret))
    forms.discard(secret)
    return tuple(sorted(forms, key=len, reverse=True))


@functools.lru_cache(maxsize=64)
def _base64_forms(secret: str) -> tuple[tuple[str, int], ...]:
    """``(inner form, where it starts in a 4-character group)`` for each alignment/alphabet."""
    raw = _utf8(secret)
    out: dict[str, int] = {}
    for align in range(3):
        encoded = base64.b64encode(bytes(align) + raw).decode("ascii")
        n = align + len(raw)
        skip = (0, 2, 3)[align]  # the characters that also encode the bytes before the secret
        inner = encoded[skip:(n // 3) * 4 + (0, 1, 2)[n % 3]]
        if len(inner) >= _MIN_ENCODED:
            out.setdefault(inner, skip)
            out.setdefault(inner.replace("+", "-").replace("/", "_"), skip)
    out.pop(secret, None)
    return tuple(out.items())


@functools.lru_cache(maxsize=64)
def _percent_pattern(secret: str) -> re.Pattern[str]:
    """Matches ``secret`` with any of its characters percent-encoded (hex in either case)."""
    parts = []
    for ch in secret:
        hexes = "".join("%" + "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d
                                      for d in f"{b:02x}") for b in ch.encode("utf-8"))
        parts.append(f"(?:{re.escape(ch)}|{hexes})")
    return re.compile("".join(parts))


class SecretMasker:
    """Masks given secrets in whole texts (:meth:`scrub`) and in streamed pieces (:meth:`feed`).

    Args:
        secrets: The credentials (strings shorter than 6 characters are ignored).
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._masks: dict[str, str] = {}
        self._order: list[str] = []
        self._stems: list[tuple[str, str, str]] = []  # (first characters, whole form, mask)
        self._percent: dict[str, str] = {}  # secret -> mask, for mixed percent-encoding
        self._alphabet = ""  # every character of every form
        self._first = re.compile("(?!)")  # a character that starts a form
        self._by_first: dict[str, list[str]] = {}  # forms by their first character
        self._b64_skip: dict[str, int] = {}  # base64 form -> where it starts in a group of 4
        self._shortest = 0  # the length of the shortest form or stem
        self._pending = ""
        self._b64_run = 0  # base64 characters at the end of what feed released
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` (and its part after a known prefix) from now on: whole, cut off after
        ``STEM`` characters beyond its type prefix, base64- or percent-encoded."""
        if not secret or len(secret) < 6 or secret in self._masks:
            return
        mask = mask_of(secret)
        self._masks[secret] = mask
        prefix = mask.removesuffix("…")
        forms = [(secret, mask, len(prefix) + STEM)]
        if prefix and len(secret) - len(prefix) >= 8:
            self._masks.setdefault(secret[len(prefix):], "…")
            forms.append((secret[len(prefix):], "…", STEM))
        for form, form_mask, stem in forms:
            if len(form) > stem:
                self._stems.append((form[:stem], form, form_mask))
        self._stems.sort(key=lambda s: len(s[1]), reverse=True)
        for encoded in encoded_forms(secret):
            self._masks.setdefault(encoded, mask)
        for encoded, skip in _base64_forms(secret):
            self._b64_skip.setdefault(encoded, skip)
        self._percent[secret] = mask
        self._order = sorted(self._masks, key=len, reverse=True)
        self._alphabet = "".join(sorted(set("".join(self._order))))
        self._shortest = min(len(s) for s in [*self._order, *(stem for stem, _, _ in self._stems)])
        self._by_first = {}
        for form in self._order:
            self._by_first.setdefault(form[0], []).append(form)
        self._first = re.compile(f"[{re.escape(''.join(self._by_first))}]")

    def __bool__(self) -> bool:
        return bool(self._masks)

    def scrub(self, text: str) -> str:
        """``text`` (a whole text: it ends here) with every secret masked, a cut-off start of
        one included."""
        return self._scrub(text, final=True)

    def _scrub(self, text: str, *, final: bool) -> str:
        if len(text) < self._shortest:  # too short to hold any form (most streamed pieces)
            return text
        for secret in self._order:
            if secret in text:
                text = text.replace(secret, self._masks[secret])
        if "%" in text:
            for secret, mask in self._percent.items():
                text = _percent_pattern(secret).sub(mask, text)
        for stem, form, mask in self._stems:
            start = 0
            while (pos := text.find(stem, start)) >= 0:
                end = pos + len(stem)
                while end < len(text) and end - pos < len(form) and text[end] == form[end - pos]:
                    end += 1
                if end == len(text) and not final:
                    break  # the stream may go on with the rest of the secret: feed holds it back
                text = text[:pos] + mask + text[end:]
                start = pos + len(mask)
        return text

    def feed(self, piece: str) -> str:
        """The part of the stream so far that is safe to show now (may be empty)."""
        if not self._order:
            return piece
        pending = self._scrub(self._pending + piece, final=False)
        end = len(pending)
        # a tail that could start a secret (or an encoded form) is made of its characters only,
        # and is shorter than the longest form: look no further back than that
        start = max(end - len(self._order[0]) + 1,
                    len(pending.rstrip(self._alphabet)))
        cut = end  # everything before ``cut`` is safe to show
        first = self._first.search(pending, start)
        while first is not None:
            pos = first.start()
            tail = pending[pos:]
            if any(form.startswith(tail) and self._may_start(form, pending, pos)
                   for form in self._by_first[tail[0]]):
                cut = pos
                break
            first = self._first.search(pending, pos + 1)
        if "%" in pending[start:cut]:  # the start of a partly percent-encoded secret?
            cut = self._percent_cut(pending, start, cut)
        self._pending, shown = pending[cut:], pending[:cut]
        if self._b64_skip and shown:
            before = shown.rstrip(_B64_CHARS)
            self._b64_run = len(shown) - len(before) + (0 if before else self._b64_run)
        return shown

    def _may_start(self, form: str, text: str, pos: int) -> bool:
        """Whether ``form`` can start at ``pos``: a base64 form only where its group offset
        falls, counted from the start of the base64 run (what feed released before included);
        a word ending with a letter that starts an encoded form is not held back for it."""
        skip = self._b64_skip.get(form)
        if skip is None:
            return True
        before = text[:pos].rstrip(_B64_CHARS)
        offset = pos - len(before) + (0 if before else self._b64_run)
        return offset >= skip and (offset - skip) % 4 == 0

    def _percent_cut(self, pending: str, start: int, cut: int) -> int:
        """The earliest position in ``pending[start:cut]`` from which the text, percent-decoded,
        could start a secret (``cut`` when none)."""
        from urllib.parse import unquote

        for pos in range(start, cut):
            tail = pending[pos:]
            if "%" not in tail:
                break
            decoded = unquote(_PARTIAL_ESCAPE.sub("", tail), errors="replace")
            if decoded and any(secret.startswith(decoded) for secret in self._percent):
                return pos
        return cut

    def flush(self) -> str:
        """What :meth:`feed` held back, masked if it is a cut-off start of a secret (the stream
        ended: it was not a whole secret)."""
        pending, self._pending, self._b64_run = self._pending, "", 0
        return self.scrub(pending)


def scrub_causes(exc: BaseException, masker: SecretMasker) -> BaseException:
    """Mask secrets in every exception chained below ``exc`` (``__cause__``/``__context__``),
    in place: their text, and the document a ``JSONDecodeError`` keeps. A traceback, an error
    reporter or an OpenTelemetry exporter walking the chain then finds no credential.

    Returns:
        ``exc`` itself.
    """
    from .secret_text import scrub

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


class ScrubbedErrors:
    """A context manager: an ``Exception`` leaving the block has every credential
    ``secrets()`` names scrubbed from its chained causes (``scrub_causes``), then goes on.
    A plain class: a generator-based one cost a generator and a wrapper on every turn."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Callable[[], Iterable[str | None]]) -> None:
        self._secrets = secrets

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, Exception):
            scrub_causes(exc, SecretMasker(self._secrets()))


def _may_hold(value: Any, masker: SecretMasker) -> bool:
    """Whether ``value`` (parsed JSON) might hold a form of a secret: ``scrub`` changes its
    strings (keys and values, joined by NUL, which no form holds), or it holds something else
    than plain JSON types (``default=str`` would show it).

    A form is made of letters, digits and ``+/=_-%.``, none of which JSON escapes, so it
    appears in the encoded text exactly when it appears in one string; scanning the strings
    spares encoding the whole value for the usual reply, which echoes nothing.
    """
    strings: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            strings.append(item)
        elif kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    return True
                strings.append(key)
                stack.append(child)
        elif kind is list:
            stack.extend(item)
        elif item is not None and kind not in (int, float, bool):
            return True
    text = "\0".join(strings)
    return masker.scrub(text) != text


def mask_response(response: Any, masker: SecretMasker) -> Any:
    """A reply with every echo of a secret masked in its text, its function calls (id, name,
    arguments) and its ``raw`` body (changed in place and returned)."""
    if not masker:
        return response

    def clean(value: Any) -> Any:
        if not _may_hold(value, masker):
            return value  # no string in it holds a form of a secret: nothing to mask
        text = json.dumps(value, ensure_ascii=False, default=str)
        masked = masker.scrub(text)
        return value if masked == text else json.loads(masked)

    if response.text:
        response.text = masker.scrub(response.text)
    if getattr(response, "thinking", None):
        response.thinking = masker.scrub(response.thinking)
    for call in response.function_calls:
        call.args = clean(call.args)
        call.id = masker.scrub(call.id)
        call.name = masker.scrub(call.name)
        if getattr(call, "unreadable_args", None):
            call.unreadable_args = masker.scrub(call.unreadable_args)
    if response.raw is not None:
        response.raw = clean(response.raw)
    return response
