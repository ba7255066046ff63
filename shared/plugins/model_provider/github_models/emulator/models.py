"""What the emulator knows about models: the catalog it serves and how ids resolve.

The catalog is the project's own ``data/catalog.json`` (later GitHub catalog format), loaded
lazily; a caller may pass its own list instead. Keys starting with ``x_`` are private to the
project and are stripped before the catalog is served. When the data file is missing (a partial
checkout) a tiny built-in catalog keeps the emulator usable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["FALLBACK_CATALOG", "ModelEntry", "ModelIndex", "is_reasoning_model", "load_catalog"]

_DATA_PACKAGE = f"{__package__.rsplit('.', 1)[0]}.data"  # the catalog the provider ships

# Dated upstream deployments that the service echoed in the response's ``model`` field.
_DEPLOYMENTS: dict[str, str] = {
    "gpt-4o": "gpt-4o-2024-11-20",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "o1": "o1-2024-12-17",
    "o3": "o3-2025-04-16",
    "o3-mini": "o3-mini-2025-01-31",
    "o4-mini": "o4-mini-2025-04-16",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "gpt-5-nano": "gpt-5-nano-2025-08-07",
    "gpt-5-chat": "gpt-5-chat-2025-08-07",
}

# o1, o3, o3-mini, o4-mini, gpt-5, gpt-5-mini ... (gpt-5-chat is a plain chat model).
_REASONING = re.compile(r"^(o\d+(-[a-z]+)?|gpt-5(?!-chat)(-[a-z0-9]+)?)$")


def _entry(
    model_id: str, name: str, tier: str, version: str, caps: list[str], limits: tuple[int, int]
) -> dict[str, Any]:
    publisher, _, bare = model_id.partition("/")
    registry = "azure-openai" if publisher == "openai" else "azureml-" + publisher
    return {
        "id": model_id,
        "name": name,
        "publisher": "OpenAI" if publisher == "openai" else publisher.capitalize(),
        "summary": "",
        "rate_limit_tier": tier,
        "supported_input_modalities": ["text"],
        "supported_output_modalities": ["embeddings" if tier == "embeddings" else "text"],
        "tags": [],
        "registry": registry,
        "version": version,
        "capabilities": caps,
        "limits": {"max_input_tokens": limits[0], "max_output_tokens": limits[1]},
        "html_url": f"https://github.com/marketplace/models/{registry}/{bare}",
    }


_CHAT = ["streaming", "tool-calling"]
#: Used only when ``data/catalog.json`` is not installed.
FALLBACK_CATALOG: list[dict[str, Any]] = [
    _entry("openai/gpt-4.1", "OpenAI GPT-4.1", "high", "2025-04-14", _CHAT, (1048576, 32768)),
    _entry("openai/gpt-4o", "OpenAI GPT-4o", "high", "2024-11-20", _CHAT, (131072, 16384)),
    _entry("openai/gpt-4o-mini", "OpenAI GPT-4o mini", "low", "2024-07-18", _CHAT, (131072, 4096)),
    _entry("openai/o3-mini", "OpenAI o3-mini", "custom", "2025-01-31", _CHAT, (200000, 100000)),
    _entry(
        "openai/text-embedding-3-small",
        "OpenAI Text Embedding 3 (small)",
        "embeddings",
        "1",
        [],
        (8191, 0),
    ),
    _entry(
        "meta/Llama-3.3-70B-Instruct",
        "Llama-3.3-70B-Instruct",
        "high",
        "4",
        ["streaming"],
        (128000, 4096),
    ),
]


def load_catalog() -> list[dict[str, Any]]:
    """The project's catalog (``data/catalog.json``), or the built-in fallback when absent.

    Returns:
        A list of later-format catalog entries (private ``x_`` keys still present).
    """
    try:
        text = resources.files(_DATA_PACKAGE).joinpath("catalog.json").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return [dict(e) for e in FALLBACK_CATALOG]
    data = json.loads(text)
    if isinstance(data, dict):  # tolerate a {"data": [...]} wrapper
        data = data.get("data", [])
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)]


def is_reasoning_model(model_id: str) -> bool:
    """Whether a model id names a reasoning model (o-series, gpt-5 family except gpt-5-chat)."""
    return bool(_REASONING.match(model_id.rpartition("/")[2].lower()))


def _deployment(raw: dict[str, Any], bare: str) -> str:
    """The project catalog's ``x_deployment`` when it has one, else the known dated name."""
    named = raw.get("x_deployment")
    return named if isinstance(named, str) and named else _DEPLOYMENTS.get(bare, bare)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One catalog model, with the facts the emulator needs on the hot path precomputed."""

    id: str
    bare: str  # lower-case name without publisher: "gpt-4o", "llama-3.3-70b-instruct"
    tier: str | None
    deployment: str  # what the response's ``model`` field says
    reasoning: bool
    max_output_tokens: int | None


class ModelIndex:
    """Case-insensitive lookup of catalog entries by full id or by bare name."""

    def __init__(self, catalog: list[dict[str, Any]]) -> None:
        self._by_id: dict[str, ModelEntry] = {}
        self._by_bare: dict[str, ModelEntry] = {}
        served: list[dict[str, Any]] = []
        for raw in catalog:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                served.append(raw)  # a hostile catalog's junk: served as given, not a model
                continue
            public = {k: v for k, v in raw.items() if not k.startswith("x_")}
            served.append(public)
            model_id = str(raw["id"])
            bare = model_id.rpartition("/")[2].lower()
            limits = raw.get("limits") or {}
            max_out = limits.get("max_output_tokens") if isinstance(limits, dict) else None
            entry = ModelEntry(
                id=model_id,
                bare=bare,
                tier=raw.get("rate_limit_tier") or None,
                deployment=_deployment(raw, bare),
                reasoning=is_reasoning_model(model_id),
                max_output_tokens=max_out if isinstance(max_out, int) and max_out > 0 else None,
            )
            self._by_id[model_id.lower()] = entry
            self._by_bare.setdefault(bare, entry)
        #: The bare names, in catalog order (the v1 route's deployments).
        self.bare_names: tuple[str, ...] = tuple(self._by_bare)
        #: The catalog body as served (``x_`` keys stripped), serialised once.
        self.catalog_body: bytes = json.dumps(served).encode()

    def by_id(self, model_id: str) -> ModelEntry | None:
        """The entry whose ``publisher/name`` id matches, ignoring case."""
        return self._by_id.get(model_id.lower())

    def by_bare(self, name: str) -> ModelEntry | None:
        """The entry whose name without publisher matches, ignoring case (legacy endpoint)."""
        return self._by_bare.get(name.rpartition("/")[2].lower())
