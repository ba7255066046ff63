"""The model table: lookup over ``ModelInfo`` with suggestions for typos.

``Catalog`` is a lookup over ``ModelInfo`` (``model_info.py``: parsing either catalog format;
``model_traits.py``: how a model wants to be called) with case-insensitive ids, bare names, legacy
azureml ids, dated deployment names, and suggestions for typos. ``static_catalog()`` loads the
packaged table once. Importing this module is cheap: no azure import, no work at import time.
The names of ``model_info`` and ``model_traits`` stay importable from here.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

from .model_info import ModelInfo
from .model_traits import (
    DEFAULT_MAX_INPUT_TOKENS,
    DEFAULT_MAX_OUTPUT_TOKENS,
    MAX_COMPLETION_TOKENS,
    MAX_TOKENS,
    bare_name,
)

__all__ = [
    "DEFAULT_MAX_INPUT_TOKENS",
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "MAX_COMPLETION_TOKENS",
    "MAX_TOKENS",
    "Catalog",
    "ModelInfo",
    "UnknownModelError",
    "static_catalog",
]

_log = logging.getLogger(__name__)

_AZUREML_ID = re.compile(r"azureml://registries/[^/]+/models/([^/]+)(?:/versions/[^/]+)?/?")


class UnknownModelError(LookupError):
    """A model id the catalog does not know. Not a ``KeyError``: its message reads cleanly."""

    def __init__(self, model_id: str, suggestions: list[str], checked: int, source: str) -> None:
        self.model_id = model_id
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"Unknown model {model_id!r}: not among the {checked} models of the {source} "
            f"(ids compared case-insensitively, bare names like 'gpt-4o' accepted).{hint} "
            "Fix: use an id from list_models() or `jaato-github-models models`, "
            "in the form 'publisher/name' (e.g. 'openai/gpt-4.1')."
        )


class Catalog:
    """A set of models with case-insensitive lookup and typo suggestions."""

    def __init__(self, models: Iterable[ModelInfo], source: str = "model catalog") -> None:
        """Index ``models``; ``source`` names the catalog in error messages.

        Raises:
            ValueError: two models share an id (case-insensitively).
        """
        self.source = source
        self._by_id: dict[str, ModelInfo] = {}
        aliases: dict[str, set[str]] = {}
        for info in sorted(models, key=lambda m: (m.id.casefold(), m.id)):
            key = info.id.casefold()
            if key in self._by_id:
                raise ValueError(f"duplicate model id in catalog: {info.id!r}")
            self._by_id[key] = info
            for alias in (info.bare_name, info.deployment):
                if alias:
                    aliases.setdefault(alias.casefold(), set()).add(key)
        # Aliases (bare names, dated deployments) only count when they name exactly one model.
        self._aliases = {a: next(iter(ks)) for a, ks in aliases.items() if len(ks) == 1}

    @classmethod
    def from_api(
        cls,
        entries: Iterable[Mapping[str, Any]] | Mapping[str, Any],
        fallback: Catalog | None = None,
        source: str = "model catalog",
    ) -> Catalog:
        """Build from catalog entries (a list, or an object with a ``data`` list).

        Entries that are not models (no id) are skipped with a warning. With ``fallback``, each
        model it knows fills what the entry lacks (see ``ModelInfo.from_api``).

        Raises:
            ValueError: two entries share an id.
        """
        if isinstance(entries, Mapping):
            data = entries.get("data", entries.get("models", []))
            entries = data if isinstance(data, list) else []
        models = []
        for entry in entries:
            try:
                model_id = entry.get("id") if isinstance(entry, Mapping) else None
                known = fallback.get(model_id) if fallback and isinstance(model_id, str) else None
                models.append(ModelInfo.from_api(entry, known))
            except ValueError as exc:
                _log.warning("skipping catalog entry: %s", exc)
        return cls(models, source=source)

    def get(self, model_id: str) -> ModelInfo | None:
        """The model for ``model_id``, or ``None``.

        Accepts, case-insensitively: the full id (``openai/gpt-4o``), an unambiguous bare name
        (``gpt-4o``) or dated deployment (``gpt-4o-2024-11-20``), and the legacy
        ``azureml://registries/R/models/NAME/versions/N`` form.
        """
        key = model_id.strip().casefold()
        legacy = _AZUREML_ID.fullmatch(key)
        if legacy:
            key = legacy.group(1)
        found = self._by_id.get(key)
        if found is None and key in self._aliases:
            found = self._by_id[self._aliases[key]]
        return found

    def base_of(self, deployment: str) -> ModelInfo | None:
        """The model a deployment name is named after, or None: the catalog model whose bare
        name (or unambiguous alias) ends ``deployment`` after a ``-``, ``_``, ``.`` or ``/``;
        the longest such name wins (``prod-gpt-4o-mini`` -> gpt-4o-mini, ``my-gpt-4o`` ->
        gpt-4o). A name that only starts with one (``gpt-4o-prod``) is not matched."""
        key = deployment.strip().casefold()
        found = self.get(key)
        if found is not None:
            return found
        names = self._aliases  # bare names and dated deployments naming exactly one model
        best = ""
        for name in names:
            if len(name) > len(best) and len(key) > len(name) and key.endswith(name) and (
                    key[-len(name) - 1] in "-_./"):
                best = name
        return self._by_id[names[best]] if best else None

    def require(self, model_id: str) -> ModelInfo:
        """Like ``get``, but an unknown id is an error.

        Raises:
            UnknownModelError: no model matches; the message lists up to 5 close ids.
        """
        info = self.get(model_id)
        if info is None:
            raise UnknownModelError(model_id, self.suggest(model_id), len(self), self.source)
        return info

    def suggest(self, model_id: str, n: int = 5) -> list[str]:
        """Up to ``n`` known ids close to ``model_id`` (best first)."""
        key = model_id.strip().casefold()
        candidates: dict[str, str] = {}
        for full_key, info in self._by_id.items():
            candidates.setdefault(full_key, info.id)
            candidates.setdefault(bare_name(full_key), info.id)
        query = key if "/" in key else bare_name(key)
        out: list[str] = []
        # A fragment of a long name ("llama-3.3") first: difflib ranks those poorly.
        if len(bare_name(key)) >= 3:
            contained = [k for k in self._by_id if bare_name(key) in bare_name(k)]
            out.extend(self._by_id[k].id for k in sorted(contained, key=len))
        for match in difflib.get_close_matches(query, list(candidates), n=n * 2, cutoff=0.6):
            if candidates[match] not in out:
                out.append(candidates[match])
        if "/" in key:  # also compare the bare part, for a wrong or missing publisher
            for match in difflib.get_close_matches(bare_name(key), list(candidates), n=n * 2):
                if candidates[match] not in out:
                    out.append(candidates[match])
        return out[:n]

    def ids(self, prefix: str | None = None) -> list[str]:
        """All ids (sorted case-insensitively), optionally those starting with ``prefix``."""
        wanted = (prefix or "").casefold()
        return [info.id for key, info in self._by_id.items() if key.startswith(wanted)]

    def to_api_entries(self, include_private: bool = False) -> list[dict[str, Any]]:
        """Every model in the later catalog format (see ``ModelInfo.to_api``)."""
        return [info.to_api(include_private) for info in self]

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def __repr__(self) -> str:
        return f"Catalog({len(self)} models, source={self.source!r})"


@functools.cache
def static_catalog() -> Catalog:
    """The packaged catalog (``data/catalog.json``), loaded once.

    Raises:
        OSError: the data file is missing from the installation.
        ValueError: the data file is not valid JSON.
    """
    package = __name__.rsplit(".", 2)[0]  # this module is <package>.models.catalog
    text = resources.files(f"{package}.data").joinpath("catalog.json").read_text("utf-8")
    return Catalog.from_api(json.loads(text), source="static model catalog")
