"""Read-only members of the provider: token accounting, usage, rate-limit headroom,
capabilities and history serialization. Mixed into ``ProviderCore``, which owns the state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._host import Message, TokenUsage
from .converters import history_from_json, history_to_json
from .tokens import estimate_tokens

if TYPE_CHECKING:
    from .calls import CallRunner
    from .catalog import ModelInfo
    from .session import ChatSession
    from .usage import UsageTotals, UsageTracker

__all__ = ["DEFAULT_CONTEXT_LIMIT", "Accounting"]

DEFAULT_CONTEXT_LIMIT = 128_000


class Accounting:
    """Token counts, usage, limits and capabilities of the selected model and session."""

    def _input_cap(self) -> tuple[int | None, str]:  # ProviderCore's
        raise NotImplementedError

    def _tier_output_cap(self) -> int | None:  # ProviderCore's
        raise NotImplementedError

    _info: ModelInfo | None
    _last_usage: TokenUsage
    _session: ChatSession
    _runner: CallRunner | None
    _usage: UsageTracker

    def supports_stop(self) -> bool:
        """Cancellation mid-stream is supported."""
        return True

    def count_tokens(self, content: str) -> int:
        """Estimate the tokens of ``content`` (no tokenizer download; see ``tokens.py``)."""
        return estimate_tokens(content)

    def get_context_limit(self) -> int:
        """The most tokens one request may involve, prompt and reply: the selected model's
        context window (``max_input_tokens``; 128000 for ids the catalog does not know), or,
        where the free tier's smaller per-request caps are enforced, those caps (input + output;
        a larger prompt is refused before sending). ``model_info`` keeps the model's own window.
        """
        if self._info is None:
            return DEFAULT_CONTEXT_LIMIT
        if self._runner is None:
            return self._info.max_input_tokens
        cap, source = self._input_cap()
        if source == "tier" and cap:
            return cap + (self.get_max_output_tokens() or 0)
        return self._info.max_input_tokens

    def get_max_output_tokens(self) -> int | None:
        """The most tokens a reply may have: the model's cap from the catalog, or the free
        tier's smaller one where tier limits are enforced (None for unknown models)."""
        if self._info is None:
            return None
        cap = self._tier_output_cap()
        mine = self._info.max_output_tokens
        return min(mine, cap) if cap else mine

    def get_token_usage(self) -> TokenUsage:
        """Usage of the last response."""
        return self._last_usage

    def get_session_usage(self) -> UsageTotals:
        """Running totals of the current session (tokens, requests, estimated cost)."""
        return self._session.usage.totals()

    def get_rate_limit_status(self) -> dict[str, Any]:
        """What is known about rate-limit headroom: the ``x-ratelimit-*`` headers of the last
        successful response (advisory on GitHub: the enforced limits surface only as 429s) and
        the client-side pacer's counters."""
        runner = self._runner
        if runner is None:
            return {"headers": {}, "pacer": None, "requests_sent": 0, "retries": 0}
        sent = runner.stats
        headers = {k: v for k, v in sent.last_headers.items() if k.startswith("x-ratelimit")}
        paced = runner.pacer.stats()
        return {"headers": headers, "requests_sent": sent.requests_sent, "retries": sent.retries,
                "pacer": {"enabled": runner.pacer.enabled, "granted": paced.granted,
                          "waits": paced.waits, "waited_seconds": paced.waited_seconds,
                          "rejected": paced.rejected, "in_flight": paced.in_flight}}

    def get_usage_summary(self) -> dict[str, Any]:
        """Provider-wide totals with the organization the usage was attributed to."""
        summary = self._usage.totals().to_dict()
        summary["attributed_to"] = self._usage.attributed_to or "the token's user"
        return summary

    def serialize_history(self, history: list[Message]) -> str:
        """History as JSON text (lossless, tool calls and results included)."""
        return history_to_json(history)

    def deserialize_history(self, data: str) -> list[Message]:
        """The inverse of ``serialize_history``. Raises ValueError on malformed data."""
        return history_from_json(data)

    def supports_structured_output(self) -> bool:
        """Whether the selected model accepts a JSON schema (unknown models: assumed yes)."""
        return self._info.structured_output if self._info else True

    def supports_streaming(self) -> bool:
        """Whether the selected model streams (unknown models: assumed yes)."""
        return self._info.supports_streaming if self._info else True

    # ---- jaato-server's capability queries (answers for the selected model) ----

    def _model_facts(self, model: str | None) -> ModelInfo | None:
        if model is None:
            return self._info
        catalog = getattr(self, "catalog", None)
        return catalog.get(model) if catalog is not None else None

    def supports_thinking(self) -> bool:
        """Whether the selected model reasons before answering (catalog: o1/o3/o4, gpt-5,
        DeepSeek-R1, phi-4-reasoning ...). Its reasoning text is not returned by this protocol."""
        return bool(self._info and self._info.reasoning)

    def modalities(self, model: str | None = None) -> set[str]:
        """Input modalities of ``model`` (default: the selected one) that this provider sends:
        ``text``, plus ``image`` where the catalog lists image input (unknown models: text)."""
        info = self._model_facts(model)
        kinds = {"text"}
        if info is not None and info.supports_images:
            kinds.add("image")
        return kinds

    def supports_modality(self, kind: str, model: str | None = None) -> bool:
        """``kind in modalities(model)``."""
        return kind.strip().lower() in self.modalities(model)

    def output_modalities(self, model: str | None = None) -> set[str]:
        """What the model emits through this provider: text only (no audio output)."""
        del model
        return {"text"}

    def supports_output_modality(self, kind: str, model: str | None = None) -> bool:
        """``kind in output_modalities(model)``."""
        return kind.strip().lower() in self.output_modalities(model)

    def request_output_modalities(self, kinds: Any) -> None:
        """Documented no-op: this provider emits text only (``output_modalities``)."""
        del kinds

    def capabilities(self) -> Any:
        """jaato's ``ProviderCapabilities`` for this provider (``PROVIDER_CAPABILITIES``)."""
        from . import PROVIDER_CAPABILITIES

        return PROVIDER_CAPABILITIES
