"""The CLI's shared arguments: the program name, the default model, and the option groups
several commands take (connection, request options, model). Imports argparse only: every
command module uses this while the parser is built.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_MODEL", "PROG", "add_command", "add_connection_options", "add_model_option",
           "add_request_options"]

PROG = "jaato-github-models"
DEFAULT_MODEL = "openai/gpt-4o"
# in the help text; tests/test_cli_layout.py checks it names every kind of kinds.profiles
KINDS_SHOWN = "github, openai_v1, foundry, legacy, gateway or auto"


def _endpoint_kind(value: str) -> str:
    """``--endpoint-kind``'s value; refused without echoing it (argparse's ``choices`` message
    quotes the value: a key typed there by mistake would land on the terminal).

    Raises:
        argparse.ArgumentTypeError: Not one of the kinds.
    """
    from ..kinds.profiles import ENDPOINT_KINDS  # the one list: only when the option is used

    kinds = ("auto", *ENDPOINT_KINDS)
    if value.strip().lower() not in kinds:
        raise argparse.ArgumentTypeError(f"not a kind of endpoint; choose from {', '.join(kinds)}")
    return value.strip().lower()


def add_command(sub: Any, common: argparse.ArgumentParser, name: str, summary: str,
                handler: Callable[..., int]) -> argparse.ArgumentParser:
    """``name``'s parser on the CLI's sub-parsers, bound to ``handler``, with the options every
    command takes (``common``: ``--debug``). ``summary`` is its line in ``--help``; the first
    paragraph of the handler's docstring is its description (as ``click`` and ``llm`` do), so
    what a command does is written once. Raises nothing."""
    doc = inspect.getdoc(handler)  # None under python -OO: the summary stands in
    description = " ".join(doc.split("\n\n", 1)[0].split()) if doc else summary
    parser: argparse.ArgumentParser = sub.add_parser(name, parents=[common], help=summary,
                                                     description=description)
    parser.set_defaults(func=handler)
    return parser


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--endpoint``, ``--endpoint-kind``, ``--org``, ``--no-pacing``, ``--no-tier-limits``."""
    parser.add_argument("--endpoint", metavar="URL",
                        help="endpoint URL (overrides JAATO_GITHUB_ENDPOINT and .env)")
    parser.add_argument("--endpoint-kind", metavar="KIND", type=_endpoint_kind,
                        help=f"kind of endpoint when its URL does not say it: {KINDS_SHOWN} "
                             "(overrides JAATO_GITHUB_ENDPOINT_KIND)")
    parser.add_argument("--org", metavar="LOGIN",
                        help="organization to attribute usage to (overrides "
                             "JAATO_GITHUB_ORGANIZATION)")
    parser.add_argument("--no-pacing", action="store_true",
                        help="do not pace requests to the free-tier limits (paid usage, custom "
                             "endpoints; same as JAATO_GITHUB_PACING=false)")
    parser.add_argument("--no-tier-limits", action="store_true",
                        help="do not refuse prompts above the free tier's per-request token cap "
                             "(same as JAATO_GITHUB_ENFORCE_TIER_LIMITS=false)")


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """``--option/-o NAME VALUE`` (repeatable)."""
    parser.add_argument("--option", "-o", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="any request option the provider accepts (temperature, top_p, "
                             "max_tokens, stop, seed, frequency_penalty, presence_penalty, "
                             "response_format ...); VALUE is read as JSON when it parses; "
                             "repeatable")


def add_model_option(parser: argparse.ArgumentParser) -> None:
    """``--model/-m ID``."""
    parser.add_argument("--model", "-m", metavar="ID",
                        help=f"model id (default: JAATO_GITHUB_MODEL, else {DEFAULT_MODEL})")
