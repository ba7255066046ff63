"""``GitHubModelsProvider``: the framework's provider interface for GitHub Models and every
endpoint that speaks its protocol (GHES, proxies, Microsoft Foundry / Azure AI model inference,
OpenAI-compatible gateways).

This module is the public surface and orchestrates only: state and model selection live in
``core``, the messaging calls and the turn in ``turn`` (``Messaging``, inherited here), HTTP in
``calls``/``transport``, wire mapping in ``converters``, configuration in ``env`` and model facts
in ``catalog``.

Two interfaces share one machinery (``turn.run_turn``): jaato-server's stateless
``complete(messages, ...) -> TurnResult`` (history in, nothing kept between calls) and the seed
framework's stateful ``create_session``/``send_message``/``send_tool_results``. Every stateful
method has an async twin (``asend_message``, ``agenerate`` ...); ``new_session()`` opens further
conversations on the same client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._host import (
    ProviderConfig,
    Role,
    TurnResult,
    response_calls,
)
from .turn.core import ProviderCore
from .turn.turn import Messaging

if TYPE_CHECKING:  # the request path loads at the first call (cold start: issue 10 item 6)
    from ._host import (
        CancelToken,
        FunctionCall,
        Message,
        ToolSchema,
    )
    from .calls.embeddings import EmbeddingResult
    from .turn.conversation import Conversation
    from .turn.turn import OnChunk, OnUsage
    from .wire.session import ChatSession

__all__ = ["GitHubModelsProvider"]


class GitHubModelsProvider(ProviderCore, Messaging):
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

    agent_context: dict[str, Any] | None = None
    thinking_config: Any = None
    thinking_effort: str | None = None

    def new_session(self, system_instruction: str | None = None,
                    tools: list[ToolSchema] | None = None,
                    history: list[Message] | None = None) -> Conversation:
        """Open another conversation that shares this provider's client, pacing and retries.

        Raises:
            InvalidRequestError: Two tools share a name.
        """
        from .turn.conversation import Conversation

        return Conversation(self, self._chat_session(system_instruction, tools, history))

    # ---- stateless (jaato-server 0.15 / 1.x) ----

    def complete(self, messages: list[Message], system_instruction: str | None = None,
                 tools: list[ToolSchema] | None = None, *,
                 response_schema: dict[str, Any] | None = None,
                 cancel_token: CancelToken | None = None, on_chunk: OnChunk | None = None,
                 on_usage_update: OnUsage | None = None,
                 on_function_call: Callable[[FunctionCall], None] | None = None,
                 on_thinking: Callable[[str], None] | None = None,
                 tool_choice: dict[str, Any] | str | None = None) -> TurnResult:
        """One model turn over ``messages`` (the caller owns the history; nothing is kept).

        Streams when ``on_chunk`` is given; a ``cancel_token`` alone also streams internally,
        so cancellation works either way. ``on_function_call`` is called for each function
        call once the reply is complete, before this returns. ``on_thinking`` gets the model's
        reasoning text (``reasoning_content``, ``<think>`` blocks) as it streams, or once before
        this returns when not streaming; it is never part of the text.

        Returns:
            ``TurnResult.from_provider_response(...)``, or ``TurnResult.from_exception(exc)`` for
            an error that will not go away by retrying (bad input, credentials, policy, unknown
            model, per-day limit, retired endpoint, context too large).

        Raises:
            RateLimitError, ServiceUnavailableError, ProviderConnectionError: transient failures
                (after this provider's own retries), so the framework's retry layer can retry.
        """
        from .errors import GitHubModelsError, InvalidRequestError
        from .failures.framework_retry import is_transient
        from .turn.turn import run_turn
        from .wire.session import ChatSession

        options: dict[str, Any] = {} if tool_choice is None else {"tool_choice": tool_choice}
        stream = None
        if on_chunk is not None or cancel_token is not None:
            stream = (on_chunk or _discard, cancel_token, on_usage_update, on_thinking)
        try:
            if not messages:
                raise InvalidRequestError(
                    what="Checking the messages", why="the list is empty",
                    fix="pass the conversation so far, ending with the user's turn",
                    param="messages")
            for name, callback in (("on_thinking", on_thinking),
                                   ("on_function_call", on_function_call)):
                # called after the reply came (billed) when nothing streams: refused up front
                if callback is not None and not callable(callback):
                    raise InvalidRequestError(
                        what=f"Checking {name}", why=f"it is {type(callback).__name__}, not a "
                        "callable", fix="pass a function, or None", param=name)
            # what follows the last model turn is this turn's input; what precedes it is history
            # that trim_history may shorten, as in a stateful session
            split = next((i + 1 for i in range(len(messages) - 1, -1, -1)
                          if Role(messages[i].role) is Role.MODEL), 0)
            new = list(messages[split:]) or list(messages)
            history = list(messages[:split]) if messages[split:] else []
            if any(p.inline_data is not None for m in new for p in m.parts):
                self.check_image_input()
            session = ChatSession(system_instruction, tools, history, stateless=True)
            response = run_turn(self, session, new, response_schema, options, stream,
                                record=False)
        except GitHubModelsError as exc:
            if is_transient(exc):
                raise
            return TurnResult.from_exception(exc)
        thought = getattr(response, "thinking", None)
        if on_thinking is not None and stream is None and thought:
            on_thinking(thought)
        if on_function_call is not None:
            for call in response_calls(response):
                on_function_call(call)
        return TurnResult.from_provider_response(response)

    # ---- embeddings ----

    def embed(self, texts: str | list[str], *, model: str | None = None,
              dimensions: int | None = None, encoding_format: str = "float"
              ) -> EmbeddingResult:
        """Turn texts into vectors with an embeddings model (``POST {endpoint}/embeddings``).

        ``texts`` is one string or a list of strings; the list is split into as many requests
        as the endpoint's limits need (inputs and tokens per request) and the vectors come back
        in input order with the usage summed. ``model`` defaults to the selected model;
        ``dimensions`` shortens the vectors (text-embedding-3-* only); ``encoding_format``
        ``"base64"`` makes the answer ~4x smaller (the vectors are floats either way). Needs
        ``initialize`` only: ``connect`` is not required. See docs/embeddings.md.

        Raises:
            ConfigurationError: Not initialized; no model given and none selected.
            ModelNotFoundError: An id the catalog does not know, on a GitHub-shaped endpoint.
            InvalidRequestError: A chat model; an empty list, an empty string or a non-string;
                ``dimensions`` not a positive integer, too large, or for a model that has a
                fixed length; an unknown ``encoding_format``.
            ContextLimitError: An input over the model's window (estimated).
            GitHubModelsError: (a subclass) what the service answered, after retries (401,
                403, 404 unknown model or deployment, 413, 429 ...).
        """
        from .calls.embeddings import plan_embed, run_embed

        with self.scrubbed_errors():
            runner = self._require_runner()
            plan = plan_embed(self, runner, texts, model, dimensions, encoding_format)
            return run_embed(runner, plan)

    async def aembed(self, texts: str | list[str], *, model: str | None = None,
                     dimensions: int | None = None, encoding_format: str = "float"
                     ) -> EmbeddingResult:
        """Async :meth:`embed` (the running loop's client; same checks and errors)."""
        from .calls.embeddings import plan_embed, run_aembed

        with self.scrubbed_errors():
            plan = plan_embed(self, self._require_runner(), texts, model, dimensions,
                              encoding_format)
            return await run_aembed(await self.async_runner(connected=False), plan)

    def verify_auth(self, allow_interactive: bool = False,
                    on_message: Callable[[str], None] | None = None,
                    config: ProviderConfig | None = None) -> bool:
        """Check the credentials against the endpoint with one unbilled request (a chat
        completion with no messages, refused with 400 only once the credentials passed).

        Uses ``config`` when given (else the initialized settings); nothing interactive exists
        for tokens, so ``allow_interactive`` changes nothing. ``on_message`` gets one line.

        Returns:
            True when the endpoint accepted the credentials.

        Raises:
            TokenNotFoundError: No token anywhere (lists each place checked).
            ConfigurationError: A malformed setting, or neither ``config`` nor ``initialize``.
            GitHubModelsError: (a subclass) the endpoint refused the credentials or the
                organization, is retired (410), or could not be reached.
        """
        del allow_interactive
        if config is None and self._settings is None:  # jaato asks a fresh instance
            config = ProviderConfig()
        if config is not None:
            probe = type(self)(environ=self._environ)
            probe.initialize(config)
            try:
                return probe.verify_auth(on_message=on_message)
            finally:
                probe.shutdown()
        runner = self._require_runner()
        settings = self.settings
        from .calls.endpoint_checks import probe_credentials

        probe_credentials(runner.transport, self._wire_id or "openai/gpt-4o-mini",
                          self.error_context())
        if on_message is not None:
            from .common.url_secrets import strip_url_secrets  # ;params can hold a key, as a query

            on_message(f"{strip_url_secrets(settings.endpoint)}: credentials accepted "
                       f"({self.get_auth_info()})")
        return True

    def get_auth_info(self) -> str:
        """Where the credential came from, token masked (``ghp_…``), or the Entra credential."""
        if self._settings is None:
            return ""
        from .common.masking import mask_secret

        s = self._settings
        if s.token_cache is not None:
            return f"Entra ID token from {s.token_cache.describe()}"
        return f"{mask_secret(s.token)} from {s.token_source}"

    def classify_error(self, exc: Exception) -> dict[str, bool] | None:
        """jaato's retry classification: a per-minute/concurrency 429 is a transient rate
        limit, 5xx and early connection failures transient infrastructure; per-day limits,
        credentials, policy, unknown models, bad requests and a retired endpoint are not
        transient. None for exceptions that are not this provider's."""
        from .failures.framework_retry import classify_for_framework

        verdict = classify_for_framework(exc)
        if verdict is not None:
            return verdict
        return None  # not this provider's: jaato's shared classifier decides

    def get_retry_after(self, exc: Exception) -> float | None:
        """The server's requested wait (seconds) for a transient error, else None."""
        from .failures.framework_retry import framework_retry_after

        return framework_retry_after(exc)

    def set_agent_context(self, agent_type: str = "main", agent_name: str | None = None,
                          agent_id: str = "main") -> None:
        """Remember which agent uses this provider (``agent_context``), for the caller's own
        tracing; the provider itself does not act on it."""
        self.agent_context = {"agent_type": agent_type, "agent_name": agent_name,
                              "agent_id": agent_id}

    def set_thinking_config(self, config: Any) -> None:
        """jaato's ``ThinkingConfig`` as ``reasoning_effort`` for models that take it
        (``thinking.effort_for``: enabled with a budget up to 4096 -> low, up to 16384 ->
        medium, more -> high; disabled -> none sent, the model's default). A
        ``reasoning_effort`` set as an option wins. Raises nothing."""
        from .wire.thinking import effort_for

        self.thinking_config = config
        self.thinking_effort = effort_for(config)

    # ---- stateful (the seed framework's interface): ``turn.Messaging`` on the default session

    def _turn_on(self) -> tuple[ProviderCore, ChatSession]:
        return self, self._session


def _discard(_text: str) -> None:
    """``on_chunk`` for a non-streaming ``complete`` that streams only to be cancellable."""
