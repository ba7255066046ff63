"""``ModelInfo``: one model, parsed from a catalog entry in either format the service served.

* the early ``GET /catalog/models`` format (id, name, publisher, summary, rate_limit_tier,
  supported_input/output_modalities, tags), and
* the later format, which adds registry, version, capabilities, ``limits`` and html_url.

Our static catalog's private ``x_`` keys (see ``model_traits``) say how the model wants to be
called; without them the traits come from ``model_traits.traits_for``.

Defaults for what an early-format entry lacks:

* ``capabilities``: from ``TRAIT_RULES`` ("streaming" unless the rule says no; "tool-calling"
  where the rule says yes; embeddings have neither).
* ``limits``: a ``fallback`` ``ModelInfo`` when the caller has one (e.g. the static catalog's);
  otherwise ``default_limits``: a context size written in the id or name ("4k", "(128k)") x 1024,
  else 0; the output limit 0. 0 means unknown: never invented (the budget reports an unknown
  window as 0 and sends no reply cap for an unknown output limit). Embeddings: 512 in (the
  smallest embedding window published), 0 out.
* modalities: ``("text",)`` in and out when the key is absent (an empty list is kept as served).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model_traits import (
    MAX_COMPLETION_TOKENS,
    MAX_TOKENS,
    STREAMING,
    TOOL_CALLING,
    bare_name,
    default_limits,
    traits_for,
)
from .pricing import ModelPricing

__all__ = ["ModelInfo"]


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
    reasoning_effort: bool = False  # takes reasoning_effort (low/medium/high)

    @property
    def bare_name(self) -> str:
        """The id without its publisher (``openai/gpt-4o`` -> ``gpt-4o``)."""
        return bare_name(self.id)

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
        name = _str(entry.get("name")) or bare_name(model_id)
        publisher = _str(entry.get("publisher")) or (
            model_id.split("/", 1)[0] if "/" in model_id else ""
        )
        tier = _str(entry.get("rate_limit_tier")) or None
        output_modalities = _strs(entry.get("supported_output_modalities"), ("text",))
        embedding = "embeddings" in output_modalities or tier == "embeddings"
        traits = traits_for(model_id, embedding)

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
            default_in, default_out = default_limits(model_id, name, embedding)
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
            reasoning_effort=_bool(entry, "x_reasoning_effort", traits.effort),
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
                x_reasoning_effort=self.reasoning_effort,
                x_structured_output=self.structured_output,
                x_supports_system=self.supports_system,
                x_supports_temperature=self.supports_temperature,
                x_token_param=self.token_param,
            )
        return entry
