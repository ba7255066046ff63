"""``jaato-github-models``: chat, logs, prompt files and evals, models, embed, doctor, emulator.

Argument parsing, dispatch and the error policy live here; the commands are in ``cli_chat``,
``cli_logs``, ``cli_prompt``, ``cli_models``, ``cli_embed``, ``cli_doctor`` and the emulator's own
``__main__``. Errors print as one paragraph
on stderr (``GitHubModelsError`` messages already say what, why and how to fix) with exit code 1,
without a traceback unless ``--debug``. Exit codes: 0 success, 1 failure, 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import signal

if __name__ == "__main__":  # ``python -m``: Ctrl-C while the imports below run exits quietly
    def _interrupted_early(signum: int, frame: object) -> None:
        import sys

        if sys.stderr is not None:
            sys.stderr.write("interrupted\n")
        raise SystemExit(130)

    signal.signal(signal.SIGINT, _interrupted_early)

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from .cli_output import Console, ConsoleLogHandler
from .common.service_facts import RETIREMENT_DATE

__all__ = ["DEFAULT_MODEL", "PROG", "build_parser", "main"]

PROG = "jaato-github-models"
DEFAULT_MODEL = "openai/gpt-4o"
_LOGGER = __name__.rpartition(".")[0]  # the package: jaato_github_models when installed

Command = Callable[[argparse.Namespace, Console], int]


def _version() -> str:
    from . import __version__

    return __version__


_KINDS = ("auto", "github", "legacy", "foundry", "gateway")


def _endpoint_kind(value: str) -> str:
    """``--endpoint-kind``'s value; refused without echoing it (argparse's ``choices`` message
    quotes the value: a key typed there by mistake would land on the terminal)."""
    if value.strip().lower() not in _KINDS:
        raise argparse.ArgumentTypeError(f"not a kind of endpoint; choose from {', '.join(_KINDS)}")
    return value.strip().lower()


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", metavar="URL",
                        help="endpoint URL (overrides JAATO_GITHUB_ENDPOINT and .env)")
    parser.add_argument("--endpoint-kind", metavar="KIND", type=_endpoint_kind,
                        help="kind of endpoint when its URL does not say it: github, legacy, "
                             "foundry, gateway or auto (overrides JAATO_GITHUB_ENDPOINT_KIND)")
    parser.add_argument("--org", metavar="LOGIN",
                        help="organization to attribute usage to (overrides "
                             "JAATO_GITHUB_ORGANIZATION)")
    parser.add_argument("--no-pacing", action="store_true",
                        help="do not pace requests to the free-tier limits (paid usage, custom "
                             "endpoints; same as JAATO_GITHUB_PACING=false)")
    parser.add_argument("--no-tier-limits", action="store_true",
                        help="do not refuse prompts above the free tier's per-request token cap "
                             "(same as JAATO_GITHUB_ENFORCE_TIER_LIMITS=false)")


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--option", "-o", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="any request option the provider accepts (temperature, top_p, "
                             "max_tokens, stop, seed, frequency_penalty, presence_penalty, "
                             "response_format ...); VALUE is read as JSON when it parses; "
                             "repeatable")


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "-m", metavar="ID",
                        help=f"model id (default: JAATO_GITHUB_MODEL, else {DEFAULT_MODEL})")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (the ``emulator`` sub-command's options are the emulator's own)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and the provider's debug log")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Chat with, list and diagnose models on endpoints that speak the GitHub "
                    "Models protocol (GitHub Models itself was retired on "
                    f"{RETIREMENT_DATE}).",
        epilog="Configuration comes from the environment and .env (GITHUB_TOKEN, "
               "JAATO_GITHUB_ENDPOINT, JAATO_GITHUB_ORGANIZATION, JAATO_GITHUB_MODEL ...). "
               "Run '%(prog)s doctor' when something does not work.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show tracebacks and the provider's debug log")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", parents=[common], help="talk to a model (streamed)",
                          description="One-shot when PROMPT is given, interactive otherwise "
                                      "(/help lists the commands). Ctrl-C cancels the current "
                                      "reply, not the session.")
    _add_model_option(chat)
    chat.add_argument("--system", "-s", metavar="TEXT", help="system instruction")
    chat.add_argument("--temperature", type=float, metavar="T", help="sampling temperature 0-1")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="cap on reply tokens")
    _add_request_options(chat)
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
    _add_connection_options(chat)
    chat.add_argument("--json", action="store_true",
                      help="print one JSON object (text, usage, cost) per reply instead of "
                           "streamed text")
    chat.add_argument("prompt", nargs="*", metavar="PROMPT", help="the message (one-shot)")
    chat.set_defaults(func=_lazy("cli_chat", "run_chat"))

    models = sub.add_parser("models", parents=[common], help="list models and their limits",
                            description="The static catalog (no token or network needed), or "
                                        "the endpoint's live catalog with --live.")
    models.add_argument("--prefix", metavar="P", help="only ids starting with P (e.g. openai/)")
    models.add_argument("--json", action="store_true",
                        help="print a JSON array of catalog entries (later API format)")
    models.add_argument("--live", action="store_true",
                        help="fetch GET /catalog/models from the endpoint (cached; falls back "
                             "to the static catalog)")
    models.add_argument("--refresh", action="store_true",
                        help="with --live: ignore the cache and fetch now")
    _add_connection_options(models)
    models.set_defaults(func=_lazy("cli_models", "run_models"))

    doctor = sub.add_parser("doctor", parents=[common], help="check the setup step by step",
                            description="Token, .env, endpoint, retirement, auth, organization, "
                                        "model and rate limits: PASS/FAIL/SKIP with the next "
                                        "step. Exit code 0 when no check failed.")
    _add_model_option(doctor)
    _add_connection_options(doctor)
    doctor.add_argument("--json", action="store_true", help="machine-readable result")
    doctor.set_defaults(func=_lazy("cli_doctor", "run_doctor"))

    _add_log_commands(sub, common)
    _add_prompt_commands(sub, common)
    from .cli_quota import add_quota_command

    quota = add_quota_command(sub, [common])
    _add_connection_options(quota)
    quota.set_defaults(func=_lazy("cli_quota", "run_quota"))

    from .cli_embed import add_embed_command

    embed = add_embed_command(sub, [common])
    _add_connection_options(embed)
    embed.set_defaults(func=_lazy("cli_embed", "run_embed"))

    sub.add_parser("emulator", help="run the local GitHub Models emulator",
                   description="See '%(prog)s --help' for its options.", add_help=False)
    return parser


def _add_log_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    logs = sub.add_parser("logs", parents=[common], help="list, show and search logged chats",
                          description="Every chat exchange is logged to SQLite (see 'logs "
                                      "path'); JAATO_GITHUB_LOG_DB chooses the file, --no-log "
                                      "or JAATO_GITHUB_LOG=false turns logging off.")
    logs.set_defaults(func=_lazy("cli_logs", "run_logs"), logs_command="list", limit=3,
                      query=None, json=False, cid=None)
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


def _add_prompt_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser("run", parents=[common], help="run a .prompt.yml file",
                         description="Fill the {{variables}} of a GitHub .prompt.yml file "
                                     "(name, model, modelParameters, messages) and print the "
                                     "reply.")
    run.add_argument("file", metavar="FILE.prompt.yml")
    run.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                     help="a template variable; repeatable ({{input}} may also come from "
                          "stdin)")
    _add_model_option(run)
    _add_request_options(run)
    _add_connection_options(run)
    run.add_argument("--json", action="store_true", help="print a JSON object")
    run.set_defaults(func=_lazy("cli_prompt", "run_prompt"))

    ev = sub.add_parser("eval", parents=[common], help="evaluate a .prompt.yml file's testData",
                        description="Run every testData row through the prompt and score the "
                                    "reply with the file's evaluators (string checks, "
                                    "LLM-as-judge, GitHub's built-in github/... evaluators). "
                                    "Exit code 1 when any evaluation fails.")
    ev.add_argument("file", metavar="FILE.prompt.yml")
    _add_model_option(ev)
    ev.add_argument("--judge-model", metavar="ID",
                    help="model for LLM-as-judge evaluators (default: the evaluator's own "
                         "modelId, else the prompt's model)")
    ev.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    ev.add_argument("--report", metavar="PATH", help="also write the JSON report to PATH")
    _add_connection_options(ev)
    ev.set_defaults(func=_lazy("cli_prompt", "run_eval"))


def _lazy(module: str, name: str) -> Command:
    """A command imported on first use, so ``--help`` and ``models`` stay quick."""

    def run(args: argparse.Namespace, console: Console) -> int:
        import importlib

        mod = importlib.import_module(f"{__package__}.{module}")
        command: Command = getattr(mod, name)
        return command(args, console)

    return run


def _run_emulator(argv: list[str]) -> int:
    from .emulator.__main__ import build_parser as emulator_parser
    from .emulator.__main__ import main as emulator_main

    if any(a in ("-h", "--help") for a in argv):
        emulator_parser(prog=f"{PROG} emulator").print_help()
        return 0
    return emulator_main(argv)


def _command_index(argv: Sequence[str]) -> int | None:
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            return i
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (``SystemExit`` from argparse is turned into it).

    Ctrl-C at any moment returns 130 with one ``interrupted`` line, never a traceback.
    """
    try:
        early = globals().get("_interrupted_early")  # set only under ``python -m``
        if early is not None and signal.getsignal(signal.SIGINT) is early:
            signal.signal(signal.SIGINT, signal.default_int_handler)  # KeyboardInterrupt again
        return _main(argv)
    except KeyboardInterrupt:
        if sys.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("interrupted\n")
        return 130


def _main(argv: list[str] | None) -> int:
    if sys.stdout is None or _closed(sys.stdout):
        if sys.stderr is not None:
            sys.stderr.write("error: standard output is closed, so no result can be shown: run "
                             "again with it open (redirect it to a file or /dev/null to discard "
                             "it)\n")
        return 2
    args_list = list(sys.argv[1:] if argv is None else argv)
    index = _command_index(args_list)
    if index is not None and args_list[index] == "emulator":
        return _run_emulator(args_list[index + 1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help()
        return 2
    console = Console()
    # known before any setting is read: a key set in another setting by mistake (and quoted
    # by its error, e.g. in doctor's table) is never printed
    console.add_secret(os.environ.get("GITHUB_TOKEN", "").strip() or None)
    return _dispatch(args, console)


def _closed(stream: object) -> bool:
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return True
    except AttributeError:  # a stream without a descriptor (tests' StringIO) is open
        return False
    return False


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    debug = bool(getattr(args, "debug", False))
    handler = ConsoleLogHandler(console, logging.DEBUG if debug else logging.WARNING)
    logger = logging.getLogger(_LOGGER)
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    logger.propagate = False
    # Third-party records (azure, urllib3, python-dotenv) never print raw above our errors:
    # with --debug they go through the console (scrubbed), otherwise they are dropped.
    root_handler: logging.Handler = (ConsoleLogHandler(console, logging.DEBUG) if debug
                                     else logging.NullHandler())
    logging.getLogger().addHandler(root_handler)
    try:
        from .errors import GitHubModelsError, TokenNotFoundError
    except KeyboardInterrupt:
        logging.getLogger().removeHandler(root_handler)
        raise
    try:
        code: int = args.func(args, console)
        return code
    except KeyboardInterrupt:
        console.note("interrupted")
        return 130
    except TokenNotFoundError as exc:
        from .cli_advice import first_run_message
        from .cli_chat import connection_extra

        _report(console, first_run_message(connection_extra(args)) or str(exc), exc, debug)
        return 1
    except GitHubModelsError as exc:
        _report(console, str(exc), exc, debug)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, with nothing left to flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        what = f"unexpected {type(exc).__name__}: {exc}"
        if not debug:
            what += " (run again with --debug for the traceback)"
        _report(console, what, exc, debug)
        return 1
    finally:
        logger.removeHandler(handler)
        logging.getLogger().removeHandler(root_handler)
        logger.setLevel(previous_level)
        logger.propagate = True


def _report(console: Console, message: str, exc: BaseException, debug: bool) -> None:
    if debug:
        console.note("".join(traceback.format_exception(exc)).rstrip())
    console.error(message)


if __name__ == "__main__":
    _code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # finishing: a late Ctrl-C changes nothing
    raise SystemExit(_code)
