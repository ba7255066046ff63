"""The model table: what each model is, accepts and costs.

``ModelInfo`` is one model, parsed from a catalog entry in either format the service served:

* the early ``GET /catalog/models`` format (id, name, publisher, summary, rate_limit_tier,
  supported_input/output_modalities, tags), and
* the later format, which adds registry, version, capabilities, ``limits`` and html_url.

The service never said how a model wants to be called (``max_tokens`` or
``max_completion_tokens``, temperature, system messages, JSON schema). Our static catalog
(``data/catalog.json``, built by ``tools/gen_catalog.py``) carries those facts under private keys
starting with ``x_`` (the emulator strips them). When an entry lacks them (a live catalog), they
are inferred from the model id by ``_TRAIT_RULES``, one table of id patterns.

Defaults for what an early-format entry lacks:

* ``capabilities``: from ``_TRAIT_RULES`` ("streaming" unless the rule says no; "tool-calling"
  where the rule says yes; embeddings have neither).
* ``limits``: a ``fallback`` ``ModelInfo`` when the caller has one (e.g. the static catalog's);
  otherwise ``_default_limits``: a context size written in the id or name ("4k", "(128k)") x 1024,
  else ``DEFAULT_MAX_INPUT_TOKENS`` (8000: the free tier's per-request input cap for low/high
  models, so never more than the service accepted for free); output ``DEFAULT_MAX_OUTPUT_TOKENS``
  (4096, the marketplace's value for every non-OpenAI chat model). Embeddings: 512 in (the smallest
  embedding window published), 0 out.
* modalities: ``("text",)`` in and out when the key is absent (an empty list is kept as served).

``Catalog`` is a lookup over ``ModelInfo`` (case-insensitive ids, bare names, legacy azureml ids,
dated deployment names) with suggestions for typos. ``static_catalog()`` loads the packaged table
once. Importing this module is cheap: no azure import, no work at import time.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .pricing import ModelPricing

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

MAX_TOKENS = "max_tokens"
MAX_COMPLETION_TOKENS = "max_completion_tokens"
DEFAULT_MAX_INPUT_TOKENS = 8000
DEFAULT_MAX_OUTPUT_TOKENS = 4096
_EMBEDDING_MAX_INPUT_TOKENS = 512

STREAMING = "streaming"
TOOL_CALLING = "tool-calling"


@dataclass(frozen=True, slots=True)
class _Traits:
    """How a model wants to be called; the defaults fit a plain chat model."""

    reasoning: bool = False
    token_param: str = MAX_TOKENS
    temperature: bool = True
    system: bool = True
    structured: bool = False
    streaming: bool = True
    tools: bool = False


# OpenAI reasoning models: max_completion_tokens, no temperature, json_schema, tools.
_OPENAI_REASONING = _Traits(
    reasoning=True,
    token_param=MAX_COMPLETION_TOKENS,
    temperature=False,
    structured=True,
    tools=True,
)
_EMBEDDING = _Traits(streaming=False)

# Patterns match the whole lower-cased bare name (after "publisher/"); the first match wins.
# Sources: the service docs (reasoning models want max_completion_tokens, some reject
# temperature/system); gh-models notes (o1-mini / o1-preview: no streaming, no tools, no system
# message); tool support as the Azure model gallery published it (llm-github-models
# tools/models.fragment.md); json_schema for the OpenAI models that document structured outputs.
_TRAIT_RULES: tuple[tuple[re.Pattern[str], _Traits], ...] = tuple(
    (re.compile(pattern), traits)
    for pattern, traits in (
        (
            r"o1-(mini|preview)",
            _Traits(
                reasoning=True,
                token_param=MAX_COMPLETION_TOKENS,
                temperature=False,
                system=False,
                streaming=False,
            ),
        ),
        (r"o[134](-mini)?(-\d{4}-\d\d-\d\d)?", _OPENAI_REASONING),
        # gpt-5-chat is the non-reasoning chat model of the family: temperature works.
        (r"gpt-5-chat.*", _Traits(token_param=MAX_COMPLETION_TOKENS, structured=True, tools=True)),
        (r"gpt-5(-mini|-nano)?(-\d{4}-\d\d-\d\d)?", _OPENAI_REASONING),
        (
            r"gpt-4o(-mini)?(-.*)?|gpt-4\.1(-mini|-nano)?(-.*)?",
            _Traits(structured=True, tools=True),
        ),
        # R1 family: reasoning in <think> content; the gallery lists no tool calling.
        (r"(deepseek-r1|mai-ds-r1)(-.*)?", _Traits(reasoning=True)),
        (r"phi-4(-mini)?-reasoning", _Traits(reasoning=True)),
        (r"grok-3-mini", _Traits(reasoning=True, tools=True)),
        (r"grok-3", _Traits(tools=True)),
        (r"codestral-.*|ministral-.*|mistral-.*|cohere-command-.*", _Traits(tools=True)),
        (r".*embed.*", _EMBEDDING),
    )
)
_DEFAULT_TRAITS = _Traits()

_CONTEXT_HINT = re.compile(r"(?<![\w.])\(?(\d{1,4})k\)?(?![\w])", re.IGNORECASE)
_AZUREML_ID = re.compile(r"azureml://registries/[^/]+/models/([^/]+)(?:/versions/[^/]+)?/?")


def _bare(model_id: str) -> str:
    return model_id.rsplit("/", 1)[-1]


def _traits_for(model_id: str, embedding: bool) -> _Traits:
    if embedding:
        return _EMBEDDING
    bare = _bare(model_id).casefold()
    for pattern, traits in _TRAIT_RULES:
        if pattern.fullmatch(bare):
            return traits
    return _DEFAULT_TRAITS


def _default_limits(model_id: str, name: str, embedding: bool) -> tuple[int, int]:
    if embedding:
        return _EMBEDDING_MAX_INPUT_TOKENS, 0
    for text in (_bare(model_id).replace("-", " "), name):
        hint = _CONTEXT_HINT.search(text)
        if hint:
            return int(hint.group(1)) * 1024, DEFAULT_MAX_OUTPUT_TOKENS
    return DEFAULT_MAX_INPUT_TOKENS, DEFAULT_MAX_OUTPUT_TOKENS


def _strs(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """A tuple of stripped, non-empty strings; ``default`` when ``value`` is not a list."""
    if not isinstance(value, list | tuple):
        return default
    return tuple(s for s in (str(v).strip() for v in value if v is not None) if s)


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _bool(entry: Mapping[str, Any], key: str, default: bool) -> bool:
    value = entry.get(key)
    return value if isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model of the catalog. ``tier`` is the ``rate_limit_tier`` (``None`` when unknown)."""

    id: str
    name: str
    publisher: str
    registry: str
    version: str
    tier: str | None
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    capabilities: tuple[str, ...]
    tags: tuple[str, ...]
    max_input_tokens: int
    max_output_tokens: int
    reasoning: bool
    token_param: str
    supports_temperature: bool
    supports_system: bool
    structured_output: bool
    deployment: str | None = None
    pricing: ModelPricing | None = None
    html_url: str = ""

    @property
    def bare_name(self) -> str:
        """The id without its publisher (``openai/gpt-4o`` -> ``gpt-4o``)."""
        return _bare(self.id)

    @property
    def context_window(self) -> int:
        """The model's input window in tokens (= ``max_input_tokens``)."""
        return self.max_input_tokens

    @property
    def supports_streaming(self) -> bool:
        """Whether the model streams (``"streaming"`` capability)."""
        return STREAMING in self.capabilities

    @property
    def supports_tools(self) -> bool:
        """Whether the model calls functions (``"tool-calling"`` capability)."""
        return TOOL_CALLING in self.capabilities

    @property
    def supports_images(self) -> bool:
        """Whether images are accepted as input."""
        return "image" in self.input_modalities

    @property
    def is_embedding(self) -> bool:
        """Whether this is an embeddings model (not for chat completions)."""
        return "embeddings" in self.output_modalities or self.tier == "embeddings"

    @classmethod
    def from_api(cls, entry: Mapping[str, Any], fallback: ModelInfo | None = None) -> ModelInfo:
        """Parse a catalog entry (early or later format, with or without ``x_`` keys).

        Args:
            entry: one element of ``GET /catalog/models`` or of our static catalog.
            fallback: a known description of the same model (e.g. from the static catalog) whose
                limits, capabilities, version, registry, deployment and pricing fill what the
                entry lacks; without it, the documented defaults apply.

        Raises:
            ValueError: the entry is not a mapping with a non-empty string ``id``.
        """
        if not isinstance(entry, Mapping):
            raise ValueError(f"catalog entry must be an object, got {type(entry).__name__}")
        model_id = _str(entry.get("id"))
        if not model_id:
            raise ValueError(f"catalog entry without an id: {dict(entry)!r}")
        name = _str(entry.get("name")) or _bare(model_id)
        publisher = _str(entry.get("publisher")) or (
            model_id.split("/", 1)[0] if "/" in model_id else ""
        )
        tier = _str(entry.get("rate_limit_tier")) or None
        output_modalities = _strs(entry.get("supported_output_modalities"), ("text",))
        embedding = "embeddings" in output_modalities or tier == "embeddings"
        traits = _traits_for(model_id, embedding)

        capabilities = _strs(entry.get("capabilities"), ())
        if "capabilities" not in entry or not isinstance(entry["capabilities"], list):
            if fallback is not None:
                capabilities = fallback.capabilities
            else:
                capabilities = (STREAMING,) * traits.streaming + (TOOL_CALLING,) * traits.tools

        limits = entry.get("limits")
        limits = limits if isinstance(limits, Mapping) else {}
        if fallback is not None:
            default_in, default_out = fallback.max_input_tokens, fallback.max_output_tokens
        else:
            default_in, default_out = _default_limits(model_id, name, embedding)
        max_in = _int(limits.get("max_input_tokens"))
        max_out = _int(limits.get("max_output_tokens"))

        pricing_data = entry.get("x_pricing")
        pricing = (
            ModelPricing.from_dict(pricing_data)
            if isinstance(pricing_data, Mapping)
            else (fallback.pricing if fallback is not None else None)
        )
        token_param = entry.get("x_token_param")
        if token_param not in (MAX_TOKENS, MAX_COMPLETION_TOKENS):
            token_param = traits.token_param
        deployment = entry.get("x_deployment")
        if not isinstance(deployment, str) or not deployment:
            deployment = fallback.deployment if fallback is not None else None

        def known(key: str, fallback_value: str) -> str:
            return _str(entry.get(key)) or fallback_value

        return cls(
            id=model_id,
            name=name,
            publisher=publisher,
            registry=known("registry", fallback.registry if fallback else ""),
            version=known("version", fallback.version if fallback else ""),
            tier=tier,
            input_modalities=_strs(entry.get("supported_input_modalities"), ("text",)),
            output_modalities=output_modalities,
            capabilities=capabilities,
            tags=_strs(entry.get("tags"), ()),
            max_input_tokens=default_in if max_in is None else max_in,
            max_output_tokens=default_out if max_out is None else max_out,
            reasoning=_bool(entry, "x_reasoning", traits.reasoning),
            token_param=str(token_param),
            supports_temperature=_bool(entry, "x_supports_temperature", traits.temperature),
            supports_system=_bool(entry, "x_supports_system", traits.system),
            structured_output=_bool(entry, "x_structured_output", traits.structured),
            deployment=deployment,
            pricing=pricing,
            html_url=known("html_url", fallback.html_url if fallback else ""),
        )

    def to_api(self, include_private: bool = False) -> dict[str, Any]:
        """The later catalog format (field order as served); ``summary`` is always ``""``.

        Args:
            include_private: add our ``x_`` keys (never served by the real API).
        """
        entry: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "publisher": self.publisher,
            "summary": "",
            "rate_limit_tier": self.tier or "",
            "supported_input_modalities": list(self.input_modalities),
            "supported_output_modalities": list(self.output_modalities),
            "tags": list(self.tags),
            "registry": self.registry,
            "version": self.version,
            "capabilities": list(self.capabilities),
            "limits": {
                "max_input_tokens": self.max_input_tokens,
                "max_output_tokens": self.max_output_tokens,
            },
            "html_url": self.html_url,
        }
        if include_private:
            entry.update(
                x_deployment=self.deployment,
                x_pricing=None if self.pricing is None else self.pricing.to_dict(),
                x_reasoning=self.reasoning,
                x_structured_output=self.structured_output,
                x_supports_system=self.supports_system,
                x_supports_temperature=self.supports_temperature,
                x_token_param=self.token_param,
            )
        return entry


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
            candidates.setdefault(_bare(full_key), info.id)
        query = key if "/" in key else _bare(key)
        out: list[str] = []
        # A fragment of a long name ("llama-3.3") first: difflib ranks those poorly.
        if len(_bare(key)) >= 3:
            contained = [k for k in self._by_id if _bare(key) in _bare(k)]
            out.extend(self._by_id[k].id for k in sorted(contained, key=len))
        for match in difflib.get_close_matches(query, list(candidates), n=n * 2, cutoff=0.6):
            if candidates[match] not in out:
                out.append(candidates[match])
        if "/" in key:  # also compare the bare part, for a wrong or missing publisher
            for match in difflib.get_close_matches(_bare(key), list(candidates), n=n * 2):
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
    text = resources.files(f"{__package__}.data").joinpath("catalog.json").read_text("utf-8")
    return Catalog.from_api(json.loads(text), source="static model catalog")
