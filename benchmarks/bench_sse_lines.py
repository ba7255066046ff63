"""Benchmark 8: a streamed line without a newline costs linear time (issue 12).

A hostile or broken server can send one enormous SSE line in many small network blocks. The
parser keeps the unfinished line in a growing buffer and splits only blocks that end a line, so
the work grows linearly with the line. Measured: one ``data:`` line of 1 MiB and of 8 MiB fed to
``SSEParser`` in 4 KiB blocks. Target (a same-run ratio): the 8 MiB line costs at most 16x the
1 MiB line (linear is 8x; the parser before issue 12 re-joined its buffer per block and grew
about 74x, 8.7 s for 8 MiB). For scale, ``bytes.join`` + ``split`` of the same blocks once (the
least any parser must do) is shown beside it. No network.

    python benchmarks/bench_sse_lines.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from _common import (
    BenchResult,
    EmulatorProcess,
    Target,
    environment,
    median,
    ratio,
    render_markdown,
    stopwatch,
)

BLOCK = 4096
TARGET_RATIO = 16.0


def blocks_for(size: int) -> list[bytes]:
    """One chat-completion chunk whose content makes the data line ``size`` bytes, in blocks."""
    text = "x" * size
    line = b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"
    return [line[i:i + BLOCK] for i in range(0, len(line), BLOCK)]


def parse_ms(blocks: list[bytes]) -> float:
    from shared.plugins.model_provider.github_models.wire.streaming import SSEParser

    parser = SSEParser()
    start = time.perf_counter()
    events = []
    for block in blocks:
        events.extend(parser.feed(block))
    elapsed = (time.perf_counter() - start) * 1e3
    assert len(events) == 1
    return elapsed


def join_ms(blocks: list[bytes]) -> float:
    start = time.perf_counter()
    b"".join(blocks).split(b"\n")
    return (time.perf_counter() - start) * 1e3


def run(emu: EmulatorProcess | None, quick: bool) -> BenchResult:
    """Parse time of a 1 MiB and an 8 MiB line, and their ratio."""
    del emu  # no network
    result = BenchResult("sse_lines", "8. One huge SSE line in 4 KiB blocks (hostile stream)",
                         ["line", "parser median ms", "join+split median ms", "vs join+split"])
    runs = 3 if quick else 7
    times: dict[int, float] = {}
    base: dict[int, float] = {}
    with stopwatch(result):
        for mib in (1, 8):
            blocks = blocks_for(mib * 1024 * 1024)
            parsed = median([parse_ms(blocks) for _ in range(runs)])
            joined = median([join_ms(blocks) for _ in range(runs)])
            times[mib], base[mib] = parsed, joined
            result.rows.append({"line": f"{mib} MiB", "parser median ms": round(parsed, 2),
                                "join+split median ms": round(joined, 2),
                                "vs join+split": ratio(parsed, joined)})
    growth = ratio(times[8], times[1])
    result.targets.append(Target("8 MiB line vs 1 MiB line (parse time)",
                                 f"≤ {TARGET_RATIO:g}× (linear: 8×, quadratic: 64×)",
                                 f"{growth:g}× (join+split: {ratio(base[8], base[1]):g}×)",
                                 growth <= TARGET_RATIO))
    result.notes.append(f"median of {runs} runs; the line cap is 16 MiB (a longer line is a "
                        "StreamInterruptedError).")
    return result


if __name__ == "__main__":
    quick_run = "--quick" in sys.argv[1:]
    print(render_markdown([run(None, quick_run)], environment(), quick_run))
