"""``jaato-github-models chat``: one-shot or interactive chat, streamed, with usage and cost.

Ctrl-C while a reply streams cancels that reply through a ``CancelToken`` (the partial text is
kept in the history, as the provider records it); a second Ctrl-C during the same reply, or one
at the prompt of a one-shot run, stops the program. At the interactive prompt Ctrl-C only clears
the line: ``/quit`` or Ctrl-D leaves.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..arguments import add_command, add_connection_options, add_model_option, add_request_options

if TYPE_CHECKING:  # the provider (and azure) load only when the command runs
    from ...provider import GitHubModelsProvider
    from ..output import Console

__all__ = ["register", "run"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``chat`` to the CLI's sub-parsers."""
    chat = add_command(sub, common, "chat", "talk to a model (streamed)", run)
    add_model_option(chat)
    chat.add_argument("--system", "-s", metavar="TEXT", help="system instruction")
    chat.add_argument("--temperature", type=float, metavar="T", help="sampling temperature 0-1")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="cap on reply tokens")
    add_request_options(chat)
    chat.add_argument("--schema", metavar="SCHEMA",
                      help="ask for JSON matching this JSON Schema (a file, or the schema "
                           "inline) and print the parsed object")
    chat.add_argument("--attachment", "-a", action="append", metavar="PATH|URL|-",
                      help="attach an image (a file, an http(s) URL, or - for stdin); "
                           "repeatable")
    chat.add_argument("--continue", "-c", dest="continue_", action="store_true",
                      help="continue the most recent logged conversation")
    chat.add_argument("--cid", metavar="ID", help="continue the logged conversation ID "
                                                  "(see 'logs')")
    chat.add_argument("--no-log", action="store_true",
                      help="do not log this chat (same as JAATO_GITHUB_LOG=false)")
    add_connection_options(chat)
    chat.add_argument("--json", action="store_true",
                      help="print one JSON object (text, usage, cost) per reply instead of "
                           "streamed text")
    chat.add_argument("prompt", nargs="*", metavar="PROMPT", help="the message (one-shot)")


def _embedding_refusal(provider: GitHubModelsProvider) -> None:
    """An embeddings model cannot chat: refuse before sending a request it would reject."""
    from ...errors import InvalidRequestError

    info = provider.model_info
    if info is not None and info.is_embedding:
        raise InvalidRequestError(
            what=f"Chatting with {info.id}",
            why="it is an embeddings model: it turns text into vectors and does not answer "
                "chat requests",
            fix="choose a chat model with --model (or JAATO_GITHUB_MODEL), e.g. "
                "--model openai/gpt-4o; `jaato-github-models models` lists the models and "
                "their output modalities", param="model")


def _read_stdin(console: Console) -> str | None:
    """The prompt piped to ``chat -`` (stripped); None after printing why it cannot be read."""
    if sys.stdin is None:
        return ""  # closed: reported as an empty prompt
    try:
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    except OSError as exc:
        console.error(f"standard input cannot be read ({exc.strerror or exc}): pipe a prompt "
                      "in, or give it as an argument")
        return None
    if isinstance(data, str):
        return data.strip()
    try:
        return data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        console.error(f"the prompt read from standard input is not UTF-8 text (byte {exc.start} "
                      f"is 0x{data[exc.start]:02x}): convert it, e.g. with iconv -t UTF-8")
        return None


def run(args: argparse.Namespace, console: Console) -> int:
    """One-shot when PROMPT is given, interactive otherwise (/help lists the commands). Ctrl-C
    cancels the current reply, not the session.

    Returns the exit code.

    Raises:
        GitHubModelsError: Configuration, connection or (one-shot) request failures, a bad
            option, schema or attachment (before any request), an unreadable log with
            ``-c``/``--cid``.
    """
    from ..._host import FinishReason
    from ..chat_session import LoggedChatRunner, open_log, resume
    from ..connect import connection_extra, open_provider, resolve_model, shown_endpoint
    from ..options import load_attachment, load_schema, request_options

    words = list(args.prompt)
    prompt = " ".join(words).strip()
    attach = list(getattr(args, "attachment", None) or [])
    if words and not prompt and not attach:
        console.error("the prompt is empty: give the message as an argument, '-' to read it "
                      "from standard input, or no PROMPT at all for an interactive chat")
        return 2
    if prompt == "-" and "-" in attach:
        console.error("standard input ('-') can be the prompt or an attachment, not both: "
                      "give the prompt as an argument with -a -")
        return 2
    options = request_options(getattr(args, "option", None), temperature=args.temperature,
                              max_tokens=args.max_tokens)
    schema = load_schema(args.schema) if getattr(args, "schema", None) else None
    parts = [load_attachment(a) for a in attach]
    extra = connection_extra(args)
    provider = open_provider(extra, console)
    store = None
    try:
        dotenv_path = provider.settings.dotenv_path
        store = open_log(args, console, dotenv_path)
        resuming = bool(getattr(args, "continue_", False) or getattr(args, "cid", None))
        row = resume(store, getattr(args, "cid", None)) if resuming and store else None
        model = args.model or (row["model"] if row else None)
        provider.connect(resolve_model(model, dotenv_path))
        _embedding_refusal(provider)
        system = args.system if args.system is not None else (row["system"] if row else None)
        runner = LoggedChatRunner(provider, console, as_json=args.json, system=system,
                                  options=options, store=store,
                                  conversation_id=row["id"] if row else None,
                                  history_json=row["history"] if row else None)
        if row is not None:
            console.note(f"continuing conversation {row['id']} "
                         f"({len(provider.get_history())} messages)")
        if prompt == "-":
            piped = _read_stdin(console)
            if piped is None:
                return 2
            prompt = piped
            if not prompt:
                console.error("the prompt read from standard input ('-') is empty: pipe a "
                              "prompt in, or give it as an argument")
                return 2
        if parts or schema is not None:
            runner.reply_with(prompt, parts, schema)
            return 0
        if prompt:
            response = runner.reply(prompt, pretty=True)
            return 130 if response.finish_reason is FinishReason.CANCELLED else 0
        console.note(f"chatting with {provider.model_name} at "
                     f"{shown_endpoint(provider.settings.endpoint)}; /help lists the commands, "
                     "Ctrl-C cancels a reply, /quit or Ctrl-D leaves")
        return runner.interactive()
    finally:
        provider.shutdown()
        if store is not None:
            store.close()
