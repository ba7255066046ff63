"""The contract between agent code and model providers.

``ModelProviderPlugin`` is the runtime-checkable Protocol every provider satisfies, and
``ProviderConfig`` is the one configuration type that serves every provider (each reads the
fields it needs; provider-specific settings go in ``extra``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .types import (
    CancelToken,
    Message,
    Part,
    ProviderResponse,
    TokenUsage,
    ToolResult,
    ToolSchema,
    TurnResult,
)

__all__ = ["ModelProviderPlugin", "ProviderConfig", "StatelessModelProvider", "mask_secret"]


def mask_secret(secret: str | None) -> str:
    """Show a credential safely: its type prefix at most (``ghp_…``), never its body."""
    if not secret:
        return "<none>"
    for prefix in ("github_pat_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "sk-"):
        if secret.startswith(prefix):
            return prefix + "…"
    return "…"


@dataclass
class ProviderConfig:
    """Configuration handed to ``initialize``; each provider uses the fields it needs.

    Attributes:
        api_key: The credential (for GitHub Models: a GitHub token). Never shown by ``repr``.
        extra: Provider-specific settings (``endpoint``, ``organization``, ``timeout``, default
            request parameters such as ``temperature`` ...).
        project, location, credentials_path, auth_method: used by cloud providers.
    """

    api_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    project: str | None = None
    location: str | None = None
    credentials_path: str | None = None
    auth_method: str | None = None

    def __repr__(self) -> str:
        extra = {k: ("…" if _looks_secret(k) else _scrub_url(v)) for k, v in self.extra.items()}
        return (
            f"ProviderConfig(api_key={mask_secret(self.api_key)!r}, extra={extra!r}, "
            f"project={self.project!r}, location={self.location!r}, "
            f"credentials_path={self.credentials_path!r}, auth_method={self.auth_method!r})"
        )

    __str__ = __repr__


def _scrub_url(value: Any) -> Any:
    """A URL without its user info and query values (either can hold a key); other values as
    they are."""
    if not isinstance(value, str) or "://" not in value:
        return value
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(value)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return "<unparseable URL>"
    query = "&".join(f"{p.split('=', 1)[0]}=…" for p in parts.query.split("&") if p)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _looks_secret(key: str) -> bool:
    k = key.lower()
    return any(w in k for w in ("key", "token", "secret", "password", "credential"))


@runtime_checkable
class ModelProviderPlugin(Protocol):
    """What every model provider offers to agent code.

    The provider never runs tools: it returns function calls and the agent answers them with
    ``send_tool_results``. History is provider-agnostic (``Message`` with roles user/model/tool).
    """

    @property
    def name(self) -> str:
        """The provider's registry name (e.g. ``"github_models"``)."""
        ...

    def initialize(self, config: ProviderConfig | None = None) -> None:
        """Resolve credentials and settings and build the client; fail fast on bad config."""
        ...

    def shutdown(self) -> None:
        """Release connections; calling it twice is harmless."""
        ...

    def connect(self, model: str) -> None:
        """Select the model used by later calls."""
        ...

    @property
    def is_connected(self) -> bool:
        """Whether a model is selected and the client is ready."""
        ...

    @property
    def model_name(self) -> str | None:
        """The selected model id, if any."""
        ...

    def list_models(self, prefix: str | None = None) -> list[str]:
        """Model ids, optionally filtered by prefix."""
        ...

    def create_session(
        self,
        system_instruction: str | None = None,
        tools: list[ToolSchema] | None = None,
        history: list[Message] | None = None,
    ) -> None:
        """Start or reset the conversation."""
        ...

    def get_history(self) -> list[Message]:
        """The conversation so far (a copy)."""
        ...

    def generate(self, prompt: str) -> ProviderResponse:
        """One-shot completion that neither reads nor writes the history."""
        ...

    def send_message(
        self, message: str, response_schema: dict[str, Any] | None = None
    ) -> ProviderResponse:
        """Send a user turn and return the model's reply."""
        ...

    def send_message_with_parts(
        self, parts: list[Part], response_schema: dict[str, Any] | None = None
    ) -> ProviderResponse:
        """Send a user turn made of parts (text and images)."""
        ...

    def send_tool_results(
        self, results: list[ToolResult], response_schema: dict[str, Any] | None = None
    ) -> ProviderResponse:
        """Answer the model's function calls (all of them, in order)."""
        ...

    def send_message_streaming(
        self,
        message: str,
        on_chunk: Callable[[str], None],
        cancel_token: CancelToken | None = None,
        response_schema: dict[str, Any] | None = None,
        on_usage_update: Callable[[TokenUsage], None] | None = None,
    ) -> ProviderResponse:
        """Like ``send_message``, calling ``on_chunk(text)`` as text arrives."""
        ...

    def send_tool_results_streaming(
        self,
        results: list[ToolResult],
        on_chunk: Callable[[str], None],
        cancel_token: CancelToken | None = None,
        response_schema: dict[str, Any] | None = None,
        on_usage_update: Callable[[TokenUsage], None] | None = None,
    ) -> ProviderResponse:
        """Like ``send_tool_results``, streaming the reply."""
        ...

    def supports_stop(self) -> bool:
        """Whether a CancelToken can stop a stream mid-way."""
        ...

    def count_tokens(self, content: str) -> int:
        """Estimate the tokens of ``content`` for the current model."""
        ...

    def get_context_limit(self) -> int:
        """The current model's context window in tokens."""
        ...

    def get_token_usage(self) -> TokenUsage:
        """Token usage of the last response."""
        ...

    def serialize_history(self, history: list[Message]) -> str:
        """History as JSON text."""
        ...

    def deserialize_history(self, data: str) -> list[Message]:
        """The inverse of ``serialize_history``."""
        ...

    def supports_structured_output(self) -> bool:
        """Whether the current model accepts a JSON schema response format."""
        ...

    def supports_streaming(self) -> bool:
        """Whether the current model streams."""
        ...


@runtime_checkable
class StatelessModelProvider(Protocol):
    """The stateless protocol of jaato-server 0.15 / 1.x: the caller owns the history.

    ``complete`` returns ``TurnResult.from_provider_response(...)`` on success and
    ``TurnResult.from_exception(exc)`` for errors that retrying cannot fix, and raises transient
    ones (rate limits, 5xx, connection failures) so the caller's retry layer can retry them,
    guided by ``classify_error`` and ``get_retry_after``.
    """

    def complete(
        self,
        messages: list[Message],
        system_instruction: str | None = None,
        tools: list[ToolSchema] | None = None,
        *,
        response_schema: dict[str, Any] | None = None,
        cancel_token: CancelToken | None = None,
        on_chunk: Callable[[str], None] | None = None,
        on_usage_update: Callable[[TokenUsage], None] | None = None,
        on_function_call: Callable[..., None] | None = None,
        on_thinking: Callable[[str], None] | None = None,
        tool_choice: dict[str, Any] | str | None = None,
    ) -> TurnResult:
        """One model turn over ``messages``; nothing is kept between calls."""
        ...

    def verify_auth(self, allow_interactive: bool = False,
                    on_message: Callable[[str], None] | None = None,
                    config: ProviderConfig | None = None) -> bool:
        """Check the credentials (without a billed completion)."""
        ...

    def get_auth_info(self) -> str:
        """Where the credential came from, masked."""
        ...

    def classify_error(self, exc: Exception) -> dict[str, bool] | None:
        """``{"transient", "rate_limit", "infra"}`` for the provider's errors, else None."""
        ...

    def get_retry_after(self, exc: Exception) -> float | None:
        """The server's requested wait for a transient error, in seconds."""
        ...

    def supports_thinking(self) -> bool:
        """Whether the selected model reasons before answering."""
        ...
