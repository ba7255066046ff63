"""Read-only members of the provider: token accounting, usage, rate-limit headroom,
capabilities and history serialization.

``Accounting`` is mixed into ``ProviderCore`` and reads nothing of it but one snapshot,
:class:`AccountingState` (``_accounting()``), which the core builds from what it owns. The caps
are plain functions, shared with the turn's context check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._host import Message, TokenUsage
    from ..calls.calls import CallRunner
    from ..models.catalog import ModelInfo
    from ..wire.session import ChatSession
    from ..wire.usage import UsageTotals, UsageTracker

__all__ = ["DEFAULT_CONTEXT_LIMIT", "Accounting", "AccountingState", "input_cap", "output_cap"]

DEFAULT_CONTEXT_LIMIT = 0  # a model the catalog does not know: its window is unknown


def input_cap(info: ModelInfo | None, tier_row: Any) -> tuple[int | None, str]:
    """The tightest input cap of the model and where it comes from (``"tier"``/``"model"``);
    ``tier_row`` is the tier's limits row where tier limits are enforced, else None."""
    window = info.max_input_tokens if info and info.max_input_tokens > 0 else None
    cap = tier_row.max_input_tokens if tier_row is not None and info is not None else None
    if cap and (window is None or cap < window):
        return cap, "tier"
    return window, "model"


def output_cap(info: ModelInfo | None, tier_row: Any) -> int | None:
    """The tier's reply cap for the model, where tier limits are enforced (else None)."""
    if info is None or tier_row is None:
        return None
    cap: int | None = tier_row.max_output_tokens
    return cap


class AccountingState:
    """What the getters read: the model's facts, the runner's counters, the usage so far
    (a plain class: a dataclass costs milliseconds at import, and this loads with the provider).
    ``tier_row`` is the tier's limits where they are enforced (when connected), else None."""

    __slots__ = ("chosen_cap", "find_model", "info", "last_usage", "runner", "session",
                 "tier_row", "usage")

    def __init__(self, *, info: ModelInfo | None, runner: CallRunner | None, tier_row: Any,
                 last_usage: TokenUsage, session: ChatSession, usage: UsageTracker,
                 find_model: Callable[[str], ModelInfo | None],
                 chosen_cap: int | None = None) -> None:
        self.chosen_cap = chosen_cap
        self.info = info
        self.runner = runner
        self.tier_row = tier_row
        self.last_usage = last_usage
        self.session = session
        self.usage = usage
        self.find_model = find_model


class Accounting:
    """Token counts, usage, limits and capabilities of the selected model and session."""

    def _accounting(self) -> AccountingState:
        """The state the getters read (supplied by ``ProviderCore``)."""
        raise NotImplementedError

    def supports_stop(self) -> bool:
        """Cancellation mid-stream is supported."""
        return True

    def count_tokens(self, content: str) -> int:
        """Estimate the tokens of ``content`` (no tokenizer download; see ``tokens.py``)."""
        from ..wire.tokens import estimate_tokens

        return estimate_tokens(content)

    def get_context_limit(self) -> int:
        """The selected model's window as jaato checks it (``prompt + get_max_output_tokens()
        <= window``): the catalog's ``max_input_tokens``; 0 ("unknown") for a model the catalog
        does not know or whose entry gives no window; where the free tier's smaller per-request
        caps are enforced, the tier's input cap plus the reply cap. See ``budget.py``."""
        from .budget import context_window

        state = self._accounting()
        cap, _source = input_cap(state.info, state.tier_row)
        tier_input = cap if _source == "tier" else None
        return context_window(state.info, tier_input, self.get_max_output_tokens())

    def get_max_output_tokens(self) -> int | None:
        """The output cap every request carries on the wire (``max_tokens`` or
        ``max_completion_tokens``): the provider-level ``max_tokens`` when set, else
        ``min(catalog output limit, 4096 or 25000 for reasoning models, window // 4, tier reply
        cap)``; None when none is sent (unknown model or output limit). A per-call
        ``max_tokens`` overrides it for that call only."""
        from .budget import reply_cap

        state = self._accounting()
        return reply_cap(state.info, state.tier_row, state.chosen_cap)

    def get_token_usage(self) -> TokenUsage:
        """Usage of the last response."""
        return self._accounting().last_usage

    def get_session_usage(self) -> UsageTotals:
        """Running totals of the current session (tokens, requests, estimated cost)."""
        return self._accounting().session.usage.totals()

    def get_rate_limit_status(self) -> dict[str, Any]:
        """What is known about rate-limit headroom: the ``x-ratelimit-*`` headers of the last
        successful response (advisory on GitHub: the enforced limits surface only as 429s) and
        the client-side pacer's counters."""
        runner = self._accounting().runner
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
        usage = self._accounting().usage
        summary = usage.totals().to_dict()
        summary["attributed_to"] = usage.attributed_to or "the token's user"
        return summary

    def serialize_history(self, history: list[Message]) -> str:
        """History as JSON text (lossless, tool calls and results included)."""
        from ..wire.history_json import history_to_json

        return history_to_json(history)

    def deserialize_history(self, data: str) -> list[Message]:
        """The inverse of ``serialize_history``. Raises ValueError on malformed data."""
        from ..wire.history_json import history_from_json

        return history_from_json(data)

    def supports_structured_output(self) -> bool:
        """Whether the selected model accepts a JSON schema (unknown models: assumed yes)."""
        info = self._accounting().info
        return info.structured_output if info else True

    def supports_streaming(self) -> bool:
        """Whether the selected model streams (unknown models: assumed yes)."""
        info = self._accounting().info
        return info.supports_streaming if info else True

    # ---- jaato-server's capability queries (answers for the selected model) ----

    def _model_facts(self, model: str | None) -> ModelInfo | None:
        state = self._accounting()
        return state.info if model is None else state.find_model(model)

    def supports_thinking(self) -> bool:
        """Whether the selected model reasons before answering (catalog: o1/o3/o4, gpt-5,
        DeepSeek-R1, phi-4-reasoning ...). Reasoning text, where the model returns it
        (``reasoning_content``, ``<think>`` blocks), goes to ``thinking`` / ``on_thinking``;
        o-series models keep theirs hidden (only ``reasoning_tokens`` are reported)."""
        info = self._accounting().info
        return bool(info and info.reasoning)

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
        from .. import PROVIDER_CAPABILITIES

        return PROVIDER_CAPABILITIES
