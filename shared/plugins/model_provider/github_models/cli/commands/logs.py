"""``jaato-github-models logs``: list, show and search the conversation log, or export it."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ..arguments import add_command
from ..output import Console, format_usd

__all__ = ["register", "run"]


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _usage(row: dict[str, Any]) -> str:
    tokens = f"{row['prompt_tokens'] or 0} in + {row['output_tokens'] or 0} out"
    if row.get("usage_estimated"):
        tokens += " (estimated)"
    cost = f", est. {format_usd(row['cost_usd'])}" if row.get("cost_usd") is not None else ""
    took = f", {row['duration_ms'] / 1000:.1f} s" if row.get("duration_ms") is not None else ""
    return tokens + cost + took


def _print_turn(console: Console, row: dict[str, Any]) -> None:
    console.print(console.style(f"## {_when(row['created'])} · {row['model']} · conversation "
                                f"{row['conversation_id']}", "bold"))
    console.print(f"endpoint: {row['endpoint']} · {_usage(row)} · "
                  f"finish: {row['finish_reason']}")
    if row.get("system"):
        console.print(f"system: {row['system']}")
    console.print(f"\n> {row['prompt']}\n")
    console.print(row["response"])
    for call in row.get("tool_calls") or ():
        console.print(f"[tool call] {call.get('name')}({call.get('args')})")
    console.print()


def run(args: argparse.Namespace, console: Console) -> int:
    """Every chat exchange is logged to SQLite (see 'logs path'); JAATO_GITHUB_LOG_DB chooses
    the file, --no-log or JAATO_GITHUB_LOG=false turns logging off.

    The actions are ``list``, ``show``, ``search`` and ``path``. Returns the exit code.

    Raises:
        LogStoreError: The log cannot be opened or read.
    """
    from ..log import LogStore, default_db_path  # the log (and the errors) load only here

    action = args.logs_command or "list"
    path = default_db_path()
    if action == "path":
        console.print(str(path))
        return 0
    if not path.exists():
        if args.json:
            console.json([] if action != "show" else None)
        console.note(f"no conversations logged yet ({path} does not exist); chat with "
                     "`jaato-github-models chat` and they appear here")
        return 0 if action != "show" else 1
    with LogStore(path, scrub=console.scrub) as store:
        if action == "show":
            conversation = store.conversation(args.cid)
            if conversation is None:
                console.error(f"no logged conversation {args.cid or ''} in {path}; "
                              "`jaato-github-models logs` lists them")
                return 1
            turns = list(reversed(store.responses(conversation_id=conversation["id"])))
            if args.json:
                conversation.pop("history", None)
                console.json({**conversation, "responses": turns})
                return 0
            for row in turns:
                _print_turn(console, row)
            return 0
        query = args.query if action == "search" else None
        rows = list(reversed(store.responses(limit=args.limit, query=query)))
        if args.json:
            console.json(rows)
            return 0
        if not rows:
            console.note("no logged exchange matches" if query else "the log is empty")
            return 0 if not query else 1
        for row in rows:
            _print_turn(console, row)
        return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``logs`` (``list``, ``show``, ``search``, ``path``) to the CLI's sub-parsers."""
    logs = add_command(sub, common, "logs", "list, show and search logged chats", run)
    logs.set_defaults(logs_command="list", limit=3, query=None, json=False, cid=None)
    actions = logs.add_subparsers(dest="logs_command", metavar="ACTION")

    def listing(parser: argparse.ArgumentParser, count: int) -> None:
        parser.add_argument("-n", "--count", dest="limit", type=int, default=count,
                            metavar="N", help=f"how many exchanges, newest first (default "
                                              f"{count}; 0 for all)")
        parser.add_argument("--json", action="store_true", help="print a JSON array")

    listing(logs, 3)
    listing(actions.add_parser("list", parents=[common], help="the latest exchanges"), 3)
    show = actions.add_parser("show", parents=[common], help="one conversation, every turn")
    show.add_argument("cid", nargs="?", metavar="ID", help="conversation id (default: latest)")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    search = actions.add_parser("search", parents=[common], help="full-text search (FTS5)")
    search.add_argument("query", metavar="TEXT", help="words to find in prompts and replies")
    listing(search, 10)
    actions.add_parser("path", parents=[common], help="print the database file's path")
