"""Run the emulator as a process: ``python -m <this package>``.

Prints the base URL on the first line of stdout once the server accepts connections, then serves
until SIGINT or SIGTERM. ``main`` is also what ``jaato-github-models emulator`` delegates to.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .server import Emulator
from .state import MODES

__all__ = ["build_parser", "main"]


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser (shared with the project CLI's ``emulator`` sub-command)."""
    parser = argparse.ArgumentParser(
        prog=prog or "python -m shared.plugins.model_provider.github_models.emulator",
        description="Serve a local GitHub Models emulator (inference, org inference, legacy "
        "/chat/completions, /catalog/models).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--mode", choices=MODES, default="normal", help="service mode")
    parser.add_argument(
        "--rate-limits", action="store_true", help="enforce the free-tier request limits (429)"
    )
    parser.add_argument(
        "--token-limits", action="store_true", help="enforce per-request input-token caps (413)"
    )
    parser.add_argument(
        "--enforce-tier-limits", action="store_true",
        help="enforce GitHub's free tier as models.github.ai did: --rate-limits and --token-limits"
    )
    parser.add_argument(
        "--stream-style", choices=("openai", "azure"), default="openai", help="chunk shape"
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="accept only these tokens (repeatable; default: any non-empty token)",
    )
    parser.add_argument(
        "--request-log-limit",
        type=int,
        default=10_000,
        help="requests kept in memory (default 10000)",
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="serve the replies of this JSON Lines file in order (text, tool calls, errors, "
        "faults), then answer as usual",
    )
    parser.add_argument(
        "--request-log",
        metavar="FILE",
        help="write every request (credentials redacted) to this JSON Lines file as it arrives",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM. Returns the process exit code."""
    args = build_parser().parse_args(argv)
    emulator = Emulator(
        mode=args.mode,
        rate_limits=args.rate_limits or args.enforce_tier_limits,
        token_limits=args.token_limits or args.enforce_tier_limits,
        stream_style=args.stream_style,
        host=args.host,
        port=args.port,
        request_log_limit=max(1, args.request_log_limit),
    )
    for token in args.token:
        emulator.add_token(token)
    from .script_file import RequestLogWriter, ScriptError, load_script

    try:
        for reply, model in load_script(args.script) if args.script else ():
            emulator.script(reply, model=model)
        if args.request_log:
            emulator.log_requests_to(RequestLogWriter(args.request_log))
    except (ScriptError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            emulator.start()
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(emulator.url, flush=True)
        print(
            f"GitHub Models emulator on {emulator.url} (mode {args.mode}); "
            f"set JAATO_GITHUB_ENDPOINT={emulator.inference_url} (or {emulator.v1_url} for "
            "Foundry's OpenAI v1 route). Ctrl-C to stop.",
            file=sys.stderr,
            flush=True,
        )
        while not done.wait(0.5):
            pass
        return 0
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
