"""What of an endpoint's catalog answer is kept: the expected shape, bounded, with no credential.

The live catalog comes from whatever the endpoint is (a proxy, a gateway, a hostile server), is
cached on disk and shown by ``models``. :func:`clean_entries` keeps only what ``ModelInfo``
reads, in the types it reads, within size limits, and masks any echo of a credential (the
provider's own, and anything shaped like a token); an entry whose id holds one is dropped.
What it drops is logged once per answer (counts only, never the values).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..common.masking import SecretMasker

__all__ = ["MAX_CATALOG_BYTES", "MAX_ENTRIES", "MAX_TEXT", "clean_entries"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not

MAX_ENTRIES = 2000
"""Models kept from one answer (the service listed fewer than 100)."""
MAX_CATALOG_BYTES = 2 * 1024 * 1024
"""The kept entries, as JSON, stay below this (the static catalog of 63 models is ~58 KB)."""
MAX_TEXT = 512
"""The longest text field kept (a longer one is dropped, not cut: a cut could end mid-token)."""
_MAX_ITEMS = 32  # items of a list field (modalities, tags, capabilities)
_MAX_ITEM = 64  # characters of one list item
_MAX_TOKENS = 100_000_000  # the largest token limit believed

_TEXT_KEYS = ("name", "publisher", "summary", "rate_limit_tier", "registry", "version",
              "html_url")
_LIST_KEYS = ("supported_input_modalities", "supported_output_modalities", "tags",
              "capabilities")
_LIMIT_KEYS = ("max_input_tokens", "max_output_tokens")
_MODEL_ID = re.compile(r"[\w.\-/:@+]{1,200}")


def clean_entries(entries: Any, secrets: Iterable[str | None] = ()) -> list[dict[str, Any]]:
    """The catalog entries worth keeping, each reduced to the fields and types of the format.

    Args:
        entries: The parsed answer: a list of entries (or an object with a ``data`` list).
        secrets: Credentials whose echoes are masked (the key, Entra tokens).

    Returns:
        At most :data:`MAX_ENTRIES` entries, together under :data:`MAX_CATALOG_BYTES` as JSON.
    """
    if isinstance(entries, Mapping):
        entries = entries.get("data", entries.get("models"))
    if not isinstance(entries, list):
        return []
    masker = SecretMasker(secrets)
    kept: list[dict[str, Any]] = []
    size = dropped = 0
    for raw in entries:
        entry = _clean(raw, masker)
        if entry is None:
            dropped += 1
            continue
        size += len(json.dumps(entry)) + 1
        if len(kept) >= MAX_ENTRIES or size > MAX_CATALOG_BYTES:
            logger.warning("the endpoint's catalog is larger than the %d models / %d bytes kept;"
                           " the rest is ignored", MAX_ENTRIES, MAX_CATALOG_BYTES)
            break
        kept.append(entry)
    if dropped:
        logger.warning("ignored %d catalog entries that are not models of the expected shape",
                       dropped)
    return kept


def _clean(raw: Any, masker: SecretMasker) -> dict[str, Any] | None:
    """One entry reduced to the known fields (None: not a model, or its id holds a secret)."""
    if not isinstance(raw, Mapping):
        return None
    model_id = raw.get("id")
    if (not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id)
            or _scrub(model_id, masker) != model_id):
        return None
    entry: dict[str, Any] = {"id": model_id}
    for key in _TEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            entry[key] = _scrub(value, masker)
    for key in _LIST_KEYS:
        value = raw.get(key)
        if (isinstance(value, list) and len(value) <= _MAX_ITEMS
                and all(isinstance(v, str) and len(v) <= _MAX_ITEM for v in value)):
            entry[key] = [_scrub(v, masker) for v in value]
    limits = raw.get("limits")
    if isinstance(limits, Mapping):
        entry["limits"] = {k: v for k in _LIMIT_KEYS if _is_count(v := limits.get(k))}
    return entry


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TOKENS


def _scrub(text: str, masker: SecretMasker) -> str:
    from ..common.secret_text import scrub  # anything shaped like a token, known or not

    return scrub(masker.scrub(text))
