"""``GitHubModelsProvider``: the framework's provider interface for GitHub Models and every
endpoint that speaks its protocol (GHES, proxies, Microsoft Foundry / Azure AI model inference,
OpenAI-compatible gateways).

This module is the public surface and orchestrates only: state and request building live in
``core``, messaging in ``conversation``, HTTP in ``calls``/``transport``, wire mapping in
``converters``, configuration in ``env`` and model facts in ``catalog``.

Every messaging method has an async twin (``asend_message``, ``agenerate`` ...) sharing the same
validation, mapping, errors, retries and pacing; ``new_session()`` opens further conversations
on the same client.
"""

from __future__ import annotations

from typing import Any

from ..types import CancelToken, Message, Part, ProviderResponse, ToolResult, ToolSchema
from .conversation import Conversation, OnChunk, OnUsage
from .core import ProviderCore
from .session import ChatSession

__all__ = ["GitHubModelsProvider"]


class GitHubModelsProvider(ProviderCore):
    """The GitHub Models provider (``load_provider("github_models")``).

    Args:
        clock: Time source for pacing and retry waits (tests pass a scaled clock).
        environ: Environment mapping read by ``initialize`` (default ``os.environ``).
        catalog: Model catalog (default: the static catalog shipped with the package).

    Messaging methods raise, before any request: ``ConfigurationError`` (not initialized or
    connected), ``InvalidRequestError`` (empty message, bad option, mismatched tool results),
    ``ContextLimitError`` (prompt too large); after it: the ``GitHubModelsError`` subclass of
    what the service answered (after retries), ``StructuredOutputError`` (reply not JSON for a
    ``response_schema``). A failed call leaves the history exactly as it was.
    """

    _conversation: Conversation | None = None

    def _conv(self) -> Conversation:
        conv = self._conversation
        if conv is None or conv.session is not self._session:
            conv = self._conversation = Conversation(self, self._session)
        return conv

    def new_session(self, system_instruction: str | None = None,
                    tools: list[ToolSchema] | None = None,
                    history: list[Message] | None = None) -> Conversation:
        """Open another conversation that shares this provider's client, pacing and retries.

        Raises:
            InvalidRequestError: Two tools share a name.
        """
        org = self._settings.organization if self._settings else None
        return Conversation(self, ChatSession(system_instruction, tools, history,
                                              attributed_to=org))

    # ---- sync (the framework's interface) ----

    def generate(self, prompt: str, **options: Any) -> ProviderResponse:
        """One-shot completion: no history, no tools, nothing recorded in the session."""
        return self._conv().generate(prompt, **options)

    def send_message(self, message: str, response_schema: dict[str, Any] | None = None,
                     **options: Any) -> ProviderResponse:
        """Send a user turn; return the reply (text and/or function calls).

        ``options`` are per-call generation options (temperature, max_tokens, stop ...);
        ``response_schema`` (a JSON schema) asks for JSON, parsed into ``structured_output``.
        """
        return self._conv().send_message(message, response_schema, **options)

    def send_message_with_parts(self, parts: list[Part],
                                response_schema: dict[str, Any] | None = None,
                                **options: Any) -> ProviderResponse:
        """Send a user turn of text and images (``Part.inline_data``)."""
        return self._conv().send_message_with_parts(parts, response_schema, **options)

    def send_tool_results(self, results: list[ToolResult],
                          response_schema: dict[str, Any] | None = None,
                          **options: Any) -> ProviderResponse:
        """Answer every function call of the last reply (each becomes its own tool message,
        in call order, whatever order ``results`` come in)."""
        return self._conv().send_tool_results(results, response_schema, **options)

    def send_message_streaming(self, message: str, on_chunk: OnChunk,
                               cancel_token: CancelToken | None = None,
                               response_schema: dict[str, Any] | None = None,
                               on_usage_update: OnUsage | None = None,
                               **options: Any) -> ProviderResponse:
        """Like ``send_message``, calling ``on_chunk(text)`` as text arrives and
        ``on_usage_update(usage)`` when usage is known. A cancelled token stops the stream
        promptly; the partial text returns with ``FinishReason.CANCELLED``."""
        return self._conv().send_message_streaming(message, on_chunk, cancel_token,
                                                   response_schema, on_usage_update, **options)

    def send_tool_results_streaming(self, results: list[ToolResult], on_chunk: OnChunk,
                                    cancel_token: CancelToken | None = None,
                                    response_schema: dict[str, Any] | None = None,
                                    on_usage_update: OnUsage | None = None,
                                    **options: Any) -> ProviderResponse:
        """Like ``send_tool_results``, streaming the reply."""
        return self._conv().send_tool_results_streaming(
            results, on_chunk, cancel_token, response_schema, on_usage_update, **options)

    # ---- async twins ----

    async def agenerate(self, prompt: str, **options: Any) -> ProviderResponse:
        """Async ``generate``."""
        return await self._conv().agenerate(prompt, **options)

    async def asend_message(self, message: str, response_schema: dict[str, Any] | None = None,
                            **options: Any) -> ProviderResponse:
        """Async ``send_message``."""
        return await self._conv().asend_message(message, response_schema, **options)

    async def asend_message_with_parts(self, parts: list[Part],
                                       response_schema: dict[str, Any] | None = None,
                                       **options: Any) -> ProviderResponse:
        """Async ``send_message_with_parts``."""
        return await self._conv().asend_message_with_parts(parts, response_schema, **options)

    async def asend_tool_results(self, results: list[ToolResult],
                                 response_schema: dict[str, Any] | None = None,
                                 **options: Any) -> ProviderResponse:
        """Async ``send_tool_results``."""
        return await self._conv().asend_tool_results(results, response_schema, **options)

    async def asend_message_streaming(self, message: str, on_chunk: OnChunk,
                                      cancel_token: CancelToken | None = None,
                                      response_schema: dict[str, Any] | None = None,
                                      on_usage_update: OnUsage | None = None,
                                      **options: Any) -> ProviderResponse:
        """Async ``send_message_streaming``."""
        return await self._conv().asend_message_streaming(
            message, on_chunk, cancel_token, response_schema, on_usage_update, **options)

    async def asend_tool_results_streaming(self, results: list[ToolResult],
                                           on_chunk: OnChunk,
                                           cancel_token: CancelToken | None = None,
                                           response_schema: dict[str, Any] | None = None,
                                           on_usage_update: OnUsage | None = None,
                                           **options: Any) -> ProviderResponse:
        """Async ``send_tool_results_streaming``."""
        return await self._conv().asend_tool_results_streaming(
            results, on_chunk, cancel_token, response_schema, on_usage_update, **options)
