"""``python -m`` the CLI: the same command line as the ``jaato-github-models`` script."""

from __future__ import annotations

import signal
import sys


def _interrupted_early(signum: int, frame: object) -> None:
    """Ctrl-C while the imports below run: one ``interrupted`` line, exit 130
    (``main.main`` restores the default handler once it can catch ``KeyboardInterrupt``)."""
    if sys.stderr is not None:
        sys.stderr.write("interrupted\n")
    raise SystemExit(130)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _interrupted_early)
    from .main import main

    _code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # finishing: a late Ctrl-C changes nothing
    raise SystemExit(_code)
