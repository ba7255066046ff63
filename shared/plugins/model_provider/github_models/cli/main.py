"""``jaato-github-models``: the parser, the dispatch and the error policy.

The commands are the modules of ``commands/`` listed in ``COMMANDS``; each adds its parser and
binds its handler with one ``register(sub, common)``. Errors print as one paragraph on stderr
(``GitHubModelsError`` messages already say what, why and how to fix) with exit code 1, without a
traceback unless ``--debug``. Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import traceback
from types import ModuleType

from ..common.service_facts import RETIREMENT_DATE
from .arguments import PROG
from .commands import chat, doctor, embed, emulator, logs, models, prompts, quota
from .output import Console, ConsoleLogHandler

__all__ = ["COMMANDS", "build_parser", "main"]

# every command, in --help order: a module with register(sub, common) (see commands/__init__)
COMMANDS: tuple[ModuleType, ...] = (chat, models, doctor, logs, prompts, quota, embed, emulator)
_LOGGER = (__package__ or __name__).rpartition(".")[0]  # jaato_github_models when installed


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: each module of ``COMMANDS`` registers its own sub-command."""
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
    for command in COMMANDS:
        command.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (``SystemExit`` from argparse is turned into it).

    Ctrl-C at any moment returns 130 with one ``interrupted`` line, never a traceback.
    """
    try:
        early = signal.getsignal(signal.SIGINT)  # __main__'s, set only under ``python -m``
        if getattr(early, "__name__", "") == "_interrupted_early":
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
    parser = build_parser()
    try:
        args, rest = parser.parse_known_args(args_list)
        if getattr(args, "takes_rest", False):  # a command with options of its own (emulator)
            args.rest = rest
        elif rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help()
        return 2
    console = Console()
    # known before any setting is read: a key set in another setting by mistake (and quoted
    # by its error, e.g. in doctor's table) is never printed
    console.add_secret(os.environ.get("GITHUB_TOKEN", "").strip() or None)
    if getattr(args, "takes_rest", False):  # a command line of its own (the emulator): its own
        code: int = args.func(args, console)  # logging and errors, as `python -m` it has
        return code
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
        from ..errors import GitHubModelsError, TokenNotFoundError
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
        from .advice import first_run_message
        from .connect import connection_extra

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

