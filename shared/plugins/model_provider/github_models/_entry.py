"""The ``jaato-github-models`` console script: the CLI, with Ctrl-C caught while it loads.

The script imports this module first; a Ctrl-C while ``cli`` and its imports load exits 130
with one ``interrupted`` line instead of a traceback (``cli.main`` covers everything after).
"""

from __future__ import annotations

import contextlib
import sys

__all__ = ["main"]


def main() -> int:
    """Load and run the CLI; 130 when interrupted while loading."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        if sys.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("interrupted\n")
        return 130
    return cli_main()
