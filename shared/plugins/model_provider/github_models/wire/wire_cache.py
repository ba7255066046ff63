"""A content-keyed cache of converted history messages: wire form and token estimate.

jaato's stateless path (``complete()``) hands over the whole conversation on every turn, as a
fresh list (often of fresh ``Message`` objects) with the same content. Converting and
estimating 1,000 messages again each turn cost several times what the HTTP call costs, so the
result is cached by *content*: the key is built from the message's role and the values of its
parts (texts and ids as they are; call arguments and tool results by their ``marshal`` bytes,
or a 128-bit BLAKE2b digest of those when long), so an edited message (a redacted text, a
truncated tool result) simply misses, whatever its identity.

One cache per process, shared by every provider and session: conversion is pure, so the same
content always gives the same wire form. It is bounded (least recently used entries dropped
first, ``MAX_ENTRIES``) and holds no secret (only conversation content, never logged). Entries
are stored only after their wire form encodes as UTF-8 JSON without NaN, so a hit needs no
second check before sending. The cached wire dicts are shared: callers copy, never mutate them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from .._host import Message
from .tokens import estimate_message_tokens
from .wire_request import message_to_wire

__all__ = ["MAX_ENTRIES", "WireCache", "content_key", "shared_cache"]

MAX_ENTRIES = 2048  # one entry per message: room for two 1,000-message conversations
_DIGEST_ABOVE = 64
_RESULT_EXTRAS = ("model_suffix", "untrusted", "untrusted_source")
Wire = list[dict[str, Any]]


def _value_key(value: Any) -> Hashable:
    """A hashable stand-in for a JSON-like value: itself for str, else its ``marshal`` bytes
    (exact types, order kept: ``1``, ``1.0`` and ``True`` differ), or its ``repr`` for what
    marshal cannot write (dates, decimals ...)."""
    if value is None or type(value) is str:
        return value
    try:
        data = marshal.dumps(value, 2)  # version 2: no back-references, so deterministic
    except ValueError:
        data = repr(value).encode("utf-8", "surrogatepass")
        return (type(value), data if len(data) <= _DIGEST_ABOVE else _digest(data))
    return data if len(data) <= _DIGEST_ABOVE else _digest(data)


def _digest(data: bytes) -> bytes:
    """128 bits of BLAKE2b: a long value is not kept twice (a collision is ~2**-128)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def _blob_key(blob: Any) -> Hashable:
    if isinstance(blob, Mapping):
        mime, data = blob.get("mime_type"), blob.get("data")
    else:
        mime, data = getattr(blob, "mime_type", None), getattr(blob, "data", None)
    if isinstance(data, bytearray):
        data = bytes(data)
    return (mime, data)


@functools.cache
def _class_extras(cls: type) -> bool:
    """Whether ``cls`` defines one of the extras at class level (a default, a property), so
    reading the instance ``__dict__`` is not enough."""
    return any(hasattr(cls, name) for name in _RESULT_EXTRAS)


def _part_key(part: Any) -> Hashable:
    call, result, inline = part.function_call, part.function_response, part.inline_data
    if call is None and result is None and inline is None:
        text: Hashable = part.text  # the common case: the str itself (its hash is cached)
        return text
    call_key = None if call is None else (call.id, call.name, _value_key(call.args))
    result_key = None
    if result is not None:
        atts = result.attachments
        # jaato's steering suffix and untrusted marking change what is sent: part of the key
        extra = getattr(result, "__dict__", None)
        if extra is None or _class_extras(result.__class__):
            extra = {name: getattr(result, name, None) for name in _RESULT_EXTRAS}
        result_key = (
            result.call_id, result.name, _value_key(result.result), result.is_error,
            tuple(map(_blob_key, atts)) if atts else None, extra.get("model_suffix"),
            bool(extra.get("untrusted")), extra.get("untrusted_source"))
    return (part.text, call_key, result_key, None if inline is None else _blob_key(inline))


def content_key(message: Message) -> tuple[Any, ...] | None:
    """The cache key of ``message``'s content, or None when it cannot be keyed (not a
    well-formed Message, or a value that is not hashable); such messages are never cached."""
    try:
        role = message.role
        return (getattr(role, "_value_", role), *map(_part_key, message.parts))
    except (AttributeError, TypeError, ValueError, RecursionError):
        return None


class WireCache:
    """Content key -> (wire messages, estimated tokens), bounded, least recently used dropped.

    Args:
        max_entries: How many distinct messages are kept.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        # plain text messages keep only their estimate (their wire form is rebuilt in ~1 µs,
        # which saves ~300 bytes an entry); the others keep (wire form, estimate)
        self._entries: dict[Hashable, int | tuple[Wire, int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def lookup_many(self, messages: Iterable[Message]
                    ) -> dict[int, tuple[Message, Wire, int]]:
        """``id(message) -> (message, wire form, estimate)`` for the messages whose content is
        cached (the message is kept so its id cannot be reused while the result lives).

        Raises:
            TypeError, ValueError, RecursionError: see ``convert``.
        """
        out: dict[int, tuple[Message, Wire, int]] = {}
        entries = self._entries
        for message in messages:
            key = content_key(message)
            if key is None:
                continue
            try:
                entry = entries.pop(key, None)  # and put back last: now the most recently used
            except TypeError:  # an unhashable value somewhere in the key: never cached
                continue
            if entry is None:
                continue
            entries[key] = entry
            if type(entry) is int:
                out[id(message)] = (message, _plain_wire(key, message), entry)
            else:
                wire, tokens = entry  # type: ignore[misc]
                out[id(message)] = (message, wire, tokens)
        return out

    def get(self, message: Message) -> tuple[Wire, int] | None:
        """The wire form and estimate of ``message`` when its content is cached, else None.

        Raises:
            TypeError, ValueError, RecursionError: see ``convert``.
        """
        key = content_key(message)
        if key is None:
            return None
        return self._hit(key, message)

    def _hit(self, key: tuple[Any, ...], message: Message) -> tuple[Wire, int] | None:
        entries = self._entries
        try:
            entry = entries.get(key)
        except TypeError:  # an unhashable value somewhere in the key: never cached
            return None
        if entry is None:
            return None
        if entries.pop(key, None) is not None:  # now the most recently used
            entries[key] = entry
        if type(entry) is int:
            return _plain_wire(key, message), entry
        return entry  # type: ignore[return-value]

    def convert(self, message: Message) -> tuple[Wire, int, bool]:
        """The wire form of ``message``, its token estimate, and whether it came from (or went
        into) the cache, i.e. whether it is known to encode as JSON.

        Raises:
            TypeError, ValueError, RecursionError: The message holds a value that cannot be
                converted (a history edited in place).
        """
        key = content_key(message)
        if key is not None:
            hit = self._hit(key, message)
            if hit is not None:
                return hit[0], hit[1], True
        wire = message_to_wire(message)
        tokens = estimate_message_tokens(wire)
        if key is None or not _sendable(wire):
            return wire, tokens, False
        plain = all(k is None or type(k) is str for k in key[1:])
        with self._lock:
            entries = self._entries
            try:
                while len(entries) >= self.max_entries:
                    entries.pop(next(iter(entries)), None)  # least recently used first
                entries[key] = tokens if plain else (wire, tokens)
            except (RuntimeError, TypeError):  # changed meanwhile by a hit; unhashable key
                pass
        return wire, tokens, True

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


def _plain_wire(key: tuple[Any, ...], message: Message) -> Wire:
    """The wire form of a plain text message, rebuilt from its key (what ``message_to_wire``
    gives for one text part of a user or model message; the rest goes through it)."""
    if len(key) == 2:
        role, text = key
        if type(text) is str:
            if role == "user":
                return [{"role": "user", "content": text}]
            if role == "model":
                return [{"role": "assistant", "content": text}] if text else []
    return message_to_wire(message)


def _sendable(wire: Wire) -> bool:
    try:
        json.dumps(wire, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return False
    return True


shared_cache = WireCache()
