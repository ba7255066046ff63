"""The framework types this provider needs, for when its host does not define them.

Used only when the folder finds neither a parent framework (``..types``: this project's checkout,
or a host that keeps its types there) nor jaato's SDK types (``jaato_sdk``: jaato-server 0.15 and
1.x). That is the pip-installed package used on its own (the ``jaato-github-models`` CLI, a
script). The fields and constructors match the framework's, so the provider code is the same
whichever set it runs against. Dict conversion lives in the provider's converters, not here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Attachment", "CancelToken", "CancelledException", "FinishReason", "FunctionCall", "Message",
    "Part", "ProviderConfig", "ProviderResponse", "Role", "TokenUsage", "ToolResult", "ToolSchema",
    "TurnOutcome", "TurnResult",
]


class Role(str, Enum):
    """Who wrote a message."""

    USER = "user"
    MODEL = "model"
    TOOL = "tool"


class FinishReason(str, Enum):
    """Why the model stopped generating."""

    STOP = "stop"
    MAX_TOKENS = "max_tokens"
    TOOL_USE = "tool_use"
    SAFETY = "safety"
    ERROR = "error"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass
class ToolSchema:
    """A function the model may call."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class FunctionCall:
    """A call the model asked for."""

    id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Attachment:
    """Binary data returned with a tool result (images)."""

    mime_type: str
    data: bytes
    display_name: str | None = None


@dataclass
class ToolResult:
    """The agent's answer to one function call."""

    call_id: str
    name: str
    result: Any
    is_error: bool = False
    attachments: list[Attachment] | None = None


@dataclass
class Part:
    """One piece of a message: text, a function call, a function response or inline data."""

    text: str | None = None
    function_call: FunctionCall | None = None
    function_response: ToolResult | None = None
    inline_data: dict[str, Any] | None = None


@dataclass
class Message:
    """One turn of the conversation."""

    role: Role
    parts: list[Part] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """The text parts joined, or None."""
        texts = [p.text for p in self.parts if p.text]
        return "".join(texts) if texts else None

    @property
    def function_calls(self) -> list[FunctionCall]:
        """The function calls of this message."""
        return [p.function_call for p in self.parts if p.function_call is not None]


@dataclass
class TokenUsage:
    """Token counts of one response, in jaato-sdk 0.29's convention (``prompt_tokens``
    excludes ``cache_read_tokens``; ``reasoning_tokens`` is part of ``output_tokens``)."""

    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    reported: bool = True


@dataclass
class ProviderResponse:
    """What the provider returns for one model turn."""

    text: str | None = None
    function_calls: list[FunctionCall] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: FinishReason = FinishReason.UNKNOWN
    raw: Any = None
    structured_output: Any = None
    thinking: str | None = None


class TurnOutcome(str, Enum):
    """How a ``complete()`` turn ended."""

    RESPONSE = "response"
    TOOL_USE = "tool_use"
    CANCELLED = "cancelled"
    ERROR = "error"
    SAFETY = "safety"
    MAX_TOKENS = "max_tokens"


_OUTCOMES = {FinishReason.STOP: TurnOutcome.RESPONSE, FinishReason.UNKNOWN: TurnOutcome.RESPONSE,
             FinishReason.TOOL_USE: TurnOutcome.TOOL_USE,
             FinishReason.CANCELLED: TurnOutcome.CANCELLED,
             FinishReason.MAX_TOKENS: TurnOutcome.MAX_TOKENS,
             FinishReason.SAFETY: TurnOutcome.SAFETY}


@dataclass
class TurnResult:
    """The result of a stateless ``complete()`` call."""

    outcome: TurnOutcome
    text: str = ""
    response: ProviderResponse | None = None
    error: Exception | None = None
    error_message: str = ""
    finish_reason: FinishReason = FinishReason.UNKNOWN

    @classmethod
    def from_provider_response(cls, response: ProviderResponse) -> TurnResult:
        """Classify a response by its finish reason."""
        reason = response.finish_reason
        return cls(outcome=_OUTCOMES.get(reason, TurnOutcome.ERROR), text=response.text or "",
                   response=response, finish_reason=reason)

    @classmethod
    def from_exception(cls, exc: Exception, error_message: str = "") -> TurnResult:
        """An error result carrying ``exc``."""
        return cls(outcome=TurnOutcome.ERROR, error=exc, error_message=error_message or str(exc),
                   finish_reason=FinishReason.ERROR)


class CancelledException(Exception):
    """Raised where an operation stops because its CancelToken was cancelled."""


class CancelToken:
    """A thread-safe, one-way cancellation flag."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self, reason: str = "") -> None:
        """Request cancellation (idempotent)."""
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` passes; return whether it was cancelled."""
        return self._event.wait(timeout)


@dataclass
class ProviderConfig:
    """Configuration handed to ``initialize`` (``api_key`` is never shown by ``repr``)."""

    api_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    project: str | None = None
    location: str | None = None
    credentials_path: str | None = None
    auth_method: str | None = None

    def __repr__(self) -> str:
        from .common.masking import redacted, scrub_config_value

        extra = {k: scrub_config_value(k, v) for k, v in self.extra.items()}
        return f"ProviderConfig(api_key={redacted(self.api_key)!r}, extra={extra!r})"

    __str__ = __repr__
