"""The emulator's own ceiling, measured against the same emulator process the suite uses.

Reuses the leanest clients of ``emulator_ceiling.py`` (raw ``http.client`` keep-alive from N
threads, raw aiohttp at 16 concurrent) so readers can see how far every client row is from the
server's limit: when a client reaches a small fraction of it, the client is the bottleneck.

    python benchmarks/bench_ceiling.py [--quick]
"""

from __future__ import annotations

import asyncio
import sys

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from _common import BenchResult, EmulatorProcess, standalone, stopwatch
from emulator_ceiling import BODY, STREAM_BODY, aiohttp_client, http_client_threads


def run(emu: EmulatorProcess, quick: bool) -> BenchResult:
    """Requests/s the emulator serves to raw clients (no targets: context for the others)."""
    result = BenchResult(
        "ceiling", "0. Emulator ceiling (raw clients, same emulator process)",
        ["client", "width", "req/s", "requests", "errors"])
    duration = 1.0 if quick else 2.0
    host, port = emu.host_port
    with stopwatch(result):
        http_client_threads(host, port, 1, 0.3)  # warm-up
        runs = [http_client_threads(host, port, threads, duration) for threads in (1, 4)]
        for body, label in ((BODY, "non-streaming"), (STREAM_BODY, "streaming (7 chunks)")):
            runs.append(asyncio.run(aiohttp_client(host, port, 16, duration, body, label)))
    for r in runs:
        result.rows.append({"client": r["client"],
                            "width": f"{r.get('threads', r.get('concurrency'))}"
                                     f"{' threads' if 'threads' in r else ' concurrent'}",
                            "req/s": r["requests_per_second"], "requests": r["requests"],
                            "errors": r["errors"]})
    result.notes.append(
        f"{duration:g} s per scenario with the functions of benchmarks/emulator_ceiling.py; "
        "the client shares 2 cores with the emulator process, so these are lower bounds.")
    return result


if __name__ == "__main__":
    sys.exit(standalone(run))
