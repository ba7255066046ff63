"""Provider-agnostic types shared by every model provider.

These are the framework's value types: agent code builds them and reads them, and every provider
converts them to and from its own wire format. They carry lossless ``to_dict``/``from_dict`` so
that any of them can be stored as JSON; binary data is written as base64.

Providers must rely only on the fields and constructors defined here (not on helpers), so a
provider package runs unchanged against the framework's own copies of these types.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Attachment",
    "CancelToken",
    "CancelledException",
    "FinishReason",
    "FunctionCall",
    "Message",
    "Part",
    "ProviderResponse",
    "Role",
    "TokenUsage",
    "ToolResult",
    "ToolSchema",
    "TurnOutcome",
    "TurnResult",
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass
class ToolSchema:
    """A tool the model may call: name, description and JSON-Schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolSchema:
        """Build from :meth:`to_dict` output. Raises KeyError/TypeError on a malformed dict."""
        return cls(data["name"], data.get("description", ""), dict(data.get("parameters") or {}))


@dataclass
class FunctionCall:
    """A function call requested by the model; ``id`` correlates the result."""

    id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"id": self.id, "name": self.name, "args": self.args}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FunctionCall:
        """Build from :meth:`to_dict` output."""
        return cls(data["id"], data["name"], dict(data.get("args") or {}))


@dataclass
class Attachment:
    """Binary content (an image, a file) attached to a tool result or a message."""

    mime_type: str
    data: bytes
    display_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (data as base64)."""
        return {"mime_type": self.mime_type, "data": _b64(self.data),
                "display_name": self.display_name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attachment:
        """Build from :meth:`to_dict` output. Raises ValueError on bad base64."""
        return cls(data["mime_type"], _unb64(data["data"]), data.get("display_name"))


@dataclass
class ToolResult:
    """The result of running one function call, sent back to the model."""

    call_id: str
    name: str
    result: Any
    is_error: bool = False
    attachments: list[Attachment] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``result`` must be JSON-serializable)."""
        return {
            "call_id": self.call_id,
            "name": self.name,
            "result": self.result,
            "is_error": self.is_error,
            "attachments": (None if self.attachments is None
                            else [a.to_dict() for a in self.attachments]),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolResult:
        """Build from :meth:`to_dict` output."""
        atts = data.get("attachments")
        return cls(
            data["call_id"],
            data["name"],
            data.get("result"),
            bool(data.get("is_error", False)),
            None if atts is None else [Attachment.from_dict(a) for a in atts],
        )


@dataclass
class Part:
    """One piece of a message: text, a function call, a function response or inline data.

    ``inline_data`` follows the framework's shape: ``{"mime_type": str, "data": bytes}``.
    """

    text: str | None = None
    function_call: FunctionCall | None = None
    function_response: ToolResult | None = None
    inline_data: dict[str, Any] | None = None

    @classmethod
    def from_text(cls, text: str) -> Part:
        """A text part."""
        return cls(text=text)

    @classmethod
    def from_function_call(cls, call: FunctionCall) -> Part:
        """A function-call part."""
        return cls(function_call=call)

    @classmethod
    def from_function_response(cls, result: ToolResult) -> Part:
        """A function-response part."""
        return cls(function_response=result)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict containing only the fields that are set."""
        out: dict[str, Any] = {}
        if self.text is not None:
            out["text"] = self.text
        if self.function_call is not None:
            out["function_call"] = self.function_call.to_dict()
        if self.function_response is not None:
            out["function_response"] = self.function_response.to_dict()
        if self.inline_data is not None:
            out["inline_data"] = {
                "mime_type": self.inline_data.get("mime_type"),
                "data": _b64(bytes(self.inline_data.get("data") or b"")),
            }
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        """Build from :meth:`to_dict` output."""
        fc = data.get("function_call")
        fr = data.get("function_response")
        inline = data.get("inline_data")
        return cls(
            text=data.get("text"),
            function_call=None if fc is None else FunctionCall.from_dict(fc),
            function_response=None if fr is None else ToolResult.from_dict(fr),
            inline_data=None if inline is None else {
                "mime_type": inline["mime_type"], "data": _unb64(inline["data"])},
        )


@dataclass
class Message:
    """A conversation turn: a role and its parts."""

    role: Role
    parts: list[Part] = field(default_factory=list)

    @classmethod
    def from_text(cls, role: Role | str, text: str) -> Message:
        """A message with one text part. Raises ValueError on an unknown role."""
        return cls(role=Role(role), parts=[Part.from_text(text)])

    @property
    def text(self) -> str | None:
        """The concatenated text parts, or None when there are none."""
        texts = [p.text for p in self.parts if p.text]
        return "".join(texts) if texts else None

    @property
    def function_calls(self) -> list[FunctionCall]:
        """The function calls in this message, in order."""
        return [p.function_call for p in self.parts if p.function_call is not None]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"role": self.role.value, "parts": [p.to_dict() for p in self.parts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """Build from :meth:`to_dict` output. Raises ValueError on an unknown role."""
        return cls(Role(data["role"]), [Part.from_dict(p) for p in data.get("parts", [])])


_USAGE_EXTRAS = ("cache_read_tokens", "cache_creation_tokens", "reasoning_tokens", "cost_usd")


@dataclass
class TokenUsage:
    """Token counts of one response (or a running total), in jaato-sdk 0.29's convention:
    ``prompt_tokens`` is the new, uncached input (``cache_read_tokens`` not included);
    ``output_tokens`` everything generated, ``reasoning_tokens`` the part of it spent
    reasoning; ``None`` means the provider reported nothing (distinct from a reported 0);
    ``reported`` is False when nothing was measured (zeros or an estimate)."""

    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    reported: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the optional fields only when set)."""
        out: dict[str, Any] = {"prompt_tokens": self.prompt_tokens,
                               "output_tokens": self.output_tokens,
                               "total_tokens": self.total_tokens}
        out.update({k: getattr(self, k) for k in _USAGE_EXTRAS if getattr(self, k) is not None})
        if not self.reported:
            out["reported"] = False
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenUsage:
        """Build from :meth:`to_dict` output."""
        usage = cls(int(data.get("prompt_tokens", 0)), int(data.get("output_tokens", 0)),
                    int(data.get("total_tokens", 0)), reported=bool(data.get("reported", True)))
        for key in _USAGE_EXTRAS:
            if data.get(key) is not None:
                setattr(usage, key, float(data[key]) if key == "cost_usd" else int(data[key]))
        return usage


@dataclass
class ProviderResponse:
    """What a provider returns for one model turn."""

    text: str | None = None
    function_calls: list[FunctionCall] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: FinishReason = FinishReason.UNKNOWN
    raw: Any = None
    structured_output: Any = None
    thinking: str | None = None  # the model's reasoning text, never part of ``text``

    @property
    def has_thinking(self) -> bool:
        """Whether the reply carries reasoning text."""
        return self.thinking is not None

    @property
    def has_function_calls(self) -> bool:
        """Whether the model asked for any function call."""
        return bool(self.function_calls)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``raw`` is left out: it is transport data)."""
        return {
            "text": self.text,
            "function_calls": [c.to_dict() for c in self.function_calls],
            "usage": self.usage.to_dict(),
            "finish_reason": self.finish_reason.value,
            "structured_output": self.structured_output,
            **({"thinking": self.thinking} if self.thinking is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderResponse:
        """Build from :meth:`to_dict` output."""
        return cls(
            text=data.get("text"),
            function_calls=[FunctionCall.from_dict(c) for c in data.get("function_calls", [])],
            usage=TokenUsage.from_dict(data.get("usage") or {}),
            finish_reason=FinishReason(data.get("finish_reason", "unknown")),
            structured_output=data.get("structured_output"),
            thinking=data.get("thinking"),
        )


class TurnOutcome(str, Enum):
    """How a stateless ``complete()`` turn ended (jaato-server 1.x)."""

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
    """What a stateless ``complete()`` returns: the outcome, the text, the response or error."""

    outcome: TurnOutcome
    text: str = ""
    response: ProviderResponse | None = None
    error: Exception | None = None
    error_message: str = ""
    finish_reason: FinishReason = FinishReason.UNKNOWN

    @property
    def is_success(self) -> bool:
        """Whether the turn ended with a normal reply."""
        return self.outcome is TurnOutcome.RESPONSE

    @property
    def is_error(self) -> bool:
        """Whether the turn ended in an error, a safety stop or the token limit."""
        return self.outcome in (TurnOutcome.ERROR, TurnOutcome.SAFETY, TurnOutcome.MAX_TOKENS)

    @classmethod
    def from_provider_response(cls, response: ProviderResponse) -> TurnResult:
        """Classify a response by its finish reason (an unmapped one is an error)."""
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
    """A thread-safe, one-way cancellation flag shared by a caller and a running request."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Request cancellation (idempotent)."""
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` passes; return whether it was cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        """Raise CancelledException when cancelled."""
        if self._event.is_set():
            raise CancelledException("the operation was cancelled")

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.is_cancelled})"
