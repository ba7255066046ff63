"""Run the whole benchmark suite and write ``benchmarks/results/latest.{json,md}``.

Each benchmark gets a fresh emulator in its own process (except goodput, which starts its own
scaled-clock one, and history, which needs none) and compares the provider with baselines
measured in the same run against that same emulator. Prints the markdown report.

    python benchmarks/run_all.py            # full run, ~3 minutes on 2 cores
    python benchmarks/run_all.py --quick    # ~1 minute
    python benchmarks/run_all.py --only async     # one benchmark -> results/partial.{json,md}
    python benchmarks/run_all.py --update-docs                 # also refresh docs/performance.md

Not part of the test run: nothing here is collected by pytest or asserts a wall-clock target.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_async
import bench_ceiling
import bench_cold_start
import bench_goodput
import bench_history
import bench_latency
import bench_peers
import bench_shared_quota
import bench_sse_lines
import bench_streaming
import bench_tracing
from _common import REPO, BenchResult, EmulatorProcess, Target, write_results

Runner = Callable[[EmulatorProcess, bool], BenchResult]
# name -> (run function, whether it needs the shared-style emulator)
BENCHMARKS: dict[str, tuple[Callable[..., BenchResult], bool]] = {
    "ceiling": (bench_ceiling.run, True),
    "latency": (bench_latency.run, True),
    "async": (bench_async.run, True),
    "streaming": (bench_streaming.run, True),
    "cold_start": (bench_cold_start.run, True),
    "goodput": (bench_goodput.run, False),
    "history": (bench_history.run, False),
    "tracing": (bench_tracing.run, True),
    "shared_quota": (bench_shared_quota.run, False),
    "sse_lines": (bench_sse_lines.run, False),
    "peers": (bench_peers.run, False),
}
DOCS = REPO / "docs" / "performance.md"
SECTION = "## Results"


def run_one(name: str, quick: bool) -> BenchResult:
    """Run one benchmark; a crash becomes a result that says so instead of ending the suite."""
    fn, needs_emulator = BENCHMARKS[name]
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", file=sys.stderr, flush=True)
    try:
        if not needs_emulator:
            return fn(None, quick)
        with EmulatorProcess() as emu:
            return fn(emu, quick)
    except Exception as exc:
        traceback.print_exc()
        return BenchResult(name, f"{name} (failed)", ["error"],
                           rows=[{"error": f"{type(exc).__name__}: {exc}"}],
                           targets=[Target(name, "run", "crashed", None, str(exc)[:200])])


def docs_section(markdown: str, command: str) -> str:
    """The ``## Results`` section for docs/performance.md: the report, headings demoted."""
    body = markdown.split("\n", 1)[1].lstrip("\n")  # drop the report's own title
    body = "\n".join("#" + line if line.startswith("## ") else line
                     for line in body.splitlines())
    return (f"{SECTION}\n\nProduced by `{command}` (machine-readable: "
            "`benchmarks/results/latest.json`; the same tables: `benchmarks/results/latest.md`). "
            "Numbers are ratios against baselines measured in the same run; absolute times "
            "depend on the machine.\n\n" + body.rstrip() + "\n")


def update_docs(markdown: str, command: str) -> None:
    """Add or replace only the ``## Results`` section of docs/performance.md."""
    section = docs_section(markdown, command)
    if not DOCS.exists():
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text("# Performance\n\nHow the provider compares with the SDKs it wraps; "
                        "run `make bench` to reproduce.\n\n" + section)
        return
    text = DOCS.read_text()
    start = text.find("\n" + SECTION + "\n")
    if start < 0:
        DOCS.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    start += 1
    nxt = text.find("\n## ", start + len(SECTION))
    end = len(text) if nxt < 0 else nxt + 1
    DOCS.write_text(text[:start] + section + ("\n" + text[end:] if nxt >= 0 else ""))


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks, write the results files and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~1 minute)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--output", help="results file stem (default: latest for a whole "
                        "run, partial with --only, so a partial run never replaces latest)")
    parser.add_argument("--update-docs", action="store_true",
                        help="add/replace the '## Results' section of docs/performance.md")
    args = parser.parse_args(argv)
    if args.only and args.update_docs:
        parser.error("--update-docs needs the whole suite (drop --only)")
    stem = args.output or ("partial" if args.only else "latest")
    start = time.perf_counter()
    results = [run_one(name, args.quick) for name in (args.only or BENCHMARKS)]
    json_path, md_path, text = write_results(results, args.quick, stem)
    print(text)
    print(f"total {time.perf_counter() - start:.0f} s; wrote {json_path.relative_to(REPO)} "
          f"and {md_path.relative_to(REPO)}")
    if args.update_docs:
        command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
        update_docs(text, command)
        print(f"updated the '{SECTION}' section of {DOCS.relative_to(REPO)}")
    return 1 if any(t.value == "crashed" for r in results for t in r.targets) else 0


if __name__ == "__main__":
    sys.exit(main())
