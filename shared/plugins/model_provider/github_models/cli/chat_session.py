"""``chat`` with a memory: each turn is logged, ``-c``/``--cid`` resume a logged conversation,
and ``-a``/``--schema`` turns go through the provider's parts and structured-output calls.

The log never stands in the way of a chat: a log that cannot be opened or written is one
warning on stderr, and the chat goes on (resuming needs the log, so ``-c`` on an unreadable log
is an error that says how to chat without it).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from .._host import FinishReason, Part, ProviderResponse, response_calls, response_text
from .chat_runner import ChatRunner
from .connect import shown_endpoint
from .log import LogStore, LogStoreError, Turn, default_db_path, logging_enabled
from .log import new_conversation_id as _new_id
from .output import Console

if TYPE_CHECKING:
    from ..provider import GitHubModelsProvider

__all__ = ["LoggedChatRunner", "open_log", "resume", "usage_is_estimated"]


def open_log(args: argparse.Namespace, console: Console,
             dotenv_path: str | None) -> LogStore | None:
    """The log store, or None when ``--no-log``/``JAATO_GITHUB_LOG=false`` or it cannot be
    opened (then a warning is printed, unless the run needs it to resume).

    Raises:
        LogStoreError: ``-c``/``--cid`` was given and the log cannot be opened.
    """
    wants_resume = bool(getattr(args, "continue_", False) or getattr(args, "cid", None))
    if getattr(args, "no_log", False) or not logging_enabled(dotenv_path=dotenv_path):
        if wants_resume:
            raise LogStoreError("Resuming a logged conversation",
                                "logging is turned off (--no-log or JAATO_GITHUB_LOG=false)",
                                "drop --no-log / unset JAATO_GITHUB_LOG to use -c or --cid")
        return None
    try:
        return LogStore(default_db_path(dotenv_path=dotenv_path), scrub=console.scrub)
    except LogStoreError as exc:
        if wants_resume:
            raise
        console.note(f"warning: {' '.join(str(exc).split())} (this chat is not logged)")
        return None


def resume(store: LogStore, cid: str | None) -> dict[str, Any]:
    """The logged conversation ``cid`` (None: the latest).

    Raises:
        LogStoreError: There is none, or the log cannot be read.
    """
    row = store.conversation(cid)
    if row is None:
        which = f"conversation {cid}" if cid else "a previous conversation"
        raise LogStoreError(f"Resuming {which}", f"the log {store.path} has no such conversation",
                            "list the logged ones with `jaato-github-models logs`, or start a "
                            "new chat without -c/--cid")
    return row


def _turn_cost(provider: GitHubModelsProvider, usage: Any) -> float | None:
    from .._host import input_tokens
    from ..models.pricing import TOKEN_UNIT_PRICE_USD, token_units

    known = getattr(usage, "cost_usd", None)
    if known is not None:
        return float(known)
    info = provider.model_info
    if info is None or info.pricing is None:
        return None
    all_in, cached = input_tokens(usage)
    return token_units(info.pricing, all_in, usage.output_tokens, cached) * TOKEN_UNIT_PRICE_USD


class LoggedChatRunner(ChatRunner):
    """A ``ChatRunner`` that logs each turn and can start from a logged history.

    Args:
        store: The log (None: nothing is logged).
        conversation_id: Continue this conversation (None: a new id).
        history_json: Its serialized history, to resume with.
        **kw: As for ``ChatRunner``.
    """

    def __init__(self, provider: GitHubModelsProvider, console: Console, *,
                 store: LogStore | None = None, conversation_id: str | None = None,
                 history_json: str | None = None, **kw: Any) -> None:
        super().__init__(provider, console, **kw)
        self.store = store
        self.conversation_id = conversation_id or _new_id()
        if history_json:
            try:
                history = provider.deserialize_history(history_json)
            except (ValueError, TypeError, KeyError, RecursionError) as exc:
                where = store.path if store is not None else "the conversation log"
                raise LogStoreError(
                    f"Resuming conversation {self.conversation_id} from {where}",
                    f"its stored history is not in this version's format "
                    f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})",
                    "start a new conversation (no -c/--cid), or resume another with --cid ID "
                    "(`jaato-github-models logs` lists them)") from exc
            provider.create_session(system_instruction=self.system, history=history)

    # ---- turns ----

    def reply(self, prompt: str, *, pretty: bool = False) -> ProviderResponse:
        """Stream a reply (``ChatRunner.reply``), then log the turn."""
        started = time.monotonic()
        response = super().reply(prompt, pretty=pretty)
        if usage_is_estimated(response):
            self.console.note("(usage estimated: the reply was cancelled before the endpoint "
                              "reported it; the request is billed all the same)")
        self.log(prompt, response, started)
        return response

    def reply_with(self, prompt: str, parts: list[Part], schema: dict[str, Any] | None,
                   ) -> ProviderResponse:
        """One turn with attachments and/or a JSON Schema (not streamed); with a schema the
        parsed object is printed as JSON.

        Raises:
            GitHubModelsError: What the provider raised (nothing is sent for bad input).
        """
        started = time.monotonic()
        all_parts = ([Part(text=prompt)] if prompt else []) + parts
        response = self.provider.send_message_with_parts(all_parts, schema, **self.options)
        if self.as_json:
            record = {"model": self.provider.model_name, "text": response_text(response) or "",
                      "finish_reason": response.finish_reason.value, **self.usage_record()}
            if schema is not None:
                record["object"] = response.structured_output
            self.console.print(json.dumps(record, indent=2))
        else:
            if schema is not None:
                self.console.json(response.structured_output)
            else:
                self.console.print(response_text(response) or "")
            self.console.note(self.console.style(self.usage_line(), "dim"))
        self.log(prompt, response, started, attachments=len(parts), schema=schema)
        return response

    def log(self, prompt: str, response: ProviderResponse, started: float, *,
            attachments: int = 0, schema: dict[str, Any] | None = None) -> None:
        """Write the turn to the log; a failure is a warning, never an error."""
        if self.store is None:
            return
        provider = self.provider
        usage = response.usage
        raw = response.raw if isinstance(response.raw, dict) else {}
        options = dict(self.options)
        if attachments:
            options["attachments"] = attachments
        if schema is not None:
            options["schema"] = schema
        try:
            self.store.record(Turn(
                conversation_id=self.conversation_id, model=provider.model_name or "",
                endpoint=shown_endpoint(provider.settings.endpoint), prompt=prompt,
                response=response_text(response) or "", system=self.system, options=options,
                history=provider.serialize_history(provider.get_history()),
                prompt_tokens=usage.prompt_tokens, output_tokens=usage.output_tokens,
                usage_estimated=bool(raw.get("usage_estimated")),
                cost_usd=_turn_cost(provider, usage),
                duration_ms=int((time.monotonic() - started) * 1000),
                finish_reason=response.finish_reason.value,
                tool_calls=[{"id": c.id, "name": c.name, "args": c.args}
                            for c in response_calls(response)]))
        except LogStoreError as exc:
            self.console.note(f"warning: {' '.join(str(exc).split())} (the chat goes on)")

    def command(self, line: str) -> bool:
        """``ChatRunner.command``; ``/reset`` also starts a new logged conversation."""
        keep = super().command(line)
        if line.strip().lower().startswith("/reset"):
            self.conversation_id = _new_id()
        return keep


def usage_is_estimated(response: ProviderResponse) -> bool:
    """The provider marks a cancelled reply's estimated usage in ``raw``."""
    return (response.finish_reason is FinishReason.CANCELLED
            and isinstance(response.raw, dict) and bool(response.raw.get("usage_estimated")))
