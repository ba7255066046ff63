"""The ``jaato-github-models`` console script: the CLI, with Ctrl-C caught while it loads.

The script imports this module first; a Ctrl-C while ``cli.main`` and its imports load exits 130
with one ``interrupted`` line instead of a traceback (``cli.main.main`` covers everything after).
"""

from __future__ import annotations

import contextlib
import signal
import sys

__all__ = ["main"]


def _interrupted(signum: int, frame: object) -> None:
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write("interrupted\n")
    raise SystemExit(130)


def main() -> int:
    """Load and run the CLI; 130 when interrupted while loading."""
    try:
        from .cli.main import main as cli_main
    except KeyboardInterrupt:
        _interrupted(signal.SIGINT, None)
    # the package __init__ made Ctrl-C quiet while it loaded (the console script imports it
    # before this module); from here cli.main turns KeyboardInterrupt into exit 130
    if getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "_quiet_interrupt":
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return cli_main()
