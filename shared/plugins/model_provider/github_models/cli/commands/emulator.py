"""``jaato-github-models emulator``: the bundled emulator's own command line (its options are
``emulator/__main__.py``'s, passed through untouched)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..arguments import PROG

if TYPE_CHECKING:
    from ..output import Console

__all__ = ["register", "run"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``emulator`` to the CLI's sub-parsers; every argument after it is the emulator's
    (``takes_rest``: the CLI hands them over instead of refusing them, and leaves logging and
    errors to the emulator, as under ``python -m`` the emulator)."""
    emulator = sub.add_parser("emulator", help="run the local GitHub Models emulator",
                              description="See '%(prog)s --help' for its options.",
                              add_help=False)
    emulator.set_defaults(func=run, takes_rest=True, rest=[])


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the emulator until SIGINT/SIGTERM; ``--help`` prints its options. Returns the exit
    code (2 for a bad option or script)."""
    from ...emulator.__main__ import build_parser, main

    argv = list(args.rest)
    if any(a in ("-h", "--help") for a in argv):
        build_parser(prog=f"{PROG} emulator").print_help()
        return 0
    return main(argv)
