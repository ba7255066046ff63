"""What this folder takes from the framework that hosts it, found once at import.

The same folder runs in four places, and each has its own copies of the framework's types:

1. this project's checkout, or any host that keeps ``types.py`` beside its providers: the
   parent package's ``types`` and ``base`` (``shared.plugins.model_provider``);
2. jaato-server 0.15 / 1.x (the folder copied over jaato's own ``github_models``, or this
   project pip-installed and loaded through its entry point): ``jaato_sdk``'s types, taken only
   when jaato has already imported them, so a script or the CLI in a venv that merely has
   jaato installed gets the same types as anywhere else;
3. the pip-installed package used on its own (the CLI, a script): ``_fallback``.

The provider relies only on the fields and constructors every host defines (``Message``,
``Part``, ``FunctionCall``, ``ToolResult``, ``ToolSchema``, ``TokenUsage``, ``FinishReason``,
``ProviderResponse``, ``CancelToken``, ``TurnResult``). Where hosts differ, this module hides
it: ``ProviderResponse`` holds ``parts`` in jaato and ``text``/``function_calls`` in the seed's
framework (``build_response``, ``response_text``, ``response_calls``), and anything a host may
lack (``CancelToken``, ``TurnResult``, ``FinishReason.CANCELLED``) falls back to ``_fallback``.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

__all__ = [
    "HOST",
    "Attachment",
    "CancelToken",
    "CancelledException",
    "FinishReason",
    "FunctionCall",
    "Message",
    "Part",
    "ProviderConfig",
    "ProviderResponse",
    "Reply",
    "Role",
    "TokenUsage",
    "ToolResult",
    "ToolSchema",
    "TurnResult",
    "build_response",
    "finish_reason",
    "host_base",
    "input_tokens",
    "make_usage",
    "render_for_model",
    "response_calls",
    "response_text",
    "set_cost",
]

_PARENT = __name__.rsplit(".", 2)[0] if __name__.count(".") >= 2 else ""
_JAATO_TYPES = "jaato_sdk.plugins.model_provider.types"
# jaato's own base modules, used only when jaato has already loaded them (we run inside it)
_JAATO_BASES = ("jaato_server.shared.plugins.model_provider.base",
                "shared.plugins.model_provider.base")


def _try(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _fallback() -> ModuleType:
    """The folder's own copies, imported only where the host lacks something."""
    return importlib.import_module(f"{__package__}._fallback")


def _find_types() -> tuple[ModuleType, str]:
    if _PARENT:
        parent_types = _try(f"{_PARENT}.types")
        if parent_types is not None and hasattr(parent_types, "Message"):
            return parent_types, _PARENT
    jaato = sys.modules.get(_JAATO_TYPES)  # jaato is running and loaded us
    if jaato is not None and hasattr(jaato, "Message"):
        return jaato, "jaato_sdk"
    return _fallback(), "standalone"


_types, HOST = _find_types()
"""Where the types come from: the parent package's name, ``"jaato_sdk"`` or ``"standalone"``."""


def host_base() -> ModuleType | None:
    """The host framework's ``base`` module (ProviderCapabilities, ProviderKnobs ...), or None.

    The parent package's ``base`` when the folder sits in a framework; else jaato's, but only
    when jaato has already imported it (importing jaato's server package just to find it would
    cost a standalone user half a second and pull in a framework that is not in use).
    """
    if _PARENT:
        base = _try(f"{_PARENT}.base")
        if base is not None:
            return base
    for name in _JAATO_BASES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "ProviderCapabilities"):
            return module
    return None


def _pick(name: str) -> Any:
    return getattr(_types, name, None) or getattr(_fallback(), name)


if TYPE_CHECKING:  # mypy checks the provider against the project's own framework types
    from ..base import ProviderConfig
    from ..types import (
        Attachment,
        CancelledException,
        CancelToken,
        FinishReason,
        FunctionCall,
        Message,
        Part,
        ProviderResponse,
        Role,
        TokenUsage,
        ToolResult,
        ToolSchema,
    )

    TurnResult = Any
else:
    Attachment = _pick("Attachment")
    CancelToken = _pick("CancelToken")
    CancelledException = _pick("CancelledException")
    FinishReason = _pick("FinishReason")
    if not all(hasattr(FinishReason, m) for m in ("CANCELLED", "TOOL_USE", "MAX_TOKENS")):
        FinishReason = _fallback().FinishReason  # an older host; build_response maps back
    FunctionCall = _pick("FunctionCall")
    Message = _pick("Message")
    Part = _pick("Part")
    ProviderResponse = _pick("ProviderResponse")
    Role = _pick("Role")
    TokenUsage = _pick("TokenUsage")
    ToolResult = _pick("ToolResult")
    ToolSchema = _pick("ToolSchema")
    TurnResult = _pick("TurnResult")
    if not hasattr(TurnResult, "from_exception"):
        TurnResult = _fallback().TurnResult
    ProviderConfig = getattr(host_base(), "ProviderConfig", None) or _fallback().ProviderConfig

render_for_model: Any = getattr(_types, "render_result_for_model", None)
"""jaato's tool-result renderer (``model_suffix``, untrusted boundary), where the host has one."""

_RESPONSE_FIELDS = frozenset(f.name for f in dataclasses.fields(ProviderResponse))
_PARTS_SHAPED = "parts" in _RESPONSE_FIELDS and "text" not in _RESPONSE_FIELDS
_HOST_FINISH: Any = _pick("FinishReason")
_CALL_FIELDS = frozenset(f.name for f in dataclasses.fields(FunctionCall))
_USAGE_FIELDS = frozenset(f.name for f in dataclasses.fields(TokenUsage))


def finish_reason(value: str) -> FinishReason:
    """The host's ``FinishReason`` for ``value`` (``UNKNOWN`` when the host lacks it)."""
    try:
        return _HOST_FINISH(getattr(value, "value", value))  # type: ignore[no-any-return]
    except ValueError:
        return _HOST_FINISH.UNKNOWN  # type: ignore[no-any-return]


def unreadable_call(call_id: str, name: str, raw: str) -> FunctionCall | None:
    """A call whose arguments are not JSON, for hosts that can carry one (jaato's
    ``FunctionCall.unreadable_args``: its session answers the model with an error result and
    the turn goes on); None where the host cannot, and the caller raises instead."""
    if "unreadable_args" not in _CALL_FIELDS:
        return None
    return FunctionCall(id=call_id, name=name, args={},  # type: ignore[call-arg,unused-ignore]
                        unreadable_args=raw)


def make_usage(prompt: int, output: int, total: int, *, reported: bool = True,
               cached: int | None = None, reasoning: int | None = None) -> TokenUsage:
    """A host ``TokenUsage`` in jaato-sdk 0.29's convention, from a wire's inclusive counts:
    ``prompt`` counts ``cached`` tokens too (OpenAI-shaped wires), and where the host has
    ``cache_read_tokens`` they move out of ``prompt_tokens`` into it (a host without the field
    keeps the whole input in ``prompt_tokens``, so nothing vanishes); ``reasoning`` (part of
    ``output``) goes to ``reasoning_tokens``; ``reported=False`` (an estimate, or nothing
    reported) is kept where the host has the field. Raises nothing."""
    extra: dict[str, Any] = {}
    if not reported and "reported" in _USAGE_FIELDS:
        extra["reported"] = False
    if cached is not None and "cache_read_tokens" in _USAGE_FIELDS:
        extra["cache_read_tokens"] = cached
        prompt = max(0, prompt - cached)
    if reasoning is not None and "reasoning_tokens" in _USAGE_FIELDS:
        extra["reasoning_tokens"] = reasoning
    return TokenUsage(prompt_tokens=prompt, output_tokens=output, total_tokens=total, **extra)


def input_tokens(usage: Any) -> tuple[int, int]:
    """``(all input tokens, cached ones)`` of a usage, in either convention (a host without
    ``cache_read_tokens`` counts them inside ``prompt_tokens``). Raises nothing."""
    cached = getattr(usage, "cache_read_tokens", None) or 0
    return int(usage.prompt_tokens) + int(cached), int(cached)


def set_cost(usage: Any, cost: float | None) -> None:
    """Put ``cost`` in ``usage.cost_usd`` where the host has the field. Raises nothing."""
    if cost is not None and "cost_usd" in _USAGE_FIELDS:
        usage.cost_usd = cost


def build_response(text: str | None, calls: list[FunctionCall], usage: TokenUsage,
                   reason: FinishReason, raw: Any = None,
                   structured_output: Any = None, thinking: str | None = None
                   ) -> ProviderResponse:
    """A host ``ProviderResponse``: ``parts`` (text first, then calls) where the host keeps
    parts, ``text``/``function_calls`` where it keeps those; ``thinking`` where the host has
    the field (jaato-sdk 0.29, the stand-in types)."""
    extra: dict[str, Any] = {}
    if thinking is not None and "thinking" in _RESPONSE_FIELDS:
        extra["thinking"] = thinking
    if _PARTS_SHAPED:
        parts = ([Part(text=text)] if text else []) + [Part(function_call=c) for c in calls]
        return ProviderResponse(parts=parts, usage=usage,  # type: ignore[call-arg,unused-ignore]
                                finish_reason=finish_reason(reason), raw=raw,
                                structured_output=structured_output, **extra)
    return ProviderResponse(text=text, function_calls=list(calls), usage=usage,
                            finish_reason=finish_reason(reason), raw=raw,
                            structured_output=structured_output, **extra)


def response_text(response: Any) -> str | None:
    """The text of a host ``ProviderResponse`` (None when it has none)."""
    if hasattr(response, "parts") and not hasattr(response, "text"):
        return "".join(p.text for p in response.parts if getattr(p, "text", None)) or None
    text: str | None = response.text
    return text


def response_calls(response: Any) -> list[FunctionCall]:
    """The function calls of a host ``ProviderResponse``."""
    if hasattr(response, "parts") and not hasattr(response, "function_calls"):
        return [p.function_call for p in response.parts
                if getattr(p, "function_call", None) is not None]
    calls: list[FunctionCall] = response.function_calls
    return calls


@dataclasses.dataclass(slots=True)
class Reply:
    """The provider's own record of one model turn, turned into the host's
    ``ProviderResponse`` at the public edge (the hosts disagree on that type's shape)."""

    text: str | None
    function_calls: list[FunctionCall]
    usage: TokenUsage
    finish_reason: FinishReason
    raw: Any = None
    structured_output: Any = None
    thinking: str | None = None  # reasoning text (reasoning_content or <think>), never in text

    @property
    def cancelled(self) -> bool:
        """Whether the caller's CancelToken stopped the turn."""
        return self.finish_reason is FinishReason.CANCELLED

    def to_host(self) -> ProviderResponse:
        """The host's ``ProviderResponse`` for this reply."""
        return build_response(self.text, self.function_calls, self.usage, self.finish_reason,
                              self.raw, self.structured_output, self.thinking)
