"""The chat runner shared by ``chat``, ``run`` and ``eval``: one streamed reply at a time, with
usage and cost, and the interactive loop's commands.

Ctrl-C while a reply streams cancels that reply through a ``CancelToken`` (the partial text is
kept in the history, as the provider records it); a second Ctrl-C during the same reply, or one
at the prompt of a one-shot run, stops the program. At the interactive prompt Ctrl-C only clears
the line: ``/quit`` or Ctrl-D leaves.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from .._host import CancelToken, FinishReason, ProviderResponse, response_text
from .output import Console, format_usd

__all__ = ["HELP", "ChatRunner", "cancel_on_sigint"]

HELP = """commands:
  /reset        start a new conversation (same system instruction)
  /usage        tokens and estimated cost so far
  /model NAME   switch model (the conversation is kept)
  /help         this list
  /quit         leave (also /exit or Ctrl-D)
Ctrl-C cancels the reply being streamed."""

if TYPE_CHECKING:  # the provider (and azure) load only when a command needs them
    from ..provider import GitHubModelsProvider


def _count(n: float, noun: str) -> str:
    return f"{n:g} {noun}" + ("" if n == 1 else "s")


@contextlib.contextmanager
def cancel_on_sigint(token: CancelToken) -> Iterator[None]:
    """While active, the first SIGINT cancels ``token``; a second raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hits = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal hits
        hits += 1
        if hits > 1:
            raise KeyboardInterrupt
        token.cancel()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class ChatRunner:
    """One CLI chat: sends turns, streams replies, reports usage.

    Args:
        provider: An initialized, connected provider.
        console: Where to write.
        as_json: Print one JSON object per reply instead of streamed text.
        system: The system instruction (kept across ``/reset``).
    """

    def __init__(self, provider: GitHubModelsProvider, console: Console, *,
                 as_json: bool = False, system: str | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.provider = provider
        self.console = console
        self.as_json = as_json
        self.system = system
        # per-call options: a flag the user gave explicitly is an error where the model
        # refuses it (not silently dropped, as a provider default would be)
        self.options = dict(options or {})
        provider.create_session(system_instruction=system)

    def reply(self, prompt: str, *, pretty: bool = False) -> ProviderResponse:
        """Send ``prompt``, stream the answer, then print usage (or the JSON record).

        Raises:
            GitHubModelsError: What the provider raised.
        """
        token = CancelToken()
        # stream(), not write(): a token echoed across several chunks is masked as well
        on_chunk = (lambda _text: None) if self.as_json else self.console.stream
        try:
            with cancel_on_sigint(token):
                response = self.provider.send_message_streaming(prompt, on_chunk, token,
                                                                **self.options)
        finally:
            self.console.end_stream()
        cancelled = response.finish_reason is FinishReason.CANCELLED
        if self.as_json:
            record = {"model": self.provider.model_name, "text": response_text(response) or "",
                      "finish_reason": response.finish_reason.value, **self.usage_record()}
            self.console.print(json.dumps(record, indent=2 if pretty else None))
            return response
        self.console.print()
        if cancelled:
            self.console.note(self.console.style("[reply cancelled]", "yellow"))
        elif response.finish_reason is FinishReason.MAX_TOKENS:
            self.console.note(self.console.style("[reply cut at the token limit]", "yellow"))
        self.console.note(self.console.style(self.usage_line(), "dim"))
        return response

    def usage_line(self) -> str:
        """``[8 in + 5 out = 13 tokens · session: 13 tokens, 1 request · est. $0.00007 ...]``;
        cached input (not in "in"), reasoning (part of "out") and the reply's cost where
        known: ``[8 in + 1024 cached + 70 out (64 reasoning) = 1102 tokens, $0.0004 · ...]``."""
        last = self.provider.get_token_usage()
        session = self.provider.get_session_usage()
        cached = getattr(last, "cache_read_tokens", None)
        reasoning = getattr(last, "reasoning_tokens", None)
        cost = getattr(last, "cost_usd", None)
        return (f"[{last.prompt_tokens} in" + (f" + {cached} cached" if cached else "")
                + f" + {last.output_tokens} out" + (f" ({reasoning} reasoning)" if reasoning
                                                   else "")
                + f" = {last.total_tokens} tokens"
                + (f", {format_usd(cost)}" if cost is not None else "")
                + f" · session: {session.total_tokens} tokens, "
                f"{_count(session.requests, 'request')} · {self._cost_text(session)}]")

    def _cost_text(self, totals: Any) -> str:
        if totals.requests == 0:
            return f"est. {format_usd(0)}"
        if totals.priced_requests == 0:
            return f"est. cost n/a (no published price for {self.provider.model_name})"
        text = f"est. {format_usd(totals.cost_usd)} ({totals.token_units:g} token units)"
        if totals.priced_requests < totals.requests:
            text += f", {totals.requests - totals.priced_requests} request(s) unpriced"
        return text

    def usage_record(self) -> dict[str, Any]:
        """Last reply, session and provider usage as JSON-ready dicts."""
        last = self.provider.get_token_usage()
        return {"usage": {"prompt_tokens": last.prompt_tokens,
                          "output_tokens": last.output_tokens,
                          "total_tokens": last.total_tokens,
                          **{k: getattr(last, k) for k in (
                              "cache_read_tokens", "reasoning_tokens", "cost_usd")
                             if getattr(last, k, None) is not None}},
                "session": self.provider.get_session_usage().to_dict(),
                "provider": self.provider.get_usage_summary()}

    def print_usage(self) -> None:
        """The ``/usage`` report."""
        if self.as_json:
            self.console.print(json.dumps(self.usage_record()))
            return
        session = self.provider.get_session_usage()
        summary = self.provider.get_usage_summary()
        lines = [
            f"session:  {_count(session.requests, 'request')}, {session.prompt_tokens} prompt + "
            f"{session.output_tokens} output = {session.total_tokens} tokens, "
            f"{self._cost_text(session)}",
            f"provider: {_count(summary['requests'], 'request')}, "
            f"{summary['total_tokens']} tokens, "
            f"{summary['token_units']:g} token units, est. {format_usd(summary['cost_usd'])}",
            f"billed to: {summary['attributed_to']}",
        ]
        for model, row in sorted(summary["by_model"].items()):
            lines.append(f"  {model}: {_count(row['requests'], 'request')}, "
                         f"{row['prompt_tokens']:g} in, "
                         f"{row['output_tokens']:g} out, {row['token_units']:g} token units")
        lines.append("(cost = token units x $0.00001, from the published multipliers; "
                     "an estimate, not a bill)")
        self.console.print("\n".join(lines))

    def command(self, line: str) -> bool:
        """Run a ``/command``; returns False when the session should end."""
        name, _, rest = line.strip().partition(" ")
        name = name.lower()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/reset":
            self.provider.create_session(system_instruction=self.system)
            self.console.note("conversation reset")
        elif name == "/usage":
            self.print_usage()
        elif name == "/model":
            self._switch_model(rest.strip())
        elif name in ("/help", "/?"):
            self.console.note(HELP)
        else:
            self.console.note(f"unknown command {name}; /help lists the commands")
        return True

    def _switch_model(self, model: str) -> None:
        from ..errors import GitHubModelsError

        if not model:
            self.console.note(f"model: {self.provider.model_name} (use /model NAME to switch)")
            return
        try:
            self.provider.connect(model)
        except GitHubModelsError as exc:
            self.console.error(str(exc))
            return
        self.console.note(f"model: {self.provider.model_name}")

    def interactive(self, stdin: Any = None) -> int:
        """The read-eval-print loop until ``/quit`` or end of input. Returns the exit code."""
        from ..errors import GitHubModelsError

        stream = stdin or sys.stdin
        if stream is None:  # stdin closed (``<&-``): nothing will ever be typed
            self.console.note("standard input is closed: nothing to read, leaving")
            return 0
        tty = bool(getattr(stream, "isatty", lambda: False)())
        if tty:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401 - line editing and history for input()
        label = self.console.style("you> ", "bold", "cyan")
        while True:
            try:
                line = input(label) if tty else stream.readline()
            except EOFError:
                line = ""
            except KeyboardInterrupt:
                self.console.note("\n(Ctrl-C cancels a reply; /quit or Ctrl-D leaves)")
                continue
            if not line:  # end of input
                if tty:
                    self.console.print()
                return 0
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    return 0
                continue
            try:
                self.reply(line)
            except GitHubModelsError as exc:  # the session survives a failed turn
                self.console.print()
                self.console.error(str(exc))
